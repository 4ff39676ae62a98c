"""Response shapes, declared so that ``/openapi.json`` describes what the API really returns
(the dashboard's types are generated from it, and schemathesis checks responses against it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from papertape.domain.orders import OrderStatus, OrderType, Side
from papertape.domain.session import Mode, SessionState

# What the stores can hold: sequence numbers are 64-bit signed integers; timestamps are
# microseconds, kept well inside that range (2**62 µs is the year 148,000)
SEQ_MAX = 2**63 - 1
TS_US_MAX = 2**62


class ErrorResponse(BaseModel):
    status: Literal["error"]
    error_code: str = Field(description="stable machine code, e.g. session_not_found")
    message: str
    details: Any = None
    session_id: str | None = None


class FeedStatusView(BaseModel):
    state: str
    reconnects: int
    gaps: int
    events: int
    last_event_ts: int | None
    message: str
    progress: float | None = Field(None, description="share of a replay delivered, 0..1")
    duplicates: int = Field(0, description="repeated prints dropped (live exchange feeds)")
    out_of_order: int = Field(0, description="prints older than one already delivered")
    symbols: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per symbol: state, counts, gap spans (exchange feeds)"
    )


class SessionView(BaseModel):
    session_id: str
    state: SessionState
    mode: Mode
    symbols: list[str]
    label: str | None
    created_at: str
    updated_at: str
    started_at: str | None
    ended_at: str | None
    stop_reason: str | None
    error_code: str | None
    error_message: str | None
    idempotency_key: str | None
    last_seq: int
    running_here: bool = Field(description="a runner for it is alive in this server now")
    feed: FeedStatusView | None
    metrics: dict[str, Any] | None = Field(
        None, description="performance metrics of a trading session (final once it ended)"
    )
    counters: dict[str, Any]
    config: dict[str, Any] | None = None


class SessionResponse(BaseModel):
    status: str
    data: SessionView


class SessionStartedResponse(BaseModel):
    status: Literal["session_started", "session_exists"]
    data: SessionView


class StopData(BaseModel):
    session_id: str
    stopped_via: Literal["controller", "already_stopped"]
    final_state: SessionState
    stop_reason: str | None
    error_code: str | None


class StopResponse(BaseModel):
    status: Literal["session_stopped"]
    data: StopData


class StopAllData(BaseModel):
    stopped: list[StopData]
    count: int


class StopAllResponse(BaseModel):
    status: Literal["sessions_stopped"]
    data: StopAllData


class SessionPageData(BaseModel):
    sessions: list[SessionView]
    total: int
    limit: int
    offset: int


class SessionListResponse(BaseModel):
    status: Literal["sessions_listed"]
    data: SessionPageData


class EventView(BaseModel):
    seq: int
    ts: str
    kind: str
    data: dict[str, Any]


class EventsData(BaseModel):
    session_id: str
    events: list[EventView]
    last_seq: int


class EventsResponse(BaseModel):
    status: Literal["events_listed"]
    data: EventsData


# --- the trading record: every ``ts`` as ISO-8601 text, and as µs in ``ts_us`` ---------------
class OrderFields(BaseModel):
    """An order's state as recorded (each change is a new row; the newest row per order_id is
    its state)."""

    order_id: str
    symbol: str
    side: Side
    type: OrderType
    qty: float
    price: float | None = Field(description="limit price")
    stop_price: float | None
    status: OrderStatus
    filled_qty: float
    avg_fill_price: float | None
    client_order_id: str
    reason: str = Field(description="why it was rejected or cancelled, or who placed it")


class OrderView(OrderFields):
    ts: str
    ts_us: int
    created_ts: str
    created_ts_us: int


class FillView(BaseModel):
    fill_id: str
    order_id: str
    ts: str
    ts_us: int
    symbol: str
    side: Side
    qty: float
    price: float
    fee: float = Field(description="quote currency; negative for a maker rebate")
    liquidity: Literal["maker", "taker"]


class PositionView(BaseModel):
    """A position at ``ts`` (the newest row per symbol is the current one); ``qty`` is signed,
    negative when short."""

    ts: str
    ts_us: int
    symbol: str
    qty: float
    avg_price: float
    mark_price: float
    realized_pnl: float
    unrealized_pnl: float
    fees: float


class EquityView(BaseModel):
    ts: str
    ts_us: int
    equity: float
    cash: float
    unrealized_pnl: float
    realized_pnl: float
    fees: float


class FundingView(BaseModel):
    """One funding payment of an open perpetual position: ``amount`` is the cash it added
    (negative: paid); ``qty`` the signed position; ``mark_price`` what valued it."""

    ts: str
    ts_us: int
    symbol: str
    rate: float
    qty: float
    mark_price: float
    amount: float
    price_source: Literal["settlement", "mark", "last"]


class FundingData(BaseModel):
    session_id: str
    items: list[FundingView]


class FundingResponse(BaseModel):
    status: Literal["funding_listed"]
    data: FundingData


class OrdersData(BaseModel):
    session_id: str
    items: list[OrderView]


class OrdersResponse(BaseModel):
    status: Literal["orders_listed"]
    data: OrdersData


class FillsData(BaseModel):
    session_id: str
    items: list[FillView]


class FillsResponse(BaseModel):
    status: Literal["fills_listed"]
    data: FillsData


class PositionsData(BaseModel):
    session_id: str
    items: list[PositionView]


class PositionsResponse(BaseModel):
    status: Literal["positions_listed"]
    data: PositionsData


class EquityData(BaseModel):
    session_id: str
    items: list[EquityView]


class EquityResponse(BaseModel):
    status: Literal["equity_listed"]
    data: EquityData


class TradeView(BaseModel):
    """A closed round trip (flat to flat, or to a flip)."""

    symbol: str
    direction: Literal["long", "short"]
    entry_ts: str
    exit_ts: str
    duration_s: float
    qty: float = Field(description="the largest size held")
    entry_price: float = Field(description="volume-weighted")
    exit_price: float = Field(description="volume-weighted")
    gross_pnl: float = Field(description="the price move's PnL, before fees and funding")
    fees: float
    funding: float = Field(description="received (negative: paid) while the trade was open")
    pnl: float = Field(description="net: gross PnL − fees + funding")
    return_pct: float = Field(description="net PnL relative to the entry notional")


class TradesData(BaseModel):
    session_id: str
    items: list[TradeView]


class TradesResponse(BaseModel):
    status: Literal["trades_listed"]
    data: TradesData


class IndicatorPoint(BaseModel):
    time: int = Field(description="the bar's open, seconds since the epoch")
    value: float


class IndicatorSeries(BaseModel):
    strategy: str
    name: str
    output: str
    bar_interval: int
    points: list[IndicatorPoint]


class IndicatorsData(BaseModel):
    session_id: str
    symbol: str
    series: list[IndicatorSeries]


class IndicatorsResponse(BaseModel):
    status: Literal["indicators_listed"]
    data: IndicatorsData


class PlacedOrder(OrderFields):
    """The order as recorded when it was placed (times in µs)."""

    session_id: str
    ts: int
    created_ts: int


class OrderPlacedData(BaseModel):
    order: PlacedOrder


class OrderPlacedResponse(BaseModel):
    status: Literal["order_placed"]
    data: OrderPlacedData


# --- strategies ---------------------------------------------------------------------------
class BuiltinStrategyView(BaseModel):
    name: str
    kind: Literal["builtin"]
    base: str
    description: str
    params_schema: dict[str, Any] = Field(description="JSON schema of its parameters")


class ExampleStrategyView(BaseModel):
    name: str
    kind: Literal["example"]
    base: str
    description: str
    params: dict[str, Any] = Field(description="the rule definition it runs")


class SavedStrategyView(BaseModel):
    name: str
    kind: Literal["saved"]
    base: str
    description: str
    params: dict[str, Any]
    created_at: int = Field(description="µs since the epoch")
    updated_at: int


StrategyView = Annotated[
    BuiltinStrategyView | ExampleStrategyView | SavedStrategyView, Field(discriminator="kind")
]


class StrategiesData(BaseModel):
    strategies: list[StrategyView]


class StrategiesResponse(BaseModel):
    status: Literal["strategies"]
    data: StrategiesData


class StrategySavedData(BaseModel):
    name: str
    base: str
    params: dict[str, Any]
    description: str
    created_at: int
    updated_at: int


class StrategySavedResponse(BaseModel):
    status: Literal["strategy_saved"]
    data: StrategySavedData


class CandleView(BaseModel):
    ts: str
    time: int = Field(description="bar open time, seconds since the epoch (chart libraries' unit)")
    open: float
    high: float
    low: float
    close: float
    volume: float


class CandlesData(BaseModel):
    source: str
    symbol: str
    interval: int
    items: list[CandleView]
    built_from: str | None = Field(
        None, description="what the bars were made of: candles_<seconds>s or trades"
    )
    next_end_us: int | None = Field(
        None, description="older bars exist: ask again with end_us set to this"
    )


class CandlesResponse(BaseModel):
    status: Literal["candles_listed"]
    data: CandlesData


class DatasetView(BaseModel):
    name: str
    kind: str
    symbols: list[str]
    rows: int
    start: str | None
    end: str | None
    created_at: str
    interval: int | None
    origin: str


class DatasetResponse(BaseModel):
    status: str
    data: DatasetView


class DatasetListData(BaseModel):
    datasets: list[DatasetView]


class DatasetListResponse(BaseModel):
    status: Literal["datasets_listed"]
    data: DatasetListData


class HealthData(BaseModel):
    alive: bool
    store: str
    store_reachable: bool
    running_sessions: int
    event_loop_lag_ms: float = Field(
        description="the worst delay of the API's event loop over the last 10 s"
    )
    version: str


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    data: HealthData


class StopRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=200)


# the error replies every route documents, as FastAPI's ``responses=`` takes them
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        401: "missing or wrong API token",
        403: "a request from a foreign origin (cross_origin_refused)",
        404: "not found",
        409: "conflicting state (e.g. no_market_price: an order before the first price)",
        413: "request body too large",
        415: "a body that is not JSON (multipart for uploads)",
        421: "a Host this server does not answer to (host_not_allowed)",
        422: "invalid request",
        503: "store unavailable",
    }.items()
}

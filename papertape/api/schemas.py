"""Response shapes, declared so that ``/openapi.json`` describes what the API really returns
(the dashboard's types are generated from it, and schemathesis checks responses against it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from papertape.domain.session import Mode, SessionState


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


class RecordsData(BaseModel):
    session_id: str
    items: list[dict[str, Any]]


class RecordsResponse(BaseModel):
    status: str
    data: RecordsData


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
    version: str


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    data: HealthData


class StopRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=200)


ERRORS = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        401: "missing or wrong API token",
        404: "not found",
        409: "conflicting state",
        413: "request body too large",
        422: "invalid request",
        503: "store unavailable",
    }.items()
}

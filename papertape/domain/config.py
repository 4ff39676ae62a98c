"""What a user asks for when starting a session: the request body of ``POST /sessions/start``,
the CLI's options, and the ``config`` stored on the session. In the domain, below the engine and
the market sources that read it. Unknown fields are rejected, never
ignored: every field that can be saved is enforced somewhere."""

from __future__ import annotations

import re
from typing import Any, Literal, NoReturn

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from papertape.domain.errors import PapertapeError, ValidationFailed
from papertape.domain.liquidation import (
    DEFAULT_LIQUIDATION_FEE,
    DEFAULT_TIERS,
    Tiers,
    max_notional,
    tiers_from_ccxt,
)
from papertape.domain.session import Mode
from papertape.domain.sweep_config import SweepConfig
from papertape.domain.symbols import canonical


class ClosedModel(BaseModel):
    """A model that rejects unknown fields: every field that can be saved is enforced."""

    model_config = ConfigDict(extra="forbid")


# ``http(s)://host[:port]``, no path: where every URL of an exchange's client can be moved
_BASE_URL = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(:\d{1,5})?/?$")


def check_base_url(base: str) -> str:
    """An ``http(s)://host[:port]`` base without a path (returned without a trailing slash),
    or ``ValidationFailed``."""
    if not _BASE_URL.match(base):
        raise ValidationFailed(
            f"exchange URL must look like http://host:port, not {base!r}",
            details=[{"field": "exchange_url", "message": "scheme http(s), a host, no path"}],
        )
    return base.rstrip("/")


class MarketConfig(ClosedModel):
    source: Literal["exchange", "replay"] = "exchange"
    exchange: str = Field("mexc", min_length=1, max_length=40, description="a ccxt exchange id")
    market_type: Literal["spot", "swap"] = Field(
        "spot", description="spot, or a linear USDT-margined perpetual (swap)"
    )
    dataset: str | None = Field(
        None, max_length=200, description="dataset name or a collect session's id (replay)"
    )
    funding: str | None = Field(
        None,
        max_length=200,
        description="replay source, swap market: a funding dataset whose rates are paid or "
        "received by open positions at each funding time",
    )
    exchange_url: str | None = Field(
        None,
        max_length=200,
        description="exchange source: send every request and websocket of the exchange client "
        "to this http://host:port (a recorder or replay of the exchange) instead",
    )
    mark: str | None = Field(
        None,
        max_length=200,
        description="replay source, swap market: a mark-price dataset; positions are valued, "
        "margined and liquidated at the mark (else at the last price)",
    )
    speed: float = Field(
        1.0, ge=0, le=1_000_000, description="replay speed; 0 replays as fast as possible"
    )
    book_depth: int | None = Field(
        20,
        ge=1,
        le=5_000,
        description="exchange source: book levels per side in each snapshot; null keeps every "
        "level of the local book",
    )
    book_interval: float = Field(
        1.0,
        ge=0,
        le=3_600,
        description="exchange source: seconds between two book snapshots of a symbol (0: each update)",
    )

    @model_validator(mode="after")
    def _replay_needs_dataset(self) -> MarketConfig:
        if self.source == "replay" and not self.dataset:
            _refuse(("dataset",), "a replay source needs a dataset", self)
        if self.exchange_url is not None:
            try:
                check_base_url(self.exchange_url)
            except PapertapeError as exc:
                _refuse(("exchange_url",), exc.message, self)
        for field, what in (("funding", "funding"), ("mark", "a mark price")):
            if getattr(self, field) is None:
                continue
            if self.source != "replay":
                _refuse((field,), f"a {field} dataset is replayed with a replay source", self)
            if self.market_type != "swap":
                _refuse((field,), f"{what} belongs to perpetuals: set market_type 'swap'", self)
        return self


class StrategySpec(ClosedModel):
    name: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)


class FeesConfig(ClosedModel):
    """Fee rates as fractions (0.001 = 0.1 %). ``None`` takes the exchange's default."""

    taker: float | None = Field(None, ge=0, le=0.1)
    maker: float | None = Field(None, ge=-0.01, le=0.1)


class RiskConfig(ClosedModel):
    max_position_notional: float | None = Field(None, gt=0)
    max_open_positions: int | None = Field(None, ge=1)
    daily_loss_limit: float | None = Field(None, gt=0, description="in quote currency")
    max_drawdown_pct: float | None = Field(None, gt=0, le=100)


class VenueConfig(ClosedModel):
    latency_ms: float = Field(
        0, ge=0, le=60_000, description="order entry: the venue sees an order this much later"
    )
    cancel_latency_ms: float = Field(
        0,
        ge=0,
        le=60_000,
        description="a cancel reaches the venue this much later; the order can fill meanwhile",
    )
    response_latency_ms: float = Field(
        0,
        ge=0,
        le=60_000,
        description="the exchange's response: a strategy learns of a fill (on_fill, its "
        "position) this much after the venue made it, and may act on the old position meanwhile",
    )
    latency_jitter_ms: float = Field(
        0,
        ge=0,
        le=60_000,
        description="order entry's random part: an exponential delay of this mean on top of "
        "latency_ms, drawn per order from a generator seeded with latency_seed",
    )
    cancel_latency_jitter_ms: float = Field(
        0, ge=0, le=60_000, description="the same for cancels, on top of cancel_latency_ms"
    )
    response_latency_jitter_ms: float = Field(
        0, ge=0, le=60_000, description="the same for responses, on top of response_latency_ms"
    )
    latency_seed: int = Field(
        0, ge=0, le=2**31 - 1, description="seed of the random delays: the same seed, the same run"
    )
    slippage_bps: float = Field(0, ge=0, le=1_000)
    bar_fill: Literal["next_open", "close"] = "next_open"
    queue_model: Literal["risk_averse", "probabilistic", "trade_through"] = Field(
        "risk_averse",
        description="resting limit orders on order-book data: their place in the level's queue "
        "moves up with trades at their price and, for 'probabilistic', with a share of the "
        "cancels; 'trade_through' fills them only when the market trades through them (the rule "
        "on data without a book)",
    )


class LeverageTier(ClosedModel):
    """One maintenance-margin bracket of a market, in the shape of ccxt's
    ``fetchLeverageTiers`` rows (its output can be pasted as is)."""

    tier: float | None = None
    symbol: str | None = None
    currency: str | None = None
    minNotional: float = Field(0, ge=0)
    maxNotional: float | None = Field(None, gt=0, description="null: no upper bound")
    maintenanceMarginRate: float = Field(ge=0, lt=1)
    maxLeverage: float | None = Field(None, gt=0)
    info: dict[str, Any] | None = Field(
        None, description="the exchange's row; its 'cum' is the bracket's maintenance amount"
    )


class MarginConfig(ClosedModel):
    """How perpetual positions are liquidated (``papertape.domain.liquidation``)."""

    tiers: dict[str, list[LeverageTier]] = Field(
        default_factory=dict,
        description="per symbol, its maintenance-margin brackets (ccxt's fetchLeverageTiers "
        "shape); a symbol not listed uses Binance's USD-M BTCUSDT brackets",
    )
    liquidation_fee: float = Field(
        DEFAULT_LIQUIDATION_FEE,
        ge=0,
        le=0.1,
        description="fraction of the closed notional charged on liquidation (default: "
        "Binance BTCUSDT's exchangeInfo liquidationFee, 1.25 %)",
    )
    liquidation_close: Literal["bankruptcy", "liquidation"] = Field(
        "bankruptcy",
        description="the price a liquidated position is closed at: its bankruptcy price "
        "(equity zero, as the exchange's liquidation engine takes it over) or its liquidation "
        "price",
    )

    @field_validator("tiers")
    @classmethod
    def _tiers_chain(cls, tiers: dict[str, list[LeverageTier]]) -> dict[str, list[LeverageTier]]:
        result = {}
        for symbol, rows in tiers.items():
            try:
                tiers_from_ccxt([r.model_dump() for r in rows])
            except ValueError as exc:
                raise ValueError(f"{symbol}: {exc}") from None
            result[canonical(symbol)] = rows
        return result

    def margin_tiers(self) -> dict[str, Tiers]:
        return {
            s: tiers_from_ccxt([r.model_dump() for r in rows]) for s, rows in self.tiers.items()
        }

    def too_leveraged(self, symbols: list[str], leverage: float) -> list[str]:
        """The symbols whose brackets allow no position at all at ``leverage``."""
        tiers = self.margin_tiers()
        return [s for s in symbols if max_notional(tiers.get(s, DEFAULT_TIERS), leverage) == 0]


class SessionConfig(ClosedModel):
    mode: Mode
    symbols: list[str] = Field(min_length=1, max_length=50)
    strategies: list[StrategySpec] = Field(default_factory=list, max_length=20)
    market: MarketConfig = Field(default_factory=MarketConfig)
    cash: float = Field(10_000, gt=0, le=1e12, description="starting cash in the quote currency")
    leverage: float = Field(1, ge=1, le=125)
    margin: MarginConfig = Field(default_factory=MarginConfig)
    fees: FeesConfig = Field(default_factory=FeesConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    venue: VenueConfig = Field(default_factory=VenueConfig)
    duration_seconds: float | None = Field(None, gt=0, le=366 * 86_400)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)
    label: str | None = Field(None, max_length=200)
    sweep: SweepConfig | None = Field(None, description="mode sweep: the parameters to sweep")

    @field_validator("symbols")
    @classmethod
    def _canonical_symbols(cls, symbols: list[str]) -> list[str]:
        result = [canonical(s) for s in symbols]
        if len(set(result)) != len(result):
            raise ValueError("symbols repeat")
        return result

    @field_validator("strategies", mode="before")
    @classmethod
    def _names_as_specs(cls, value: Any) -> Any:
        """``"sma_cross"`` is short for ``{"name": "sma_cross"}``."""
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _mode_rules(self) -> SessionConfig:
        """Rules that tie fields together, each reported on the field that has to change."""
        if self.mode is Mode.BACKTEST and self.market.source != "replay":
            _refuse(("market", "source"), "a backtest replays a dataset: set it to 'replay'", self)
        if self.mode is Mode.COLLECT and self.strategies:
            _refuse(("strategies",), "a collect session records data and runs no strategies", self)
        if self.mode is Mode.COLLECT and self.market.source != "exchange":
            _refuse(("market", "source"), "a collect session records a live exchange feed", self)
        if self.mode is Mode.LIVE and self.market.source != "exchange":
            _refuse(
                ("market", "source"),
                "a live session trades on the live exchange feed, not a replay",
                self,
            )
        if (self.mode is Mode.SWEEP) != (self.sweep is not None):
            _refuse(("sweep",), "a sweep session needs 'sweep', and only a sweep session", self)
        if self.mode is Mode.SWEEP and self.market.source != "replay":
            _refuse(("market", "source"), "a sweep replays a dataset: set it to 'replay'", self)
        if self.mode is Mode.SWEEP and (len(self.strategies) != 1 or len(self.symbols) != 1):
            _refuse(("strategies",), "a sweep runs one strategy on one symbol", self)
        if self.leverage != 1 and self.market.market_type == "spot":
            _refuse(
                ("leverage",),
                "leverage needs market.market_type 'swap': spot has no leverage",
                self,
            )
        if self.margin != MarginConfig() and self.market.market_type == "spot":
            _refuse(("margin",), "margin and liquidation rules need market_type 'swap'", self)
        unknown = sorted(set(self.margin.tiers) - set(self.symbols))
        if unknown:
            _refuse(("margin", "tiers"), f"tiers for symbols not traded: {unknown}", self)
        if self.market.market_type == "swap":
            too_high = self.margin.too_leveraged(self.symbols, self.leverage)
            if too_high:
                _refuse(
                    ("leverage",),
                    f"leverage {self.leverage:g} is above what the first margin tier of "
                    f"{too_high} allows (its maxLeverage, or 1 / its maintenance rate)",
                    self,
                )
        return self


def _refuse(location: tuple[str, ...], message: str, config: BaseModel) -> NoReturn:
    raise ValidationError.from_exception_data(
        type(config).__name__,
        [
            InitErrorDetails(
                type=PydanticCustomError("session_rule", message),
                loc=location,
                input=config.model_dump(mode="json"),
            )
        ],
    )

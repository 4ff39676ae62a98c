"""The strategy API: what a strategy sees and what it may do, the same in every mode.

A strategy is a class with a ``Params`` model (typed parameters with defaults, validated when the
session starts: a bad value is a ``422 invalid_strategy_params``) and lifecycle hooks. One
instance runs per session symbol. Hooks a strategy does not override cost nothing: the engine
only calls what is implemented.

    class MyStrategy(Strategy):
        name = "my_strategy"

        class Params(StrategyParams):
            period: int = Field(20, ge=2)

        def on_start(self):
            self.sma = Sma(self.params.period)

        def on_bar(self, bar):
            if self.sma.update(bar.close) and bar.close > self.sma.value and not self.position:
                self.buy()            # all-in, sized at the fill price

Bars come from the data when it is candles, or are built by the engine from trades at
``params.bar_interval`` seconds (default 60). Orders go to the paper venue (or the exchange when
live); ``on_fill`` reports each execution of this strategy's orders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from papertape.domain.indicators import Indicator
from papertape.domain.market import BookSnapshot, Candle, Trade
from papertape.domain.orders import BUY, LIMIT, MARKET, SELL, STOP, Order
from papertape.domain.records import Fill

if TYPE_CHECKING:
    from papertape.domain.portfolio import Portfolio


class ParamConflict(ValueError):
    """Parameters that contradict each other, raised by a ``Params`` model validator with the
    parameter to change (``field``), so the error can be shown on that field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: unknown names are rejected, never ignored."""

    model_config = ConfigDict(extra="forbid")

    bar_interval: int = Field(
        60,
        ge=1,
        le=7 * 86_400,
        description="bar length in seconds when bars are built from trades",
    )


P = TypeVar("P", bound=StrategyParams)


class Broker(Protocol):
    """The engine's side of the API (implemented by ``papertape.engine.core.Engine``)."""

    portfolio: Portfolio

    def submit(
        self,
        owner: Any,
        symbol: str,
        side: str,
        type: str,
        qty: float | None,
        *,
        price: float | None = None,
        stop_price: float | None = None,
        fraction: float = 1.0,
        reduce_only: bool = False,
        reason: str = "",
    ) -> Order: ...

    def cancel(self, order_id: str, reason: str = "cancelled") -> Order | None: ...

    def modify_stop(self, order: Order, stop_price: float) -> None: ...

    def last_price(self, symbol: str) -> float | None: ...

    def reported_qty(self, symbol: str) -> float: ...

    def now(self) -> int: ...


class Strategy(Generic[P]):
    """Subclasses name their parameter model twice: ``class S(Strategy["S.Params"])`` types
    ``self.params`` for the checker, the nested ``Params`` class is what the catalog validates."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams

    def __init__(self, params: P, symbol: str, broker: Broker, label: str = ""):
        self.params = params
        self.symbol = symbol
        self.broker = broker
        self.label = label or self.name

    @classmethod
    def can_short(cls, params: P) -> bool:
        """True when, with ``params``, the strategy may open short positions (refused on spot)."""
        return False

    @classmethod
    def chart_indicators(cls, params: P) -> dict[str, tuple[Indicator, str]]:
        """The indicators this strategy reads that belong over the price chart: name → (a
        fresh indicator, the bar field it is fed). None by default."""
        return {}

    # --- hooks --------------------------------------------------------------------------------
    def on_start(self) -> None: ...

    def on_bar(self, bar: Candle) -> None: ...

    def on_trade(self, trade: Trade) -> None: ...

    def on_book(self, book: BookSnapshot) -> None: ...

    def on_fill(self, fill: Fill, order: Order) -> None: ...

    def on_stop(self) -> None: ...

    # --- orders -------------------------------------------------------------------------------
    def buy(self, qty: float | None = None, *, fraction: float = 1.0, reason: str = "") -> Order:
        """Market buy. ``qty=None``: cover a short, or go long with ``fraction`` of the buying
        power (all-in by default), sized at the fill price, fees included."""
        return self._order(BUY, MARKET, qty, fraction=fraction, reason=reason)

    def sell(self, qty: float | None = None, *, fraction: float = 1.0, reason: str = "") -> Order:
        """Market sell. ``qty=None``: close a long, or (swap only) go short with ``fraction``."""
        return self._order(SELL, MARKET, qty, fraction=fraction, reason=reason)

    def limit(
        self,
        side: str,
        qty: float | None,
        price: float,
        *,
        reduce_only: bool = False,
        fraction: float = 1.0,
        reason: str = "",
    ) -> Order:
        return self._order(
            side, LIMIT, qty, price=price, reduce_only=reduce_only, fraction=fraction, reason=reason
        )

    def stop(
        self,
        side: str,
        qty: float | None,
        stop_price: float,
        *,
        reduce_only: bool = False,
        fraction: float = 1.0,
        reason: str = "",
    ) -> Order:
        """A stop-market order: becomes a market order once the price reaches ``stop_price``."""
        return self._order(
            side,
            STOP,
            qty,
            stop_price=stop_price,
            reduce_only=reduce_only,
            fraction=fraction,
            reason=reason,
        )

    def close(self, reason: str = "") -> Order | None:
        """Close the whole position at market (``None`` when flat)."""
        held = self.position
        if not held:
            return None
        return self._order(SELL if held > 0 else BUY, MARKET, None, reduce_only=True, reason=reason)

    def cancel(self, order: Order | str) -> Order | None:
        return self.broker.cancel(order if isinstance(order, str) else order.order_id)

    def _order(self, side: str, type_: str, qty: float | None, **kwargs: Any) -> Order:
        kwargs["reason"] = kwargs.get("reason") or self.label
        return self.broker.submit(self, self.symbol, side, type_, qty, **kwargs)

    # --- state --------------------------------------------------------------------------------
    @property
    def position(self) -> float:
        """Signed quantity held in this strategy's symbol (negative = short), as far as the
        fills reported to the strategies so far tell (the venue's response latency)."""
        return self.broker.reported_qty(self.symbol)

    @property
    def entry_price(self) -> float | None:
        pos = self.broker.portfolio.positions.get(self.symbol)
        return pos.avg_price if pos is not None and pos.qty else None

    @property
    def cash(self) -> float:
        return self.broker.portfolio.cash

    @property
    def equity(self) -> float:
        return self.broker.portfolio.equity()

    @property
    def price(self) -> float | None:
        return self.broker.last_price(self.symbol)

    @property
    def now(self) -> int:
        return self.broker.now()

    def state(self) -> dict[str, Any]:
        """What the session detail shows about this strategy (indicator values, counters)."""
        return {}

"""The engine: one synchronous, deterministic event loop for backtests, paper and live sessions.

``Engine.process(events)`` moves a batch of market events (in timestamp order) through, for each
event:

1. bars that the event closes (bars built from trades, or candles aggregated to a strategy's
   longer interval) are handed to the strategies — orders they place can fill on this event;
2. the venue fills what the event allows (``papertape.domain.venue``);
3. marks, bar building, strategies' ``on_bar`` (for candles: after the venue, so a market order
   decided on a bar fills at the next bar's open), ``on_trade`` and ``on_book``;
4. every ``equity_interval`` of data time: an equity point, the risk kill switches and, for
   perpetuals, the liquidation check.

Trades may also come as ``TradeColumns`` (one symbol's prints column by column, what a streamed
backtest reads from a store): the outcome is the same, bit for bit, at a fraction of the cost
(``_process_columns``).

Perpetuals are liquidated by the exchange's rules (``papertape.domain.liquidation``): the
maintenance margin of each symbol's notional tiers, the position that crosses its liquidation
price closed at its bankruptcy price (or, ``liquidation_close``, at the liquidation price) paying
the liquidation fee, the other positions at their marks paying it too, and the session stopped.

A ``FundingRate`` event settles funding on the symbol's open perpetual position
(``papertape.domain.funding``); each payment is recorded (the record's ``funding``) and published as a ``funding`` event. Once a ``MarkPrice`` event has been seen
for a symbol, its position is valued (unrealized PnL, margin, liquidation, funding) at the mark
and no longer at the last traded price, until the newest mark is older than ``mark_stale_us``
(the mark data ended or stalled: the last price stands in again). ``mark_sources`` says which
applies.

Everything the session must keep is appended to the engine's *record* (a ``RecordBatch``:
orders, fills, positions, equity points, funding payments, events); the caller drains it (the session consumer
commits it to the store with the engine's state, a CLI backtest keeps it). The engine never does
I/O and never reads a clock: time is the data's, so the same data and strategies give the same
record every run — and an engine restored from a snapshot (``papertape.engine.snapshot``)
continues exactly as the original would have, which is what makes a crash change nothing.

What the record holds is a function of the data alone: positions are recorded when a fill
changes them and at the end of the run (a running session's current marks are the API's
business, not the record's), one equity point per timestamp, and nothing once a kill switch has
asked for the session to stop (how much data arrives before the stop lands depends on timing).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from papertape.domain.errors import OrderRejected
from papertape.domain.funding import FundingPayment, FundingRate, settlement_price
from papertape.domain.latency import Latency
from papertape.domain.liquidation import BANKRUPTCY, DEFAULT_LIQUIDATION_FEE, Tiers
from papertape.domain.market import MICROS, BookSnapshot, Candle, MarkPrice, Trade
from papertape.domain.metrics import account_metrics
from papertape.domain.metrics import compute as compute_metrics
from papertape.domain.orders import (
    BUY,
    LIMIT,
    ORDER_TYPES,
    QTY_EPSILON,
    REJECTED,
    SELL,
    SIDES,
    STOP,
    Order,
    OrderType,
    Side,
)
from papertape.domain.portfolio import SPOT, SWAP, Portfolio, Position, RoundTrip
from papertape.domain.records import Fill, RecordBatch
from papertape.domain.risk import RiskManager, RiskRules
from papertape.domain.strategy import Strategy, StrategyParams
from papertape.domain.trade_columns import TradeColumns
from papertape.domain.venue import PaperVenue, VenueListener

MANUAL = "manual"  # the reason recorded on a user's orders
# trade columns: prints handed to the row path at once while an order is open (one call per
# print cost twice the row path's time with an order resting)
ROWS_WITH_ORDERS = 512


@dataclass(frozen=True, slots=True)
class EngineConfig:
    session_id: str
    symbols: tuple[str, ...]
    cash: float = 10_000.0
    market_type: str = SPOT
    leverage: float = 1.0
    taker: float = 0.001
    maker: float = 0.001
    slippage_bps: float = 0.0
    latency_us: int = 0  # order entry: the venue sees an order this long after it is placed
    cancel_latency_us: int = 0  # a cancel reaches the venue this long after it is asked
    response_latency_us: int = 0  # a fill reaches the strategies this long after it happened
    # each direction's random part: an exponential delay of this mean, seeded (domain.latency)
    latency_jitter_us: int = 0
    cancel_latency_jitter_us: int = 0
    response_latency_jitter_us: int = 0
    latency_seed: int = 0
    bar_fill: str = "next_open"
    risk: RiskRules = field(default_factory=RiskRules)
    equity_interval_us: int = 10 * MICROS
    mark_stale_us: int = 3_600 * MICROS
    queue_model: str = "risk_averse"  # resting limits on book data (papertape.domain.queue)
    margin_tiers: Mapping[str, Tiers] = field(default_factory=dict)  # others: Binance BTCUSDT's
    liquidation_fee: float = DEFAULT_LIQUIDATION_FEE  # of the closed notional
    liquidation_close: str = BANKRUPTCY  # or "liquidation": the price a liquidation closes at


@dataclass(frozen=True, slots=True)
class StrategyPlan:
    """A validated strategy to run: its class, its parameters and the name it reports as."""

    cls: type[Strategy[Any]]
    params: StrategyParams
    label: str


def _overrides(strategy: Strategy[Any], hook: str) -> bool:
    return getattr(type(strategy), hook) is not getattr(Strategy, hook)


class _BarBuilder:
    """Bars of ``interval`` seconds for one symbol, from trades or from shorter candles; the
    strategies that want them."""

    __slots__ = ("interval", "step", "bar", "strategies")

    def __init__(self, interval: int):
        self.interval = interval
        self.step = interval * MICROS
        self.bar: list[Any] | None = None  # [start, open, high, low, close, volume]
        self.strategies: list[Strategy[Any]] = []


class _SymbolState:
    __slots__ = (
        "symbol",
        "price",
        "position",
        "builders",
        "trade_subs",
        "book_subs",
        "trade_bars",
        "bar_span",
        "mark",
        "mark_ts",
        "_split",
    )

    def __init__(self, symbol: str, position: Position):
        self.symbol = symbol
        self.price: float | None = None
        self.position = position  # the portfolio's position object for this symbol
        self.builders: list[_BarBuilder] = []
        self.trade_bars = False  # bars are built from trades (else from book mids, if any)
        # the newest candle's (open ts, end ts, open price): the price at a moment inside it
        self.bar_span: tuple[int, int, float] | None = None
        self.mark: float | None = None  # the newest mark price, once the data has marks
        self.mark_ts = 0
        self._split: tuple[int, list[_BarBuilder], list[Strategy[Any]]] | None = None
        self.trade_subs: list[Strategy[Any]] = []
        self.book_subs: list[Strategy[Any]] = []

    def split_for(self, interval: int) -> tuple[list[_BarBuilder], list[Strategy[Any]]]:
        """For candles of ``interval`` seconds: the builders that aggregate them into longer
        bars, and the strategies that take them as they are (cached per interval)."""
        split = self._split
        if split is None or split[0] != interval:
            longer = [b for b in self.builders if b.interval > interval]
            direct = [st for b in self.builders if b.interval <= interval for st in b.strategies]
            split = self._split = (interval, longer, direct)
        return split[1], split[2]


class Engine(VenueListener):
    def __init__(self, config: EngineConfig, plans: Sequence[StrategyPlan] = ()):
        if config.market_type not in (SPOT, SWAP):
            raise ValueError(f"market_type must be spot or swap, not {config.market_type!r}")
        self.config = config
        self.session_id = config.session_id
        self.portfolio = Portfolio(
            config.cash, config.market_type, config.leverage, config.margin_tiers
        )
        self.venue = PaperVenue(
            self.portfolio,
            self,
            taker=config.taker,
            maker=config.maker,
            slippage_bps=config.slippage_bps,
            latency=Latency(
                config.latency_us, config.latency_jitter_us, config.latency_seed, "entry"
            ),
            bar_fill=config.bar_fill,
            queue_model=config.queue_model,
            cancel_latency=Latency(
                config.cancel_latency_us,
                config.cancel_latency_jitter_us,
                config.latency_seed,
                "cancel",
            ),
            session_id=config.session_id,
        )
        self.risk = RiskManager(config.risk, config.cash)
        self._response_latency = Latency(
            config.response_latency_us,
            config.response_latency_jitter_us,
            config.latency_seed,
            "response",
        )
        self._close_fill = config.bar_fill == "close"
        self._swap = config.market_type == SWAP
        self._equity_interval = config.equity_interval_us
        self._watch_risk = (
            config.risk.daily_loss_limit is not None or config.risk.max_drawdown_pct is not None
        )
        self.max_position_notional = config.risk.max_position_notional
        self.ts = 0
        self.first_ts: int | None = None
        self.halted: str | None = None  # the rule that stopped trading
        self.stop_requested: str | None = None
        self.ended: str | None = None  # how the session's run ended, once it has (a snapshot says)
        self._next_equity = 0
        self._liq: dict[str, tuple[float, int]] = {}  # symbol → (liquidation price, direction)
        # fills on their way back to the strategies: (due, fill, order), and per symbol the
        # signed quantity they carry (which the strategies' ``position`` does not show yet) and
        # how many they are
        self._responses: deque[tuple[int, Fill, Order]] = deque()
        self._unreported: dict[str, tuple[float, int]] = {}
        self.equity_curve: list[tuple[int, float]] = []
        self.record = RecordBatch()  # drained by the caller
        self.state = {s: _SymbolState(s, self.portfolio.position(s)) for s in config.symbols}
        self.strategies: list[Strategy[Any]] = []
        for plan in plans:
            if plan.cls.can_short(plan.params) and config.market_type == SPOT:
                raise ValueError(f"{plan.label} can go short, which spot trading cannot")
            for symbol in config.symbols:
                self._attach(plan.cls(plan.params, symbol, self, plan.label))

    def _attach(self, strategy: Strategy[Any]) -> None:
        state = self.state[strategy.symbol]
        self.strategies.append(strategy)
        if _overrides(strategy, "on_bar"):
            interval = strategy.params.bar_interval
            builder = next((b for b in state.builders if b.interval == interval), None)
            if builder is None:
                builder = _BarBuilder(interval)
                state.builders.append(builder)
            builder.strategies.append(strategy)
        if _overrides(strategy, "on_trade"):
            state.trade_subs.append(strategy)
        if _overrides(strategy, "on_book"):
            state.book_subs.append(strategy)

    # --- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        for strategy in self.strategies:
            strategy.on_start()

    def stop(self) -> None:
        """End of the run: close the bars in progress (so strategies see the last one), tell
        the strategies, record the final positions and equity."""
        self._deliver(None)
        for state in self.state.values():
            for builder in state.builders:
                if builder.bar is not None:
                    self._emit_bar(state, builder)
        for strategy in self.strategies:
            strategy.on_stop()
        if self.first_ts is not None and not self.stop_requested:
            for pos in self.portfolio.open_positions():
                pos.mark = self.state[pos.symbol].price or pos.mark
                self._record_position(pos, self.ts)
            self._sample(self.ts, force=True)

    # --- the loop -----------------------------------------------------------------------------
    def process(self, events: Sequence[Any] | TradeColumns) -> None:
        """Run a batch of market events (in timestamp order) through the engine.

        The trade path is the hot one (millions of ticks per backtest): it is written out inline,
        with everything it touches in locals, and calls out only when something happens (a bar
        closes, an order is open, a strategy listens to trades, an equity point is due)."""
        if isinstance(events, TradeColumns):
            self._process_columns(events)
            return
        if not events:
            return
        if self.first_ts is None:
            self.first_ts = events[0].ts
        state_of = self.state
        open_orders = self.venue.open_orders
        liq = self._liq
        responses = self._responses
        next_equity = self._next_equity
        mark_stale = self.config.mark_stale_us
        for event in events:
            if event.__class__ is Trade:
                ts, symbol, price, qty, _side, _id = event
                state = state_of.get(symbol)
                if state is None:
                    continue
                if responses and responses[0][0] <= ts:
                    self.ts = ts
                    self._deliver(ts)
                for builder in state.builders:
                    bar = builder.bar
                    if bar is None or ts - bar[0] >= builder.step:
                        if bar is not None:
                            self.ts = ts
                            self._emit_bar(state, builder)
                            next_equity = self._next_equity
                        builder.bar = [ts - ts % builder.step, price, price, price, price, qty]
                        state.trade_bars = True
                    else:
                        if price > bar[2]:
                            bar[2] = price
                        elif price < bar[3]:
                            bar[3] = price
                        bar[4] = price
                        bar[5] += qty
                if symbol in open_orders:
                    self.ts = ts
                    self.venue.on_trade(event)
                    next_equity = self._next_equity
                state.price = price
                if state.trade_subs and not self.halted:
                    self.ts = ts
                    for strategy in state.trade_subs:
                        strategy.on_trade(event)
                    next_equity = self._next_equity
                pos = state.position
                # no (fresh) mark price: the last trade stands in
                if pos.qty and (state.mark is None or ts - state.mark_ts > mark_stale):
                    pos.mark = price
                    if liq:
                        limit = liq.get(symbol)
                        if limit is not None and (
                            (price <= limit[0]) if limit[1] > 0 else (price >= limit[0])
                        ):
                            self.ts = ts
                            self._liquidate(symbol)
                            next_equity = self._next_equity
                if ts >= next_equity:
                    self.ts = ts
                    self._sample(ts)
                    next_equity = self._next_equity
                continue
            self.ts = event.ts
            self._process_non_trade(event)
            next_equity = self._next_equity
        self.ts = events[-1].ts

    def _process_columns(self, batch: TradeColumns) -> None:
        """One symbol's trades as columns, with the same outcome as their rows.

        Between two prints at which something can happen, a print only moves the symbol's
        bars (high, low, close, volume), its last price and, without a fresh mark, its
        position's mark: those runs are folded in with NumPy, and each print at which something
        can happen goes through the row path above as a ``Trade``. Something can happen at a
        print that opens or closes a bar, is due an equity point or a strategy's fill
        response, or crosses an open perpetual's liquidation price. While an order is open
        every print meets it: the prints go through the row path in runs
        (``ROWS_WITH_ORDERS``), as they all do for a strategy that listens to every print."""
        state = self.state.get(batch.symbol)
        count = len(batch)
        if state is None or not count:
            return
        if state.trade_subs:
            self.process(batch.rows())
            return
        if self.first_ts is None:
            self.first_ts = int(batch.ts[0])
        ts, symbol = batch.ts, batch.symbol
        builders, responses, open_orders = state.builders, self._responses, self.venue.open_orders
        i = 0
        while i < count:
            if symbol in open_orders:  # every print meets the order: rows, a run at a time
                j = min(count, i + ROWS_WITH_ORDERS)
                self.process(batch[i:j].rows())
                i = j
                continue
            if any(b.bar is None for b in builders):
                j = i
            else:
                due = self._next_equity
                for builder in builders:
                    assert builder.bar is not None
                    due = min(due, builder.bar[0] + builder.step)
                if responses:
                    due = min(due, responses[0][0])
                j = i + int(ts[i:].searchsorted(due))
                j = self._liquidation_print(state, batch, i, j)
                if j > i:
                    self._fold(state, batch, i, j)
            if j < count:
                self.process((batch.row(j),))
            i = j + 1
        self.ts = int(ts[-1])

    def _marked_from(self, state: _SymbolState, batch: TradeColumns, i: int) -> int:
        """The first print from ``i`` on at which the position is marked at the last price
        (no mark price yet, or the newest one is stale): a mark does not change between
        prints, so every later print is too."""
        if state.mark is None:
            return i
        stale = state.mark_ts + self.config.mark_stale_us
        return i + int(batch.ts[i:].searchsorted(stale, side="right"))

    def _liquidation_print(self, state: _SymbolState, batch: TradeColumns, i: int, j: int) -> int:
        """The first print in ``[i, j)`` that crosses the symbol's liquidation price (``j`` if
        none does)."""
        limit = self._liq.get(state.symbol)
        if limit is None or not state.position.qty:
            return j
        start = self._marked_from(state, batch, i)
        if start >= j:
            return j
        prices = batch.price[start:j]
        crossed = (prices <= limit[0]) if limit[1] > 0 else (prices >= limit[0])
        first = int(crossed.argmax())
        return start + first if crossed[first] else j

    def _fold(self, state: _SymbolState, batch: TradeColumns, i: int, j: int) -> None:
        """Prints ``[i, j)``, at none of which anything happens, into the symbol's state."""
        prices = batch.price[i:j]
        last = float(prices[-1])
        high, low = float(prices.max()), float(prices.min())
        for builder in state.builders:
            bar = builder.bar
            assert bar is not None, "a run is folded only into bars begun"
            if high > bar[2]:
                bar[2] = high
            if low < bar[3]:
                bar[3] = low
            bar[4] = last
            # added one print at a time, in order, as the row path does (same rounding)
            volume = np.empty(j - i + 1)
            volume[0] = bar[5]
            volume[1:] = batch.qty[i:j]
            bar[5] = float(np.add.accumulate(volume)[-1])
        state.price = last
        if state.position.qty and self._marked_from(state, batch, j - 1) == j - 1:
            state.position.mark = last

    def _process_non_trade(self, event: Any) -> None:
        """Candles and order-book snapshots (far fewer than trades)."""
        state = self.state.get(event.symbol)
        if state is None:
            return
        if self._responses and self._responses[0][0] <= event.ts:
            self._deliver(event.ts)
        venue = self.venue
        kind = event.__class__
        if kind is Candle:
            longer, direct = state.split_for(event.interval)
            for builder in longer:
                self._candle_into(state, builder, event)
            if event.symbol in venue.open_orders:
                venue.on_bar(event)
            elif self._close_fill:
                venue.last_bar[event.symbol] = event
            state.price = event.close
            state.bar_span = (event.ts, event.ts + event.interval * MICROS, event.open)
            if not self.halted:
                for strategy in direct:
                    strategy.on_bar(event)
            low, high = event.low, event.high
        elif kind is BookSnapshot:
            if event.symbol in venue.open_orders:
                venue.on_book(event)
            if event.bids and event.asks:
                state.price = (event.bids[0][0] + event.asks[0][0]) / 2
                if state.builders and not state.trade_bars:
                    self._mid_into_bars(state, event.ts, state.price)
            if not self.halted:
                for strategy in state.book_subs:
                    strategy.on_book(event)
            low = high = state.price
        elif kind is FundingRate:
            self._settle_funding(state, event)
            return
        elif kind is MarkPrice:
            self._on_mark(state, event)
            return
        else:
            raise TypeError(f"not a market event: {event!r}")
        pos = state.position
        if pos.qty and self._fresh_mark(state, event.ts) is None:
            assert state.price is not None, "a position is only opened once its symbol has a price"
            pos.mark = state.price
            if event.symbol in self._liq:
                self._check_liquidation(event.symbol, low, high)
        if event.ts >= self._next_equity:
            self._sample(event.ts)

    def _on_mark(self, state: _SymbolState, mark: MarkPrice) -> None:
        """A mark price: it values the position from now on, and liquidation watches it."""
        state.mark, state.mark_ts = mark.price, mark.ts
        if state.position.qty:
            state.position.mark = mark.price
            if mark.symbol in self._liq:
                self._check_liquidation(mark.symbol, mark.price, mark.price)
        if mark.ts >= self._next_equity:
            self._sample(mark.ts)

    def _fresh_mark(self, state: _SymbolState, ts: int) -> float | None:
        if state.mark is None or ts - state.mark_ts > self.config.mark_stale_us:
            return None
        return state.mark

    def _funding_mark(self, state: _SymbolState, ts: int) -> float | None:
        """The mark that values a position at funding time ``ts``: the fresh mark, or a mark
        older than ``mark_stale_us`` that still values the position (no data since replaced it:
        the data stopped, as across a server outage whose funding a resumed feed makes up), the
        newest price the session knows. A mark made stale by later trades is not used."""
        fresh = self._fresh_mark(state, ts)
        if fresh is None and state.mark is not None and state.position.mark == state.mark:
            return state.mark
        return fresh

    def queue_models(self) -> dict[str, str]:
        """Per symbol, the queue model its resting limits fill by: the configured one once its
        data has shown an order book, else ``trade_through`` (no queue to see)."""
        configured = self.config.queue_model
        return {
            s: configured if s in self.venue.books_seen else "trade_through" for s in self.state
        }

    def liquidation_rules(self) -> dict[str, Any] | None:
        """How a perpetual position would be liquidated (``None`` on spot): the price it
        closes at, the fee, and per symbol whose maintenance-margin tiers apply."""
        if not self._swap:
            return None
        configured = self.config.margin_tiers
        return {
            "close_at": self.config.liquidation_close,
            "fee_rate": self.config.liquidation_fee,
            "tiers": {
                s: "configured" if s in configured else "binance_btcusdt" for s in self.state
            },
        }

    def mark_sources(self) -> dict[str, str]:
        """Per symbol, what values its position now: ``mark`` or ``last`` (no fresh mark)."""
        return {
            s: "last" if self._fresh_mark(st, self.ts) is None else "mark"
            for s, st in self.state.items()
        }

    def _settle_funding(self, state: _SymbolState, funding: FundingRate) -> None:
        """Pay or receive ``funding`` on the open position. With bar data the price at the
        funding time is the open of the bar that contains it (its close is still to come)."""
        if not state.position.is_open:
            return
        last = state.price
        span = state.bar_span
        if span is not None and span[0] <= funding.ts < span[1]:
            last = span[2]
        priced = settlement_price(funding, self._funding_mark(state, funding.ts), last)
        if priced is None:
            return
        price, source = priced
        amount = self.portfolio.apply_funding(funding.symbol, funding.rate, price)
        if amount is None:
            return
        payment = FundingPayment(
            self.session_id,
            funding.ts,
            funding.symbol,
            funding.rate,
            state.position.qty,
            price,
            amount,
            source,
        )
        self.record.funding.append(payment)
        self.record.events.append(("funding", payment))
        self._sample(funding.ts, force=True)

    def _check_liquidation(self, symbol: str, low: float, high: float) -> None:
        price, direction = self._liq[symbol]
        if (low <= price) if direction > 0 else (high >= price):
            self._liquidate(symbol)

    def _mid_into_bars(self, state: _SymbolState, ts: int, mid: float) -> None:
        """Bars from book mid prices (volume 0), for a symbol whose data has no trades."""
        for builder in state.builders:
            bar = builder.bar
            if bar is not None and ts - bar[0] >= builder.step:
                self._emit_bar(state, builder)
                bar = None
            if bar is None:
                builder.bar = [ts - ts % builder.step, mid, mid, mid, mid, 0.0]
                continue
            bar[2] = max(bar[2], mid)
            bar[3] = min(bar[3], mid)
            bar[4] = mid

    def _candle_into(self, state: _SymbolState, builder: _BarBuilder, candle: Candle) -> None:
        bar = builder.bar
        ts = candle.ts
        if bar is not None and ts - bar[0] >= builder.step:
            self._emit_bar(state, builder)
            bar = None
        if bar is None:
            builder.bar = [
                ts - ts % builder.step,
                candle.open,
                candle.high,
                candle.low,
                candle.close,
                candle.volume,
            ]
            return
        bar[2] = max(bar[2], candle.high)
        bar[3] = min(bar[3], candle.low)
        bar[4] = candle.close
        bar[5] += candle.volume

    def _emit_bar(self, state: _SymbolState, builder: _BarBuilder) -> None:
        parts = builder.bar
        assert parts is not None, "a bar is emitted only once it has begun"
        bar = Candle(parts[0], state.symbol, builder.interval, *parts[1:])
        builder.bar = None
        if self._close_fill:
            self.venue.last_bar[state.symbol] = bar
        if self.halted:
            return
        for strategy in builder.strategies:
            strategy.on_bar(bar)

    # --- the Broker API strategies and manual orders use --------------------------------------
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
        client_order_id: str = "",
    ) -> Order:
        """Validate and place an order. A malformed order raises ``ValueError`` (a strategy bug);
        one a rule refuses comes back ``rejected`` with the rule as its reason."""
        if symbol not in self.state:
            raise ValueError(f"{symbol} is not one of this session's symbols")
        if side not in SIDES:
            raise ValueError(f"side must be buy or sell, not {side!r}")
        if type not in ORDER_TYPES:
            raise ValueError(f"order type must be one of {ORDER_TYPES}, not {type!r}")
        if qty is not None and not qty > 0:
            raise ValueError("qty must be positive (or None to size it at the fill)")
        if not 0 < fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        if type == LIMIT and not (price is not None and price > 0):
            raise ValueError("a limit order needs a positive price")
        if type == STOP and not (stop_price is not None and stop_price > 0):
            raise ValueError("a stop order needs a positive stop_price")
        order = Order(
            order_id=self.venue.next_order_id(),
            symbol=symbol,
            side=Side(side),
            type=OrderType(type),
            qty=qty,
            created_ts=self.ts,
            active_ts=self.ts,
            price=price if type == LIMIT else None,
            stop_price=stop_price if type == STOP else None,
            fraction=fraction,
            reduce_only=reduce_only,
            client_order_id=client_order_id,
            reason=reason,
            owner=owner,
        )
        refusal = self._refusal(order)
        if refusal is not None:
            order.move_to(REJECTED)
            order.reason = refusal
            order.updated_ts = self.ts
            self.order_changed(order)
            self.record.events.append(
                (
                    "risk",
                    {
                        "action": "order_rejected",
                        "rule": refusal,
                        "order_id": order.order_id,
                        "symbol": symbol,
                    },
                )
            )
            return order
        return self.venue.submit(order)

    def _refusal(self, order: Order) -> str | None:
        if self.halted:
            return f"halted_by_{self.halted}"
        held = self.portfolio.qty(order.symbol)
        if self.portfolio.market_type == SPOT and order.side == SELL and not order.reduce_only:
            if held <= 0 and order.qty is None:
                return "no_position"
            if order.qty is not None and order.qty > held * (1 + 1e-9):
                return "insufficient_position"
        return self.risk.check_order(order, self.portfolio, self.state[order.symbol].price)

    def cancel(self, order_id: str, reason: str = "cancelled") -> Order | None:
        return self.venue.cancel(order_id, self.ts, reason)

    def modify_stop(self, order: Order, stop_price: float) -> None:
        if not order.is_live or order.type != STOP:
            return
        if order.stop_price != stop_price:
            order.stop_price = stop_price
            order.updated_ts = self.ts
            self.order_changed(order)

    def last_price(self, symbol: str) -> float | None:
        state = self.state.get(symbol)
        return state.price if state is not None else None

    def now(self) -> int:
        return self.ts

    def place_manual_order(
        self,
        symbol: str,
        side: str,
        type: str,
        qty: float | None,
        price: float | None = None,
        stop_price: float | None = None,
        client_order_id: str = "",
    ) -> Order:
        """A user's order (the dashboard's buy/sell buttons). Bad input and refusals raise
        ``OrderRejected`` naming the field or the rule."""
        try:
            order = self.submit(
                None,
                symbol,
                side,
                type,
                qty,
                price=price,
                stop_price=stop_price,
                reason=MANUAL,
                client_order_id=client_order_id,
            )
        except ValueError as exc:
            raise OrderRejected(
                str(exc), details=[{"field": "order", "message": str(exc)}]
            ) from None
        if order.status == REJECTED:
            raise OrderRejected(
                f"order rejected by rule {order.reason}",
                details=[{"field": "order", "rule": order.reason, "order_id": order.order_id}],
            )
        return order

    # --- venue listener -----------------------------------------------------------------------
    def order_changed(self, order: Order) -> None:
        record = order.record(self.session_id)
        self.record.orders.append(record)
        self.record.events.append(("order", record))

    def filled(self, order: Order, fill: Fill, position: Position, trip: RoundTrip | None) -> None:
        self.record.fills.append(fill)
        self.record.events.append(("fill", fill))
        state = self.state[fill.symbol]
        position.mark = self._fresh_mark(state, fill.ts) or state.price or fill.price
        self._record_position(position, fill.ts)
        if trip is not None:
            self.record.events.append(("trade_closed", trip))
        if self.portfolio.market_type == SWAP:
            self._update_liquidation_prices()
        self._sample(fill.ts, force=True)
        if self._response_latency:
            latency = self._response_latency.draw()
            signed = fill.qty if fill.side == BUY else -fill.qty
            qty, count = self._unreported.get(fill.symbol, (0.0, 0))
            self._unreported[fill.symbol] = (qty + signed, count + 1)
            # responses come in order (one connection): a quick one waits for a slow one before it
            due = max(fill.ts + latency, self._responses[-1][0] if self._responses else 0)
            self._responses.append((due, fill, order))
        else:
            self._report(fill, order)

    def _report(self, fill: Fill, order: Order) -> None:
        owner = order.owner
        if isinstance(owner, Strategy) and _overrides(owner, "on_fill"):
            owner.on_fill(fill, order)

    def _deliver(self, ts: int | None) -> None:
        """Hand the strategies the fills whose response is due by ``ts`` (``None``: all, at
        the end of the run)."""
        responses = self._responses
        while responses and (ts is None or responses[0][0] <= ts):
            _, fill, order = responses.popleft()
            qty, count = self._unreported.pop(fill.symbol)
            if count > 1:
                signed = fill.qty if fill.side == BUY else -fill.qty
                self._unreported[fill.symbol] = (qty - signed, count - 1)
            self._report(fill, order)

    def reported_qty(self, symbol: str) -> float:
        """The position in ``symbol`` as the strategies know it: without the fills whose
        response has not reached them yet (``response_latency_us``)."""
        qty = self.portfolio.qty(symbol)
        unreported = self._unreported.get(symbol)
        if unreported is None:
            return qty
        known = qty - unreported[0]
        return 0.0 if abs(known) <= QTY_EPSILON * max(1.0, abs(qty)) else known

    def _record_position(self, position: Position, ts: int) -> None:
        record = position.record(self.session_id, ts)
        self.record.positions.append(record)
        self.record.events.append(("position", record))

    # --- equity, risk, liquidation ------------------------------------------------------------
    def _sample(self, ts: int, force: bool = False) -> None:
        """An equity point (on every fill, ``force``; else once per equity interval), then the
        perpetuals' liquidation check and the risk kill switches. One point per timestamp: a
        later one at the same time replaces it, in the record as on the curve. Nothing once a
        stop was asked for: the record ends where the kill switch fired."""
        if self.stop_requested:
            return
        interval = self._equity_interval
        self._next_equity = ts - ts % interval + interval
        point = self.portfolio.equity_point(self.session_id, ts)
        equity = self.record.equity
        if equity and equity[-1].ts == ts:
            equity[-1] = point
        else:
            equity.append(point)
        curve = self.equity_curve
        if curve and curve[-1][0] == ts:
            curve[-1] = (ts, point.equity)
        else:
            curve.append((ts, point.equity))
        if self._swap:
            self._update_liquidation_prices()
            if self.portfolio.below_maintenance():
                self._liquidate(None)
                return
        if self._watch_risk:
            rule = self.risk.on_equity(ts, point.equity)
            if rule is not None:
                self.kill(rule)

    def _update_liquidation_prices(self) -> None:
        self._liq.clear()  # the same dict: ``process`` holds a reference to it
        for pos in self.portfolio.open_positions():
            price = self.portfolio.liquidation_price(pos.symbol)
            if price is not None:
                self._liq[pos.symbol] = (price, 1 if pos.qty > 0 else -1)

    def _liquidate(self, symbol: str | None) -> None:
        """Liquidate the account: ``symbol``'s position crossed its liquidation price (``None``:
        the account fell below maintenance as a whole, and the largest position is taken as
        the one that did). That position closes at its settlement price, the others at their
        marks, each paying the liquidation fee; then the session stops."""
        if self.halted:
            return
        portfolio = self.portfolio
        held = portfolio.open_positions()
        if symbol is None and held:
            symbol = max(held, key=lambda p: abs(p.qty) * p.mark).symbol
        rate = self.config.liquidation_fee
        settlement = (
            None
            if symbol is None
            else portfolio.liquidation_settlement(symbol, self.config.liquidation_close, rate)
        )
        self.record.events.append(
            (
                "risk",
                {
                    "action": "liquidation",
                    "symbol": symbol,
                    "price": settlement.price if settlement else None,
                    "close_at": self.config.liquidation_close,
                    "fee": settlement.fee if settlement else None,
                    "equity": portfolio.equity(),
                },
            )
        )
        marks = {symbol: settlement.price} if symbol and settlement else None
        self.kill("liquidation", marks=marks, fee_rate=rate)

    def kill(
        self, rule: str, marks: dict[str, float] | None = None, fee_rate: float | None = None
    ) -> None:
        """Stop trading: cancel every order, close every position at its mark (taker, with
        slippage; or, given a liquidation ``fee_rate``, at exactly that price paying that fee
        instead), and ask for the session to stop with ``stop_reason=rule``."""
        if self.halted:
            return
        self.halted = rule
        self.venue.cancel_all(self.ts, f"halted_by_{rule}")
        for pos in self.portfolio.open_positions():
            mark = (marks or {}).get(pos.symbol) or pos.mark or self.state[pos.symbol].price
            assert mark is not None, "an open position has had a price"
            if fee_rate is None:
                self.venue.close_now(pos.symbol, mark, self.ts, rule)
            else:
                self.venue.liquidate(pos.symbol, mark, fee_rate, self.ts, rule)
        self.record.events.append(
            ("risk", {"action": "kill", "rule": rule, "equity": self.portfolio.equity()})
        )
        self.stop_requested = rule

    # --- results ------------------------------------------------------------------------------
    def drain(self) -> RecordBatch:
        """Take the record accumulated since the last drain."""
        taken, self.record = self.record, RecordBatch()
        return taken

    def metrics(self) -> dict[str, Any]:
        open_since = [p.trip_start for p in self.portfolio.open_positions()]
        result = compute_metrics(
            initial=self.portfolio.initial_cash,
            points=self.equity_curve,
            trips=self.portfolio.trips,
            fees=self.portfolio.fees,
            open_since=open_since,
        )
        result.update(account_metrics(self.portfolio))
        return result

"""The paper venue: the fill model every paper session and backtest trades against.

What fills, when and at what price:

- An order is seen by the venue from ``active_ts = decision time + latency`` on: the first market
  event at or after that time can fill it.
- **Order book** (a ``BookSnapshot``): market orders, triggered stops and marketable limits walk
  the opposite side level by level (partial fills when the visible book is too thin; the rest waits
  for the next event). A resting limit fills as maker at its price, against the quantity the book
  shows at or through it. Orders filling on one snapshot share its liquidity, and what the
  session took from a level stays taken on later snapshots until the exchange updates that level
  (``papertape.domain.liquidity``): no two fills from the same liquidity. A resting limit also
  has a place in its level's queue (``papertape.domain.queue``, the session's ``queue_model``):
  prints at its price fill it once the queue ahead of it is gone.
- **Trade prints** (no book): market orders and triggered stops fill at the print's price moved
  against the order by ``slippage_bps``. A marketable limit fills at the better of the two prices;
  a resting limit fills (maker, at its price) only when a print trades *through* it, for at most
  the printed quantity, which the resting orders it fills share (oldest first).
- **Bars**: a market order fills at the next bar's open (± slippage), or at the deciding bar's
  close with ``bar_fill="close"``. A new buy limit already marketable at the next open fills
  there (taker); otherwise it rests and fills at its price (maker) once a bar's low goes below
  it; a buy stop fills at ``max(open, stop)`` when the high reaches it (mirrored for sells).
  Within one bar, stops are checked before limits (the conservative reading of a bar that
  touched both a stop-loss and a take-profit).
- Cancels reach the venue after the cancel latency: until then the order can still fill (a
  cancel that arrives after the order filled is counted in ``late_cancels``; one that arrives after
  a partial fill cancels the rest). Kill switches and session ends cancel at once.
- The venue's response — a fill — reaches the strategies ``response_latency_us`` after it
  happened (``papertape.engine.core``): until then a strategy's ``position`` does not show it and
  its ``on_fill`` has not run, so it may act on the old position (send an order twice, close what
  is already closed). The account (cash, equity, the ``Order`` objects) is the venue's at once.
- Fees: ``taker`` or ``maker`` rate × notional, in the quote currency.
- The portfolio limits each fill to what the account can pay for (``Portfolio.fillable``); the
  part it cannot is cancelled with reason ``insufficient_funds``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from papertape.domain.latency import Latency
from papertape.domain.liquidity import ASK, BID, LiquidityLedger
from papertape.domain.market import BookSnapshot, Candle, Trade
from papertape.domain.orders import (
    BUY,
    CANCELLED,
    FILLED,
    LIMIT,
    MARKET,
    PARTIAL,
    QTY_EPSILON,
    REJECTED,
    SELL,
    STOP,
    Order,
    OrderStatus,
)
from papertape.domain.portfolio import Portfolio, Position, RoundTrip
from papertape.domain.queue import TRADE_THROUGH, QueueModel, QueueSpot
from papertape.domain.records import Fill

# Public base-tier spot fee schedules (taker, maker) as fractions; overridable per session.
EXCHANGE_FEES: dict[str, tuple[float, float]] = {
    "mexc": (0.0005, 0.0),
    "binance": (0.001, 0.001),
    "binanceusdm": (0.0005, 0.0002),
    "bybit": (0.001, 0.001),
    "okx": (0.001, 0.0008),
    "kraken": (0.004, 0.0025),
    "coinbase": (0.006, 0.004),
    "kucoin": (0.001, 0.001),
    "gate": (0.002, 0.002),
    "bitget": (0.001, 0.001),
}
DEFAULT_FEES = (0.001, 0.001)
DUST = 1e-9  # relative: a remainder this small counts as filled


def exchange_fees(
    exchange: str, taker: float | None = None, maker: float | None = None
) -> tuple[float, float]:
    """(taker, maker) for ``exchange``, with either rate overridden when given."""
    default_taker, default_maker = EXCHANGE_FEES.get(exchange.lower(), DEFAULT_FEES)
    return (default_taker if taker is None else taker, default_maker if maker is None else maker)


def _required(value: float | None) -> float:
    """A value the order's type guarantees (a limit's price, a stop's stop price, the size of an
    order that is filling): present by validation, ``None`` only in the type."""
    assert value is not None
    return value


class VenueListener:
    """What the venue tells its owner (the engine): order changes and fills, as they happen."""

    def order_changed(self, order: Order) -> None: ...

    def filled(
        self, order: Order, fill: Fill, position: Position, trip: RoundTrip | None
    ) -> None: ...


class Venue(ABC):
    """Where the engine's orders go: the paper venue (simulated fills) or the live one (the
    exchange's). Both keep the same books (live orders by id and per symbol, order and fill
    sequences), size and book fills the same way, and tell the same listener."""

    def __init__(
        self,
        portfolio: Portfolio,
        listener: VenueListener,
        *,
        taker: float = 0.001,
        maker: float = 0.001,
        id_prefix: str = "",
        session_id: str = "",
    ):
        self.portfolio = portfolio
        self.session_id = session_id  # whose tape the fills are booked on
        self.listener = listener
        self.taker, self.maker = taker, maker
        self.id_prefix = id_prefix
        self.open_orders: dict[str, list[Order]] = {}  # per symbol, in arrival order
        self.orders: dict[str, Order] = {}  # live orders by id
        self.last_bar: dict[str, Candle] = {}  # the latest bar per symbol
        self.order_seq = 0
        self.fill_seq = 0
        self.books_seen: set[str] = set()  # symbols whose data has order books (paper fills)
        self.late_cancels = 0  # cancels that arrived after their order had filled (paper latency)

    def next_order_id(self) -> str:
        self.order_seq += 1
        return f"{self.id_prefix}o{self.order_seq}"

    # --- what each venue does its own way ---------------------------------------------------
    @abstractmethod
    def submit(self, order: Order) -> Order:
        """Accept a validated order."""

    @abstractmethod
    def cancel(self, order_id: str, ts: int, reason: str = "cancelled") -> Order | None:
        """Cancel a live order (``None`` when there is none by that id)."""

    @abstractmethod
    def cancel_all(self, ts: int, reason: str, symbol: str | None = None) -> list[Order]:
        """Cancel every live order (of ``symbol``)."""

    @abstractmethod
    def close_now(self, symbol: str, price: float, ts: int, reason: str) -> Order | None:
        """Close ``symbol``'s whole position at once (the kill switch)."""

    @abstractmethod
    def liquidate(
        self, symbol: str, price: float, fee_rate: float, ts: int, reason: str
    ) -> Order | None:
        """Close ``symbol``'s whole position as the exchange's liquidation engine does."""

    def closing_order(self, symbol: str, ts: int, reason: str) -> Order | None:
        """A reduce-only market order for ``symbol``'s whole position (``None`` when flat)."""
        held = self.portfolio.qty(symbol)
        if not held:
            return None
        return Order(
            order_id=self.next_order_id(),
            symbol=symbol,
            side=SELL if held > 0 else BUY,
            type=MARKET,
            qty=abs(held),
            created_ts=ts,
            active_ts=ts,
            reduce_only=True,
            reason=reason,
            updated_ts=ts,
        )

    @abstractmethod
    def on_trade(self, trade: Trade) -> None: ...

    @abstractmethod
    def on_bar(self, bar: Candle) -> None: ...

    @abstractmethod
    def on_book(self, book: BookSnapshot) -> None: ...

    def snapshot(self) -> list[dict[str, Any]]:
        """The live orders, for a detail view."""
        return [
            {
                "order_id": o.order_id,
                "symbol": o.symbol,
                "side": o.side,
                "type": o.type,
                "qty": o.qty,
                "filled_qty": o.filled_qty,
                "price": o.price,
                "stop_price": o.stop_price,
                "status": o.status,
            }
            for o in self.orders.values()
            if o.is_live
        ]

    # --- shared bookkeeping -----------------------------------------------------------------
    def size_for(self, order: Order, price: float) -> float:
        """Resolve a ``qty=None`` order at its first fill: close the opposite position, or
        open with ``fraction`` of the buying power at ``price``."""
        held = self.portfolio.qty(order.symbol)
        sign = order.sign
        if held * sign < 0:
            return abs(held)
        if order.reduce_only:
            return 0.0
        fee_rate = self.maker if order.maker else self.taker
        return self.portfolio.max_open_qty(order.symbol, sign, price, fee_rate) * order.fraction

    def _execute(
        self, order: Order, qty: float, price: float, fee: float, ts: int, maker: bool
    ) -> None:
        """Book one execution of ``order``: the fill, the portfolio, the order's status, and
        the listener told of both."""
        self.fill_seq += 1
        fill = Fill(
            session_id=self.session_id,
            fill_id=f"{self.id_prefix}f{self.fill_seq}",
            order_id=order.order_id,
            ts=ts,
            symbol=order.symbol,
            side=order.side.value,
            qty=qty,
            price=price,
            fee=fee,
            liquidity="maker" if maker else "taker",
        )
        position, trip = self.portfolio.apply_fill(fill)
        order.filled_qty += qty
        order.notional += qty * price
        order.fees += fee
        order.updated_ts = ts
        size = _required(order.qty)  # sized before any execution
        order.move_to(FILLED if size - order.filled_qty <= DUST * size else PARTIAL)
        self.listener.filled(order, fill, position, trip)
        self.listener.order_changed(order)

    def _end_order(self, order: Order, status: OrderStatus, ts: int, reason: str) -> None:
        """End a live order without (fully) filling it: cancelled or rejected."""
        order.move_to(status)
        order.reason = reason
        order.updated_ts = ts
        self.listener.order_changed(order)


class PaperVenue(Venue):
    def __init__(
        self,
        portfolio: Portfolio,
        listener: VenueListener,
        *,
        taker: float = 0.001,
        maker: float = 0.001,
        slippage_bps: float = 0.0,
        latency_us: int = 0,
        bar_fill: str = "next_open",
        id_prefix: str = "",
        queue_model: str = TRADE_THROUGH,
        cancel_latency_us: int = 0,
        session_id: str = "",
        latency: Latency | None = None,
        cancel_latency: Latency | None = None,
    ):
        """``latency``/``cancel_latency`` (drawn per order/cancel) replace the constant
        ``latency_us``/``cancel_latency_us`` when given."""
        if bar_fill not in ("next_open", "close"):
            raise ValueError("bar_fill must be 'next_open' or 'close'")
        super().__init__(
            portfolio,
            listener,
            taker=taker,
            maker=maker,
            id_prefix=id_prefix,
            session_id=session_id,
        )
        self.slip = slippage_bps / 10_000
        self.latency = latency or Latency(latency_us)
        self.bar_fill = bar_fill
        self.liquidity = LiquidityLedger()
        self.queue = QueueModel(queue_model) if queue_model != TRADE_THROUGH else None
        self.queue_spots: dict[str, QueueSpot] = {}  # resting limit orders' places, by order id
        self.cancel_latency = cancel_latency or Latency(cancel_latency_us)
        self.pending_cancels: dict[str, tuple[int, str]] = {}  # order id → (due ts, reason)

    # --- orders in --------------------------------------------------------------------------
    def submit(self, order: Order) -> Order:
        """Accept a validated order. With ``bar_fill="close"`` and no latency a market order
        decided on a bar fills at once at that bar's close."""
        order.active_ts = order.created_ts + self.latency.draw()
        order.updated_ts = order.created_ts
        self.orders[order.order_id] = order
        self.open_orders.setdefault(order.symbol, []).append(order)
        self.listener.order_changed(order)
        bar = self.last_bar.get(order.symbol)
        if (
            self.bar_fill == "close"
            and order.type == MARKET
            and bar is not None
            and order.active_ts <= order.created_ts
        ):
            self._fill_taker(order, bar.close, order.created_ts)
            self._sweep(order.symbol)
        return order

    def cancel(self, order_id: str, ts: int, reason: str = "cancelled") -> Order | None:
        """Cancel a live order: at once without cancel latency, else when the cancel reaches
        the venue (``_arrived_cancels``); the order is returned either way."""
        order = self.orders.get(order_id)
        if order is None or not order.is_live:
            return None
        if self.cancel_latency:
            if order_id not in self.pending_cancels:  # asked again: the first one is on its way
                self.pending_cancels[order_id] = (ts + self.cancel_latency.draw(), reason)
            return order
        self._end_order(
            order, CANCELLED, ts, f"{order.reason}_{reason}" if order.reason else reason
        )
        self._sweep(order.symbol)
        return order

    def _arrived_cancels(self, symbol: str, ts: int) -> None:
        """Apply the cancels of ``symbol``'s orders that reach the venue by ``ts``."""
        for order_id, (due, reason) in list(self.pending_cancels.items()):
            order = self.orders.get(order_id)
            if order is None or not order.is_live:  # filled (or ended) before the cancel came
                del self.pending_cancels[order_id]
                self.late_cancels += 1
                continue
            if order.symbol != symbol or due > ts:
                continue
            del self.pending_cancels[order_id]
            self._end_order(
                order, CANCELLED, due, f"{order.reason}_{reason}" if order.reason else reason
            )
        self._sweep(symbol)

    def cancel_all(self, ts: int, reason: str, symbol: str | None = None) -> list[Order]:
        cancelled = []
        for order in list(self.orders.values()):
            if order.is_live and (symbol is None or order.symbol == symbol):
                self._end_order(order, CANCELLED, ts, reason)
                self.pending_cancels.pop(order.order_id, None)
                cancelled.append(order)
        for sym in list(self.open_orders):
            self._sweep(sym)
        return cancelled

    def close_now(self, symbol: str, price: float, ts: int, reason: str) -> Order | None:
        """Close ``symbol``'s whole position at once at ``price`` (± slippage), as a taker: the
        kill switch, which cannot wait for the next market event."""
        order = self.closing_order(symbol, ts, reason)
        if order is not None:
            self.orders[order.order_id] = order
            self.listener.order_changed(order)
            self._fill_taker(order, self._slipped(order, price), ts)
            self.orders.pop(order.order_id, None)
        return order

    def liquidate(
        self, symbol: str, price: float, fee_rate: float, ts: int, reason: str
    ) -> Order | None:
        """Close ``symbol``'s whole position at exactly ``price``, paying ``fee_rate`` of the
        notional: the exchange's liquidation engine takes it over at the settlement price,
        whatever the book holds."""
        order = self.closing_order(symbol, ts, reason)
        if order is not None:
            self.orders[order.order_id] = order
            self.listener.order_changed(order)
            qty = _required(order.qty)
            self._execute(order, qty, price, qty * price * fee_rate, ts, False)
            self.orders.pop(order.order_id, None)
        return order

    # --- market events in -------------------------------------------------------------------
    def on_trade(self, trade: Trade) -> None:
        if self.pending_cancels:
            self._arrived_cancels(trade.symbol, trade.ts)
        ts, price = trade.ts, trade.price
        left = [trade.qty]  # the print's quantity, shared by the resting orders it fills
        for order in list(self.open_orders.get(trade.symbol, ())):
            if not order.is_live or order.active_ts > ts:
                continue
            if order.type == LIMIT:
                self._limit_on_print(order, trade, left)
            elif order.type == STOP and not order.triggered:
                stop = _required(order.stop_price)
                if (price >= stop) if order.side == BUY else (price <= stop):
                    order.triggered = True
                    self._fill_taker(order, self._slipped(order, price), ts)
            else:
                self._fill_taker(order, self._slipped(order, price), ts)
        self._sweep(trade.symbol)

    def on_bar(self, bar: Candle) -> None:
        if self.pending_cancels:
            self._arrived_cancels(bar.symbol, bar.ts)
        self.last_bar[bar.symbol] = bar
        orders = [o for o in self.open_orders.get(bar.symbol, ()) if o.active_ts <= bar.ts]
        # stops first, then market orders, then limits (see the module docstring)
        for order in sorted(orders, key=lambda o: (o.type != STOP, o.type == LIMIT)):
            if not order.is_live:
                continue
            buy = order.side == BUY
            if order.type == STOP and not order.triggered:
                stop = _required(order.stop_price)
                if (bar.high >= stop) if buy else (bar.low <= stop):
                    order.triggered = True
                    price = max(bar.open, stop) if buy else min(bar.open, stop)
                    self._fill_taker(order, self._slipped(order, price), bar.ts)
            elif order.type == LIMIT:
                limit = _required(order.price)
                if not order.maker and ((bar.open <= limit) if buy else (bar.open >= limit)):
                    self._fill_taker(order, bar.open, bar.ts)  # marketable on arrival, at the open
                    continue
                order.maker = True  # resting: it fills at its own price, even after a gap
                if (bar.low < limit) if buy else (bar.high > limit):
                    self._fill(order, self._want(order, limit, bar.ts), limit, bar.ts, True)
            else:
                self._fill_taker(order, self._slipped(order, bar.open), bar.ts)
        self._sweep(bar.symbol)

    def on_book(self, book: BookSnapshot) -> None:
        self.books_seen.add(book.symbol)
        if self.pending_cancels:
            self._arrived_cancels(book.symbol, book.ts)
        live = [o for o in self.open_orders.get(book.symbol, ()) if o.active_ts <= book.ts]
        if not live:
            return
        # the snapshot's liquidity (less what earlier fills took), shared by the orders on it
        asks = self.liquidity.levels(book.symbol, ASK, book.asks)
        bids = self.liquidity.levels(book.symbol, BID, book.bids)
        for order in live:
            if not order.is_live:
                continue
            buy = order.side == BUY
            levels = asks if buy else bids
            if order.type == STOP and not order.triggered:
                touch = (asks[0][0] if asks else None) if buy else (bids[0][0] if bids else None)
                stop = _required(order.stop_price)
                if touch is None or ((touch < stop) if buy else (touch > stop)):
                    continue
                order.triggered = True
            limit = order.price if order.type == LIMIT else None
            if limit is not None:
                best = levels[0][0] if levels else None
                if best is None or ((best > limit) if buy else (best < limit)):
                    order.maker = True  # not marketable (on arrival, or any more): it rests
                    if self.queue is not None:
                        self._queue_on_book(order, book)
                    continue
            self._walk(order, levels, limit, book.ts)
        self._sweep(book.symbol)

    def _queue_on_book(self, order: Order, book: BookSnapshot) -> None:
        """A resting order's level in a new snapshot: it joins the queue, or moves up in it."""
        own = book.bids if order.side == BUY else book.asks
        level = next((qty for price, qty in own if price == order.price), 0.0)
        spot = self.queue_spots.get(order.order_id)
        if spot is None:
            self.queue_spots[order.order_id] = self.queue.join(level)  # type: ignore[union-attr]
        else:
            self.queue.on_level(spot, level)  # type: ignore[union-attr]

    # --- filling ----------------------------------------------------------------------------
    def _slipped(self, order: Order, price: float) -> float:
        return price * (1 + self.slip) if order.side == BUY else price * (1 - self.slip)

    def _limit_on_print(self, order: Order, trade: Trade, left: list[float]) -> None:
        price, limit, buy = trade.price, _required(order.price), order.side == BUY
        if not order.maker:
            if (price <= limit) if buy else (price >= limit):  # marketable on arrival
                slipped = self._slipped(order, price)
                self._fill_taker(
                    order, min(slipped, limit) if buy else max(slipped, limit), trade.ts
                )
                return
            order.maker = True
        if left[0] <= QTY_EPSILON:
            return
        if (price < limit) if buy else (price > limit):  # traded through
            size = self._want(order, limit, trade.ts)
            if size is not None:
                left[0] -= self._fill(order, min(size, left[0]), limit, trade.ts, True)
            return
        spot = self.queue_spots.get(order.order_id)
        if spot is not None and price == limit and trade.side != order.side:
            reaching = self.queue.on_trade_at_price(spot, left[0])  # type: ignore[union-attr]
            size = self._want(order, limit, trade.ts) if reaching > QTY_EPSILON else None
            if size is not None:
                left[0] -= self._fill(order, min(size, reaching), limit, trade.ts, True)

    def _fill_taker(self, order: Order, price: float, ts: int) -> None:
        """Fill what is left of ``order`` at ``price``, taking liquidity."""
        self._fill(order, self._want(order, price, ts), price, ts, False)

    def _walk(self, order: Order, levels: list[list[float]], limit: float | None, ts: int) -> None:
        buy = order.side == BUY
        maker = order.maker
        side = ASK if buy else BID
        for level in levels:
            if not order.is_live:
                return
            price, available, shown = level
            if available <= 0:
                continue
            if limit is not None and ((price > limit) if buy else (price < limit)):
                return
            want = self._want(order, price, ts)
            if want is None:
                return
            fill_price = _required(limit) if maker else price
            done = self._fill(order, min(want, available), fill_price, ts, maker)
            level[1] = available - done
            if done > 0:
                self.liquidity.take(order.symbol, side, price, shown, done)

    def _want(self, order: Order, price: float, ts: int) -> float | None:
        """What is left to fill; a ``qty=None`` order is sized here, at its first fill price
        (rejected when that size is zero)."""
        if not order.is_live:
            return None
        if order.qty is None:
            order.qty = self.size_for(order, price)
            if order.qty <= QTY_EPSILON:
                order.qty = 0.0
                self._end_order(
                    order,
                    REJECTED,
                    ts,
                    "nothing_to_close" if order.reduce_only else "insufficient_funds",
                )
                return None
        return order.qty - order.filled_qty

    def _fill(self, order: Order, qty: float | None, price: float, ts: int, maker: bool) -> float:
        """Execute up to ``qty`` at ``price``; returns the quantity filled."""
        if qty is None or not order.is_live:
            return 0.0
        rate = self.maker if maker else self.taker
        short_of_funds = False
        if order.reduce_only:
            held = self.portfolio.qty(order.symbol)
            qty = min(qty, abs(held)) if held * order.sign < 0 else 0.0
        else:
            wanted = qty
            qty = self.portfolio.fillable(order.symbol, order.sign, qty, price, rate)
            short_of_funds = qty < wanted * (1 - DUST)
        if qty <= QTY_EPSILON:
            reason = "nothing_to_reduce" if order.reduce_only else "insufficient_funds"
            self._end_order(order, CANCELLED if order.filled_qty else REJECTED, ts, reason)
            return 0.0
        self._execute(order, qty, price, qty * price * rate, ts, maker)
        if order.status == FILLED and self.pending_cancels.pop(order.order_id, None) is not None:
            self.late_cancels += 1  # the cancel was on its way: it comes too late
        if order.status == PARTIAL:
            if order.reduce_only and not self.portfolio.qty(order.symbol):
                self._end_order(order, CANCELLED, ts, "position_closed")
            elif not order.reduce_only and short_of_funds:
                self._end_order(order, CANCELLED, ts, "insufficient_funds")
        return qty

    def _sweep(self, symbol: str) -> None:
        """Drop orders that are no longer live from the books of the venue."""
        orders = self.open_orders.get(symbol)
        if orders and any(not o.is_live for o in orders):
            kept = [o for o in orders if o.is_live]
            for o in orders:
                if not o.is_live:
                    self.orders.pop(o.order_id, None)
                    self.queue_spots.pop(o.order_id, None)
            if kept:
                self.open_orders[symbol] = kept
            else:
                del self.open_orders[symbol]

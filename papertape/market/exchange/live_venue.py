"""The execution venue of a live session: the engine's orders go to the exchange, fills come back
from it. Nothing is simulated here.

``LiveVenue`` takes the paper venue's place inside the engine (the same ``Venue`` interface and
bookkeeping, the same listener and portfolio), so strategies, risk rules and the record work
exactly as in paper trading. It is
synchronous like the engine: ``submit`` / ``cancel`` only queue the request (``outbox``,
``cancels``); the session's consumer, which owns the network, sends them and hands the
exchange's answers back through ``exchange_fill`` and ``exchange_end``. Market events fill
nothing: ``open_orders`` stays empty, so the engine never asks for simulated fills.
"""

from __future__ import annotations

from collections.abc import Callable

from papertape.domain.market import BookSnapshot, Candle, Trade
from papertape.domain.orders import (
    LIMIT,
    MARKET,
    QTY_EPSILON,
    REJECTED,
    STOP,
    Order,
    OrderStatus,
)
from papertape.domain.venue import Venue


class LiveVenue(Venue):
    def __init__(self, paper: Venue, last_price: Callable[[str], float | None]):
        """Replaces ``paper`` in the engine: its portfolio, listener, fee rates and ids."""
        super().__init__(
            paper.portfolio,
            paper.listener,
            taker=paper.taker,
            maker=paper.maker,
            id_prefix=paper.id_prefix,
            session_id=paper.session_id,
        )
        self.last_price = last_price  # the engine's, to size a ``qty=None`` order
        self.outbox: list[Order] = []  # accepted by the engine, not yet sent
        self.cancels: list[tuple[Order, str]] = []  # cancellations not yet sent

    # --- orders in --------------------------------------------------------------------------
    def submit(self, order: Order) -> Order:
        order.active_ts = order.updated_ts = order.created_ts
        reason = self._refusal(order)
        if reason:
            self._end_order(order, REJECTED, order.created_ts, reason)
            return order
        self.orders[order.order_id] = order
        self.outbox.append(order)
        self.listener.order_changed(order)
        return order

    def _refusal(self, order: Order) -> str:
        """Why ``order`` cannot go to the exchange as it is (empty when it can); a ``qty=None``
        order is sized here, at the last price, since the exchange needs a quantity."""
        if order.type == STOP:
            return "stop_orders_not_sent_live"
        if order.type not in (MARKET, LIMIT):
            return "unsupported_order_type"
        if order.qty is None:
            price = order.price or self.last_price(order.symbol)
            if price is None:
                return "no_price_yet"
            order.qty = self.size_for(order, price)
            if order.qty <= QTY_EPSILON:
                order.qty = 0.0
                return "nothing_to_close" if order.reduce_only else "insufficient_funds"
        return ""

    def cancel(self, order_id: str, ts: int, reason: str = "cancelled") -> Order | None:
        """Ask the exchange to cancel; the order ends when the exchange says so."""
        order = self.orders.get(order_id)
        if order is None or not order.is_live:
            return None
        self.cancels.append((order, reason))
        return order

    def cancel_all(self, ts: int, reason: str, symbol: str | None = None) -> list[Order]:
        asked = []
        for order in list(self.orders.values()):
            if order.is_live and (symbol is None or order.symbol == symbol):
                self.cancels.append((order, reason))
                asked.append(order)
        return asked

    def close_now(self, symbol: str, price: float, ts: int, reason: str) -> Order | None:
        """The kill switch: a reduce-only market order for the whole position, sent at once."""
        order = self.closing_order(symbol, ts, reason)
        return None if order is None else self.submit(order)

    def liquidate(
        self, symbol: str, price: float, fee_rate: float, ts: int, reason: str
    ) -> Order | None:
        """A real account is liquidated by the exchange itself; when the engine's own check
        fires first, the position is closed with a market order like the kill switch."""
        return self.close_now(symbol, price, ts, reason)

    # --- market events fill nothing ---------------------------------------------------------
    def on_trade(self, trade: Trade) -> None:
        return None

    def on_bar(self, bar: Candle) -> None:
        self.last_bar[bar.symbol] = bar

    def on_book(self, book: BookSnapshot) -> None:
        return None

    # --- the exchange's answers -------------------------------------------------------------
    def exchange_fill(
        self, order: Order, qty: float, price: float, fee: float, ts: int, maker: bool
    ) -> None:
        """An execution the exchange reported: into the portfolio and the record, as is."""
        self._execute(order, qty, price, fee, ts, maker)
        if not order.is_live:
            self.orders.pop(order.order_id, None)

    def exchange_end(self, order: Order, status: OrderStatus, ts: int, reason: str) -> None:
        """The exchange ended ``order`` without (fully) filling it: cancelled or rejected."""
        if order.is_live:
            self._end_order(order, status, ts, reason)
        self.orders.pop(order.order_id, None)

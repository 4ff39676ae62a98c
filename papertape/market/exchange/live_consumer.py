"""What a ``live`` session does: orders on the real exchange through ``LiveBroker``.

At start it loads the keys (``CredentialsMissing`` fails the start with a clear code) and
reconciles with the exchange (open orders of this session, balances); the report goes on the
tape as a ``reconciliation`` event. A poller asks the exchange about live orders every
``poll_interval`` seconds, whether market data flows or not, and writes every change and fill to
the tape once. When the exchange cannot be reached the
session keeps running and says so in its detail; the first successful call after that reconciles
again.

Manual orders arrive through ``place_manual_order`` (``POST /sessions/{id}/orders``). However
the session ends (stopped, failed, server shut down) its open orders are cancelled on the
exchange: a live session is not resumed after a restart (``sessions.reconcile``), so nothing may
keep trading unattended.

Running strategies against the exchange is the engine's part and is not wired here: a live
session records the feed and carries manual orders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import structlog

from papertape.domain.errors import OrderRejected, PapertapeError, SessionNotRunning
from papertape.domain.market import MarketEvent
from papertape.domain.session import Session
from papertape.engine.consumer import Consumer, RunContext

log = structlog.get_logger("papertape.exchange.live")

POLL_INTERVAL = 1.0


class LiveTradingConsumer(Consumer):
    def __init__(self, session: Session, *, hub: Any = None, credentials: Any = None,
                 poll_interval: float = POLL_INTERVAL):
        self.session = session
        self.poll_interval = poll_interval
        self._hub = hub
        self._credentials = credentials
        self.broker: Any = None
        self._needs_reconcile = False
        self._exchange_error = ""
        self._poller: asyncio.Task | None = None
        self._error: PapertapeError | None = None
        self._last_reconcile: dict[str, Any] | None = None
        self._by_user_id: dict[str, str] = {}
        self._recorded_fills: set[str] = set()
        self._recorded_state: dict[str, tuple] = {}  # client order id → (status, filled) on the tape
        self._log = log.bind(session_id=session.session_id)

    async def start(self, ctx: RunContext) -> None:
        from papertape.market.exchange.credentials import load_credentials
        from papertape.market.exchange.live import LiveBroker

        await super().start(ctx)
        market = self.session.config["market"]
        credentials = self._credentials or load_credentials(market["exchange"])
        self.broker = LiveBroker(
            self.session.session_id, market["exchange"], market["market_type"],
            list(self.session.symbols), credentials, hub=self._hub,
        )
        try:
            await self._reconciled(await self.broker.open())
        except PapertapeError as exc:
            if exc.code != "exchange_unavailable":
                raise
            self._unreachable(exc)
        self._poller = asyncio.create_task(self._poll_loop(), name=f"live-{self.session.session_id}")

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        """Orders are tracked by the poller, whether market data flows or not; a permanent
        exchange error it met fails the session here."""
        if self._error is not None:
            raise self._error

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self._sync()
            except PapertapeError as exc:  # keys revoked, ...: fail the session
                self._log.error("live.poll_failed", error_code=exc.code, error=exc.message)
                self._error = exc
                return

    async def place_manual_order(self, symbol: str, side: str, type: str, qty: float | None,
                                 price: float | None = None, stop_price: float | None = None,
                                 client_order_id: str = "") -> Any:
        """Send a user's order to the exchange; on the tape when this returns. A refusal by the
        exchange is recorded as a rejected order and raised as ``OrderRejected``."""
        if self.broker is None or not self.broker.connected:
            raise SessionNotRunning("the exchange connection is not up yet",
                                    session_id=self.session.session_id)
        if type not in ("market", "limit") or qty is None:
            raise OrderRejected(
                f"live sessions take market and limit orders with a quantity, not {type!r}",
                session_id=self.session.session_id,
                details=[{"field": "type", "message": "market or limit, with qty"}],
            )
        known = self._by_user_id.get(client_order_id) if client_order_id else None
        order = await self.broker.submit(symbol, side, type, qty, price, client_id=known)
        if client_order_id:
            self._by_user_id[client_order_id] = order.client_order_id
        await self._record([order])
        if order.status == "rejected":
            raise OrderRejected(f"the exchange refused the order: {order.reason}",
                                session_id=self.session.session_id,
                                details=[{"field": "order", "message": order.reason}])
        return order

    async def finish(self, reason: str) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self.broker is None:
            return
        try:
            if self.broker.connected:
                for order in [o for o in self.broker.orders.values() if o.is_live]:
                    await self.broker.cancel(order.client_order_id)
                    await self._record([order])
            await self._record(list(self.broker.orders.values()))  # what a cancelled poll left
        except PapertapeError as exc:
            self._log.error("live.cancel_on_stop_failed", error=exc.message)
        finally:
            await self.broker.close()

    def detail(self) -> dict[str, Any]:
        broker = self.broker
        return {"live": {
            "exchange": f"unreachable: {self._exchange_error}" if self._exchange_error else "reachable",
            "open_orders": sum(1 for o in broker.orders.values() if o.is_live) if broker else 0,
            "balances": broker.balances if broker else {},
            "last_reconciliation": self._last_reconcile,
        }}

    # --- helpers ------------------------------------------------------------------------------
    async def _sync(self) -> None:
        try:
            if not self.broker.connected:
                await self._reconciled(await self.broker.open())
            elif self._needs_reconcile:
                await self._reconciled(await self.broker.reconcile())
            changed = await self.broker.poll()
        except PapertapeError as exc:
            if exc.code != "exchange_unavailable":
                raise
            self._unreachable(exc)
            return
        self._exchange_error = ""
        await self._record(changed)

    def _unreachable(self, exc: PapertapeError) -> None:
        if not self._exchange_error:
            self._log.warning("live.exchange_unreachable", error=exc.message)
        self._exchange_error = exc.message
        self._needs_reconcile = True

    async def _reconciled(self, report: Any) -> None:
        self._needs_reconcile = False
        self._exchange_error = ""
        self._last_reconcile = {"at": self.ctx.now(), **asdict(report)}
        await self.ctx.publish("reconciliation", self._last_reconcile)
        await self._record(list(self.broker.orders.values()))

    async def _record(self, orders: list) -> None:
        """Write the orders' current state and their fills not yet on the tape, then publish."""
        if not orders:
            return
        session_id = self.session.session_id
        rows = [
            order.record(session_id) for order in orders
            if self._recorded_state.get(order.client_order_id) != (order.status, order.filled_qty)
        ]
        fills = [f for order in orders for f in order.fills if f.fill_id not in self._recorded_fills]
        if rows:
            await self.ctx.store.record_orders(rows)
            self._recorded_state.update((r.order_id, (r.status, r.filled_qty)) for r in rows)
        if fills:
            await self.ctx.store.record_fills(fills)
            self._recorded_fills.update(f.fill_id for f in fills)
        for record in rows:
            await self.ctx.publish("order", record._asdict())
        for fill in fills:
            await self.ctx.publish("fill", fill._asdict())

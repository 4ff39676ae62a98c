"""What a ``live`` session runs: the engine of a paper session, with the paper venue replaced by
``LiveVenue`` and its orders carried to the exchange by ``LiveBroker``.

Strategies, risk rules, the portfolio and the record are the paper session's (``TradingConsumer``);
only execution differs. At start the keys are loaded (missing keys are refused earlier, at the
session's start, with ``exchange_credentials_missing``) and the broker reconciles with the
exchange (open orders of this session, balances; the report goes on the tape as a
``reconciliation`` event). After every batch of market data, after every manual order and every
``poll_interval`` seconds (whether market data flows or not) the consumer sends what the venue
queued, asks the exchange about live orders and hands executions and cancellations back to the
venue, then writes the record.

When the exchange cannot be reached the session keeps running and says so in its detail; the first
successful call after that reconciles again (an order whose submission had an unknown outcome is
adopted if the exchange has it, else recorded as rejected). A permanent exchange error (keys
refused) fails the session. However the session ends, its open orders are cancelled on the
exchange: live sessions are not resumed after a restart (``sessions.reconcile``), so nothing may
keep trading unattended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import structlog

from papertape.domain.config import SessionConfig
from papertape.domain.errors import FeedError, OrderRejected, PapertapeError
from papertape.domain.market import MarketEvent
from papertape.domain.orders import CANCELLED, REJECTED, ManualOrder, Order
from papertape.domain.session import Session
from papertape.sessions.consumers.base import RunContext
from papertape.sessions.consumers.trading import TradingConsumer

log = structlog.get_logger("papertape.exchange.live")

POLL_INTERVAL = 1.0


class LiveTradingConsumer(TradingConsumer):
    offload = False  # the exchange's answers change the engine from the event loop
    resumable = False  # a live session is failed after a crash, never resumed (module doc)

    def __init__(
        self,
        session: Session,
        config: SessionConfig,
        *,
        hub: Any = None,
        credentials: Any = None,
        poll_interval: float = POLL_INTERVAL,
    ):
        super().__init__(session, config)
        self.poll_interval = poll_interval
        self._hub = hub
        self._credentials = credentials
        self.broker: Any = None
        self.venue: Any = None
        self._by_client: dict[str, Order] = {}  # exchange client order id → the engine's order
        self._applied: dict[str, int] = {}  # client order id → executions handed to the venue
        self._unconfirmed: dict[str, Order] = {}  # sent, outcome unknown (exchange unreachable)
        self._sync_lock = asyncio.Lock()
        self._needs_reconcile = False
        self._exchange_error = ""
        self._last_reconcile: dict[str, Any] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._error: PapertapeError | None = None
        self._log = log.bind(session_id=session.session_id)

    async def start(self, ctx: RunContext) -> None:
        from papertape.market.exchange.credentials import load_credentials
        from papertape.market.exchange.live import LiveBroker
        from papertape.market.exchange.live_venue import LiveVenue

        market = self.config.market
        credentials = self._credentials or load_credentials(market.exchange)
        await super().start(ctx)
        engine = self.engine
        assert engine is not None  # started by the trading consumer
        self.venue = LiveVenue(engine.venue, engine.last_price)
        engine.venue = self.venue
        self.broker = LiveBroker(
            self.session.session_id,
            market.exchange,
            market.market_type,
            list(self.session.symbols),
            credentials,
            hub=self._hub,
        )
        await self._sync(poll=False)
        self._poller = asyncio.create_task(
            self._poll_loop(), name=f"live-{self.session.session_id}"
        )

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        if self._error is not None:
            raise self._error
        await super().on_batch(events)
        if self.venue.outbox or self.venue.cancels:
            await self._sync(poll=False)

    async def place_manual_order(self, asked: ManualOrder) -> Order:
        """The paper path (validation, risk rules, the record), then straight to the exchange. A
        refusal by the exchange is on the tape and raised as ``OrderRejected``."""
        order = await super().place_manual_order(asked)
        await self._sync(poll=False)
        if order.status == REJECTED:
            raise OrderRejected(
                f"the exchange refused the order: {order.reason}",
                session_id=self.session.session_id,
                details=[{"field": "order", "message": order.reason}],
            )
        return order

    async def finish(self, reason: str) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self.engine is None:
            return
        if reason == "suspended":  # not resumed later: cancel now (see the module docstring)
            self.venue.cancel_all(self.engine.ts, "session_suspended")
        await super().finish(reason)
        try:
            if self.broker is not None:
                await self._sync(poll=True)
        finally:
            if self.broker is not None:
                await self.broker.close()

    def detail(self) -> dict[str, Any]:
        detail = super().detail()
        broker = self.broker
        detail["live"] = {
            "exchange": f"unreachable: {self._exchange_error}"
            if self._exchange_error
            else "reachable",
            "open_orders": sum(1 for o in broker.orders.values() if o.is_live) if broker else 0,
            "unconfirmed_orders": len(self._unconfirmed),
            "balances": broker.balances if broker else {},
            "last_reconciliation": self._last_reconcile,
        }
        return detail

    # --- the exchange ---------------------------------------------------------------------------
    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self._sync(poll=True)
            except PapertapeError as exc:  # keys revoked, ...: the next batch fails the session
                self._log.error("live.poll_failed", error_code=exc.code, error=exc.message)
                self._error = exc
                return
            except Exception as exc:  # a bug: fail the session loudly, never stop tracking silently
                self._log.exception("live.poller_crashed")
                self._error = FeedError(
                    f"live order tracking crashed: {type(exc).__name__}: {exc}",
                    session_id=self.session.session_id,
                )
                return

    async def _sync(self, poll: bool) -> None:
        """Send what the venue queued, learn what the exchange did, record it."""
        async with self._sync_lock:
            try:
                if not self.broker.connected:
                    await self._reconciled(await self.broker.open())
                elif self._needs_reconcile:
                    await self._reconciled(await self.broker.reconcile())
                await self._send()
                if poll:
                    await self.broker.poll()
                self._exchange_error = ""
            except PapertapeError as exc:
                if exc.code not in ("exchange_unavailable", "exchange_rejected"):
                    raise  # keys refused: the session fails
                if not self._exchange_error:
                    self._log.warning("live.exchange_unreachable", error=exc.message)
                self._exchange_error = exc.message
                self._needs_reconcile = True
            self._hand_back()
            await self._commit_now()

    async def _send(self) -> None:
        venue, broker = self.venue, self.broker
        while venue.outbox:
            order = venue.outbox[0]
            client_id = broker.next_client_order_id()
            order.client_order_id = order.client_order_id or client_id
            self._unconfirmed[client_id] = order
            venue.outbox.pop(0)
            sent = await broker.submit(
                order.symbol,
                order.side.value,
                order.type.value,
                order.qty,
                order.price,
                client_id=client_id,
            )
            del self._unconfirmed[client_id]
            self._by_client[client_id] = order
            if sent.status == REJECTED:
                venue.exchange_end(order, REJECTED, self._answer_ts(order), sent.reason)
        while venue.cancels:
            order, _reason = venue.cancels[0]
            client_id = next((c for c, o in self._by_client.items() if o is order), None)
            if client_id is not None and broker.orders[client_id].is_live:
                await broker.cancel(client_id)
            venue.cancels.pop(0)

    def _hand_back(self) -> None:
        """Executions and ends the broker learnt of, into the venue (and so the portfolio)."""
        venue = self.venue
        for client_id, order in self._by_client.items():
            placed = self.broker.orders.get(client_id)
            if placed is None:
                continue
            fills = placed.fills[self._applied.get(client_id, 0) :]
            for fill in fills:
                venue.exchange_fill(
                    order, fill.qty, fill.price, fill.fee, fill.ts, fill.liquidity == "maker"
                )
            self._applied[client_id] = len(placed.fills)
            if placed.status in (CANCELLED, REJECTED) and order.is_live:
                venue.exchange_end(
                    order,
                    placed.status,
                    self._answer_ts(order),
                    placed.reason or f"{placed.status} on the exchange",
                )

    def _answer_ts(self, order: Order) -> int:
        """When an exchange answer without its own timestamp happened, on the engine's clock
        (the market data's), never before the order's last change: an order's rows on the tape
        stay in order whatever the skew between the exchange's clock and this machine's."""
        assert self.engine is not None  # answers come only to a started session
        return max(self.engine.ts, order.updated_ts)

    async def _reconciled(self, report: Any) -> None:
        self._needs_reconcile = False
        for client_id, outcome in report.unknown_resolved.items():
            order = self._unconfirmed.pop(client_id, None)
            if order is None:
                continue
            if client_id in self.broker.orders:
                self._by_client[client_id] = order
            else:
                self.venue.exchange_end(
                    order,
                    REJECTED,
                    self._answer_ts(order),
                    f"not received by the exchange ({outcome})",
                )
        self._last_reconcile = {"at": self.ctx.now(), **asdict(report)}
        await self.ctx.publish("reconciliation", self._last_reconcile)

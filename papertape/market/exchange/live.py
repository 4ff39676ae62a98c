"""Live orders through ccxt: idempotent submission, status tracking and reconciliation.

Idempotency: every order carries a client order id derived from the session id and the order's
number in the session (``client_order_id``), so the same order always has the same id, across
retries and across a server restart. When a ``create_order`` call fails in a way that leaves its
outcome unknown (timeout, connection lost after sending), the broker looks the id up on the
exchange before trying again: an order the exchange already has is adopted, never placed twice.
An exchange that answers a retry with ``DuplicateOrderId`` is handled the same way.

Tracking: ``poll()`` asks the exchange about every live order and turns changes of ``filled`` and
``cost`` into fills (partial fills included). ``reconcile()`` runs at start-up and after every
reconnect: it adopts the session's open orders the broker does not know (placed before a crash),
settles orders that ended while it was away, resolves submissions whose outcome was unknown, and
reads the balances.

Keys are given as ``Credentials`` and only ever passed to the ccxt exchange object; every error
text is redacted before it leaves this module.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import ccxt
import structlog

from papertape.domain.orders import OrderStatus, OrderType
from papertape.domain.records import Fill, OrderRecord
from papertape.market.exchange.backoff import Backoff
from papertape.market.exchange.connector import ExchangeHub, default_hub, describe
from papertape.market.exchange.credentials import Credentials
from papertape.market.exchange.errors import (
    ExchangeAuthFailed,
    ExchangeRejected,
    ExchangeUnavailable,
)
from papertape.market.exchange.symbols import from_ccxt, to_ccxt

log = structlog.get_logger("papertape.exchange.live")

_NETWORK = (ccxt.NetworkError, OSError, asyncio.TimeoutError)
_REJECTIONS = (ccxt.InsufficientFunds, ccxt.InvalidOrder, ccxt.BadRequest, ccxt.OperationRejected)
_STATUS = {  # ccxt's order status → ours
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}


def client_order_id(session_id: str, number: int) -> str:
    """``pt`` + 10 hex of the session id's hash + the order number: short and plain enough for
    every exchange's client-id rules (Binance: 36 chars of ``[A-Za-z0-9_-]``), unique per session
    and order, and the same on every retry."""
    digest = hashlib.sha256(session_id.encode()).hexdigest()[:10]
    return f"pt{digest}{number:06d}"


def _now_us() -> int:
    return time.time_ns() // 1_000


@dataclass
class LiveOrder:
    client_order_id: str
    symbol: str  # canonical
    side: str
    type: str  # "market" | "limit"
    qty: float
    price: float | None
    created_ts: int
    exchange_order_id: str | None = None
    status: OrderStatus = OrderStatus.OPEN  # as the exchange last reported it
    filled_qty: float = 0.0
    cost: float = 0.0
    fee: float = 0.0
    reason: str = ""
    updated_ts: int = 0
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_live(self) -> bool:
        return self.status.live

    def record(self, session_id: str) -> OrderRecord:
        return OrderRecord(
            session_id=session_id,
            order_id=self.client_order_id,
            ts=self.updated_ts or self.created_ts,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            qty=self.qty,
            price=self.price,
            stop_price=None,
            status=self.status.value,
            filled_qty=self.filled_qty,
            avg_fill_price=self.cost / self.filled_qty if self.filled_qty else None,
            created_ts=self.created_ts,
            client_order_id=self.client_order_id,
            reason=self.reason,
        )


@dataclass
class ReconcileReport:
    adopted: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    unknown_resolved: dict[str, str] = field(default_factory=dict)
    balances: dict[str, dict[str, float]] = field(default_factory=dict)


class LiveBroker:
    def __init__(
        self,
        session_id: str,
        exchange_id: str,
        market_type: str,
        symbols: list[str],
        credentials: Credentials,
        *,
        hub: ExchangeHub | None = None,
        retries: int = 3,
        retry_initial: float = 0.5,
        next_number: int = 1,
    ):
        self.session_id = session_id
        self.exchange_id = exchange_id
        self.market_type = market_type
        self.symbols = list(symbols)
        self.hub = hub or default_hub()
        self.retries = retries
        self.retry_initial = retry_initial
        self.next_number = next_number  # persisted by the caller (checkpoint) across restarts
        self.orders: dict[str, LiveOrder] = {}  # by client order id
        self.unconfirmed: set[str] = set()  # submitted, outcome unknown
        self.balances: dict[str, dict[str, float]] = {}
        self._secrets = credentials.secrets()
        self._credentials = credentials
        self._prefix = client_order_id(session_id, 0)[:-6]
        self._exchange: Any = None
        self._log = log.bind(session_id=session_id, exchange=exchange_id)

    # life ----------------------------------------------------------------------------------
    async def open(self) -> ReconcileReport:
        markets = await self.hub.markets(self.exchange_id)
        self.hub.check_symbols(self.exchange_id, self.market_type, self.symbols, markets)
        self._exchange = self.hub.create(self.exchange_id, self.market_type, self._credentials)
        return await self.reconcile()

    @property
    def connected(self) -> bool:
        """True once ``open()`` got as far as creating the exchange client."""
        return self._exchange is not None

    async def close(self) -> None:
        if self._exchange is not None:
            try:
                await asyncio.wait_for(self._exchange.close(), 2.0)
            except (TimeoutError, Exception) as exc:
                self._log.warning("live.close_failed", error=self._describe(exc))

    def next_client_order_id(self) -> str:
        client_id = client_order_id(self.session_id, self.next_number)
        self.next_number += 1
        return client_id

    # orders --------------------------------------------------------------------------------
    async def submit(
        self,
        symbol: str,
        side: str,
        type: str,
        qty: float,
        price: float | None = None,
        client_id: str | None = None,
    ) -> LiveOrder:
        """Place an order once, whatever happens on the wire. A refusal by the exchange comes back
        as a ``rejected`` order with the reason; an outcome still unknown after the retries raises
        ``ExchangeUnavailable`` and is settled by the next ``reconcile()``."""
        client_id = client_id or self.next_client_order_id()
        if client_id in self.orders:
            return self.orders[client_id]
        order = LiveOrder(client_id, symbol, side, type, float(qty), price, _now_us())
        unified = to_ccxt(symbol, self.market_type)
        backoff = Backoff(initial=self.retry_initial, maximum=10.0)
        self.unconfirmed.add(client_id)
        for attempt in range(self.retries + 1):
            try:
                raw = await self._exchange.create_order(
                    unified, type, side, qty, price, {"clientOrderId": client_id}
                )
            except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
                self.unconfirmed.discard(client_id)
                raise self._auth_failed(exc) from None
            except ccxt.DuplicateOrderId:  # an earlier attempt got through: find it
                raw = await self._lookup_quietly(client_id)
                if raw is None:
                    if attempt < self.retries:
                        await asyncio.sleep(backoff.next())
                    continue
            except _REJECTIONS as exc:
                self.unconfirmed.discard(client_id)
                order.status, order.reason, order.updated_ts = (
                    OrderStatus.REJECTED,
                    self._describe(exc),
                    _now_us(),
                )
                self.orders[client_id] = order
                self._log.warning(
                    "live.order.rejected", client_order_id=client_id, reason=order.reason
                )
                return order
            except _NETWORK as exc:
                self._log.warning(
                    "live.order.unknown_outcome",
                    client_order_id=client_id,
                    error=self._describe(exc),
                    attempt=attempt,
                )
                raw = await self._lookup_quietly(client_id)
                if raw is None:
                    if attempt < self.retries:
                        await asyncio.sleep(backoff.next())
                    continue
            self.unconfirmed.discard(client_id)
            self.orders[client_id] = order
            self._apply(order, raw)
            self._log.info("live.order.placed", client_order_id=client_id, status=order.status)
            return order
        raise ExchangeUnavailable(
            f"{self.exchange_id} did not confirm order {client_id}; it will be settled when the "
            "exchange answers again (reconciliation)",
            session_id=self.session_id,
            details={"client_order_id": client_id},
        )

    async def cancel(self, client_id: str) -> LiveOrder:
        order = self.orders[client_id]
        if not order.is_live:
            return order
        unified = to_ccxt(order.symbol, self.market_type)
        try:
            try:
                raw = await self._exchange.cancel_order(order.exchange_order_id, unified)
            except ccxt.OrderNotFound:  # it ended meanwhile: learn how
                raw = await self._exchange.fetch_order(order.exchange_order_id, unified)
        except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
            raise self._auth_failed(exc) from None
        except _NETWORK as exc:
            raise self._unreachable(exc) from None
        except ccxt.BaseError as exc:
            raise ExchangeRejected(
                f"{self.exchange_id} refused to cancel {client_id}: {self._describe(exc)}",
                session_id=self.session_id,
            ) from None
        self._apply(order, raw)
        return order

    async def poll(self) -> list[LiveOrder]:
        """Refresh every live order; returns those that changed (their new fills appended)."""
        changed = []
        for order in [o for o in self.orders.values() if o.is_live and o.exchange_order_id]:
            try:
                raw = await self._exchange.fetch_order(
                    order.exchange_order_id, to_ccxt(order.symbol, self.market_type)
                )
            except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
                raise self._auth_failed(exc) from None
            except _NETWORK as exc:
                raise self._unreachable(exc) from None
            except ccxt.BaseError as exc:  # e.g. not found yet right after placing: ask again later
                self._log.warning(
                    "live.poll.order_error",
                    client_order_id=order.client_order_id,
                    error=self._describe(exc),
                )
                continue
            if self._apply(order, raw):
                changed.append(order)
        return changed

    async def reconcile(self) -> ReconcileReport:
        """Bring the broker's view in line with the exchange's (start-up, after a reconnect)."""
        try:
            return await self._reconcile()
        except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
            raise self._auth_failed(exc) from None
        except _NETWORK as exc:
            raise self._unreachable(exc) from None
        except ccxt.BaseError as exc:
            raise ExchangeRejected(
                f"{self.exchange_id} refused a reconciliation request: {self._describe(exc)}",
                session_id=self.session_id,
            ) from None

    async def _reconcile(self) -> ReconcileReport:
        report = ReconcileReport()
        open_raw = await self._exchange.fetch_open_orders()
        balance = await self._exchange.fetch_balance()
        ours = {
            r.get("clientOrderId"): r
            for r in open_raw
            if str(r.get("clientOrderId") or "").startswith(self._prefix)
        }
        for client_id, raw in ours.items():
            if client_id not in self.orders:
                self.orders[client_id] = self._adopt(client_id, raw)
                report.adopted.append(client_id)
                self.next_number = max(self.next_number, int(client_id[-6:]) + 1)
            else:
                self._apply(self.orders[client_id], raw)
        for order in [
            o for o in self.orders.values() if o.is_live and o.client_order_id not in ours
        ]:
            raw = (
                await self._exchange.fetch_order(
                    order.exchange_order_id, to_ccxt(order.symbol, self.market_type)
                )
                if order.exchange_order_id
                else await self._lookup(order.client_order_id)  # known from the tape only
            )
            if raw is None:
                order.status, order.reason = (
                    OrderStatus.CANCELLED,
                    "not found on the exchange at reconciliation",
                )
                order.updated_ts = _now_us()
            else:
                self._apply(order, raw)
            report.settled.append(order.client_order_id)
        for client_id in sorted(self.unconfirmed):
            raw = ours.get(client_id) or await self._lookup(client_id)
            if raw is None:
                report.unknown_resolved[client_id] = "never reached the exchange"
            else:
                if client_id not in self.orders:
                    self.orders[client_id] = self._adopt(client_id, raw)
                report.unknown_resolved[client_id] = self.orders[client_id].status.value
        self.unconfirmed.clear()
        self.balances = {
            code: {
                "free": float(v.get("free") or 0),
                "used": float(v.get("used") or 0),
                "total": float(v.get("total") or 0),
            }
            for code, v in balance.items()
            if isinstance(v, dict) and code not in ("info", "free", "used", "total")
        }
        report.balances = self.balances
        self._log.info(
            "live.reconciled",
            adopted=len(report.adopted),
            settled=len(report.settled),
            unknown=len(report.unknown_resolved),
        )
        return report

    # helpers -------------------------------------------------------------------------------
    def _describe(self, exc: BaseException) -> str:
        return describe(exc, self._secrets)

    def _auth_failed(self, exc: BaseException) -> ExchangeAuthFailed:
        return ExchangeAuthFailed(f"{self.exchange_id} refused the keys: {self._describe(exc)}")

    def _unreachable(self, exc: BaseException) -> ExchangeUnavailable:
        return ExchangeUnavailable(f"{self.exchange_id} unreachable: {self._describe(exc)}")

    async def _lookup(self, client_id: str) -> dict[str, Any] | None:
        """The exchange's order with ``client_id``, open or closed, or None."""
        for fetch in (self._exchange.fetch_open_orders, self._exchange.fetch_closed_orders):
            for raw in await fetch():
                if raw.get("clientOrderId") == client_id:
                    found: dict[str, Any] = raw
                    return found
        return None

    async def _lookup_quietly(self, client_id: str) -> dict[str, Any] | None:
        try:
            return await self._lookup(client_id)
        except _NETWORK:
            return None

    def _adopt(self, client_id: str, raw: dict[str, Any]) -> LiveOrder:
        order = LiveOrder(
            client_id,
            from_ccxt(raw["symbol"]),
            raw["side"],
            raw.get("type") or "limit",
            float(raw["amount"]),
            raw.get("price"),
            int(raw.get("timestamp") or 0) * 1_000 or _now_us(),
        )
        self._apply(order, raw)
        return order

    def _apply(self, order: LiveOrder, raw: dict[str, Any]) -> bool:
        """Fold the exchange's view of ``order`` in; new executions become fills. True when
        something changed."""
        before = (order.status, order.filled_qty)
        order.exchange_order_id = str(raw.get("id") or order.exchange_order_id or "")
        filled = float(raw.get("filled") or 0.0)
        cost = raw.get("cost")
        cost = (
            float(cost)
            if cost is not None
            else filled * float(raw.get("average") or raw.get("price") or 0.0)
        )
        fee = float((raw.get("fee") or {}).get("cost") or 0.0)
        ts = int(raw.get("lastTradeTimestamp") or raw.get("timestamp") or 0) * 1_000 or _now_us()
        if filled > order.filled_qty + 1e-12:
            qty, notional = filled - order.filled_qty, cost - order.cost
            order.fills.append(
                Fill(
                    session_id=self.session_id,
                    fill_id=f"{order.client_order_id}-{len(order.fills) + 1}",
                    order_id=order.client_order_id,
                    ts=ts,
                    symbol=order.symbol,
                    side=order.side,
                    qty=qty,
                    price=notional / qty,
                    fee=fee - order.fee,
                    liquidity="taker" if order.type == OrderType.MARKET else "maker",
                )
            )
            order.filled_qty, order.cost, order.fee = filled, cost, fee
        status = _STATUS.get(str(raw.get("status")), order.status)
        if status == OrderStatus.OPEN and order.filled_qty > 0:
            status = OrderStatus.PARTIALLY_FILLED
        order.status = status
        order.updated_ts = ts
        return (order.status, order.filled_qty) != before

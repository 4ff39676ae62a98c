"""The engine inside a session: ``TradingConsumer`` is what a paper or backtest session's runner
feeds its market data into.

On start it builds the strategies from the session's config (saved strategies looked up in the
store), the paper venue (the exchange's fees unless ``config.fees`` overrides them), the
portfolio (``cash``, ``leverage``, ``market.market_type``) and the risk rules; when the session is
resumed after a restart it first rebuilds the portfolio from the fills already on the tape and puts
the still-open manual orders back. Each batch runs through ``Engine.process``; the record it
produces is written to the store (orders and fills at the end of the batch that made them, so a
checkpoint never runs ahead of them; equity points, and open positions marked to market, every
second) and published as events; equity is broadcast a few times a second. A risk kill switch
asks the session service to stop the session with the rule's name as ``stop_reason``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from papertape.domain.errors import InvalidStrategyParams, SessionNotRunning
from papertape.domain.market import MarketEvent
from papertape.domain.numbers import finite
from papertape.domain.orders import Order
from papertape.domain.risk import RiskRules
from papertape.domain.session import Session
from papertape.domain.venue import exchange_fees
from papertape.engine.core import Engine, EngineConfig
from papertape.sessions.config import SessionConfig
from papertape.sessions.consumers.base import Consumer, RunContext
from papertape.sessions.strategy_catalog import resolve_strategies

FLUSH_EVERY = 1.0  # seconds, at most, between writes of equity points and positions
BROADCAST_EVERY = 0.25  # seconds between price/equity pushes to /ws
MAX_BUFFERED = 5_000  # rows: write sooner than FLUSH_EVERY when this many are waiting
METRICS_CACHE = 1.0  # seconds a computed metrics dict is reused by detail()
EVENTS_PER_WRITE = 1_000  # trading events appended to the tape per store write


def _as_dict(data: Any) -> dict[str, Any]:
    """Engine events carry records (named tuples) or dicts; the tape keeps dicts."""
    return data._asdict() if hasattr(data, "_asdict") else data


def engine_config(session: Session, config: SessionConfig) -> EngineConfig:
    taker, maker = exchange_fees(config.market.exchange, config.fees.taker, config.fees.maker)
    risk = config.risk
    return EngineConfig(
        session_id=session.session_id,
        symbols=tuple(config.symbols),
        cash=config.cash,
        market_type=config.market.market_type,
        leverage=config.leverage,
        taker=taker,
        maker=maker,
        slippage_bps=config.venue.slippage_bps,
        latency_us=round(config.venue.latency_ms * 1_000),
        cancel_latency_us=round(config.venue.cancel_latency_ms * 1_000),
        bar_fill=config.venue.bar_fill,
        queue_model=config.venue.queue_model,
        risk=RiskRules(
            max_position_notional=risk.max_position_notional,
            max_open_positions=risk.max_open_positions,
            daily_loss_limit=risk.daily_loss_limit,
            max_drawdown_pct=risk.max_drawdown_pct,
        ),
    )


class TradingConsumer(Consumer):
    def __init__(self, session: Session):
        self.session = session
        self.config = SessionConfig.model_validate(session.config)
        self.engine: Engine | None = None
        self._buffers: dict[str, list] = {
            "orders": [],
            "fills": [],
            "positions": [],
            "equity": [],
            "funding": [],
        }
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._last_flush = 0.0
        self._last_broadcast = 0.0
        self._stop_asked = False
        self._metrics: tuple[float, dict[str, Any]] | None = None
        self._flush_lock = asyncio.Lock()
        self.resumed_fills = 0

    async def start(self, ctx: RunContext) -> None:
        await super().start(ctx)
        plans = await resolve_strategies(ctx.store, self.config.strategies)
        try:
            engine = Engine(engine_config(self.session, self.config), plans)
        except ValueError as exc:  # a strategy that shorts on spot, leverage on spot
            raise InvalidStrategyParams(
                str(exc),
                session_id=self.session.session_id,
                details=[{"field": "strategies", "message": str(exc)}],
            ) from None
        fills = await ctx.store.list_fills(self.session.session_id)
        orders = await ctx.store.list_orders(self.session.session_id)
        funding = await ctx.store.list_funding(self.session.session_id)
        if fills or orders:
            engine.restore(fills, orders, funding)
            self.resumed_fills = len(fills)
            curve = await ctx.store.list_equity(self.session.session_id, limit=1_000_000)
            engine.restore_equity([(p.ts, p.equity) for p in curve])
        engine.start()
        self.engine = engine
        self._last_flush = time.monotonic()

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        engine = self.engine
        engine.process(events)
        self._take()
        now = time.monotonic()
        buffers = self._buffers
        due = now - self._last_flush >= FLUSH_EVERY
        if due:  # open positions marked to market, so /positions shows current PnL
            buffers["positions"] += [
                p.record(self.session.session_id, engine.ts)
                for p in engine.portfolio.open_positions()
            ]
        if (
            buffers["orders"]
            or buffers["fills"]
            or due
            or len(buffers["equity"]) >= MAX_BUFFERED
            or engine.stop_requested
        ):
            await self._flush()
        if engine.stop_requested and not self._stop_asked:  # after the kill is on the tape
            self._stop_asked = True
            self.ctx.request_stop(engine.stop_requested)
        if now - self._last_broadcast >= BROADCAST_EVERY:
            self._last_broadcast = now
            self._broadcast()

    async def finish(self, reason: str) -> None:
        """The session ended (``completed``, ``cancelled``, ``failed``): close the bars in
        progress, tell the strategies, cancel the orders still open, record the results. A
        ``suspended`` session (server shutdown) resumes at the next start: its state is only
        flushed, untouched."""
        engine = self.engine
        if engine is None:
            return
        if reason != "suspended":
            engine.stop()
            engine.venue.cancel_all(engine.ts, f"session_{reason}")
            self._take()
            results = finite(engine.metrics())
            self._metrics = (time.monotonic(), results)  # the final figures, not a cached older set
            self._events.append(("results", results))
        self._take()
        await self._flush()

    # --- manual orders (POST /sessions/{id}/orders) -----------------------------------------
    async def place_manual_order(
        self,
        symbol: str,
        side: str,
        type: str,
        qty: float | None,
        price: float | None = None,
        stop_price: float | None = None,
        client_order_id: str = "",
    ) -> Order:
        """Place a user's order; it is on the tape when this returns. Raises
        ``OrderRejected`` for a bad order or one a risk rule refuses."""
        if self.engine is None:
            raise SessionNotRunning(
                "the session's engine has not started yet", session_id=self.session.session_id
            )
        order = self.engine.place_manual_order(
            symbol,
            side,
            type,
            qty,
            price=price,
            stop_price=stop_price,
            client_order_id=client_order_id,
        )
        self._take()
        await self._flush()
        return order

    # --- record ---------------------------------------------------------------------------------
    def _take(self) -> None:
        orders, fills, positions, equity, events = self.engine.drain()
        buffers = self._buffers
        buffers["orders"] += orders
        buffers["fills"] += fills
        buffers["positions"] += positions
        buffers["equity"] += equity
        buffers["funding"] += self.engine.drain_funding()
        self._events += events

    async def _flush(self) -> None:
        """Write the buffered record, then publish its events (in the order they happened).
        Rows and events leave the buffers only once written, so a flush interrupted by a
        cancellation loses nothing: the next one (``finish`` runs shielded) writes them again
        (the store's time-series writes are idempotent)."""
        async with self._flush_lock:
            self._last_flush = time.monotonic()
            store = self.ctx.store
            for key, write in (
                ("orders", store.record_orders),
                ("fills", store.record_fills),
                ("positions", store.record_positions),
                ("equity", store.record_equity),
                ("funding", store.record_funding),
            ):
                rows = self._buffers[key]
                if rows:
                    count = len(rows)
                    await write(rows[:count])
                    del rows[:count]
            events = self._events
            while events:
                count = min(len(events), EVENTS_PER_WRITE)
                await self.ctx.publish_many(
                    [(kind, finite(_as_dict(data))) for kind, data in events[:count]]
                )
                del events[:count]

    def _broadcast(self) -> None:
        """Equity (prices are pushed by the session's price tracker)."""
        engine = self.engine
        portfolio = engine.portfolio
        self.ctx.broadcast(
            "equity",
            finite(
                {
                    "ts": engine.ts,
                    "equity": portfolio.equity(),
                    "cash": portfolio.cash,
                    "unrealized_pnl": portfolio.unrealized_pnl(),
                    "realized_pnl": portfolio.realized_pnl,
                    "fees": portfolio.fees,
                }
            ),
        )

    # --- what GET /sessions/{id} shows ----------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._metrics is None or now - self._metrics[0] >= METRICS_CACHE:
            self._metrics = (now, finite(self.engine.metrics()))
        return self._metrics[1]

    def detail(self) -> dict[str, Any]:
        engine = self.engine
        if engine is None:
            return {}
        portfolio = engine.portfolio
        return finite(
            {
                "metrics": self.metrics(),
                "equity": portfolio.equity(),
                "cash": portfolio.cash,
                "exposure": portfolio.exposure(),
                "positions": [
                    {
                        "symbol": p.symbol,
                        "qty": p.qty,
                        "avg_price": p.avg_price,
                        "mark": p.mark,
                        "unrealized_pnl": p.unrealized_pnl,
                        "realized_pnl": p.realized_pnl,
                        "funding": p.funding,
                        "liquidation_price": portfolio.liquidation_price(p.symbol),
                    }
                    for p in portfolio.open_positions()
                ],
                "open_orders": engine.venue.snapshot(),
                "strategies": [
                    {"name": s.label, "symbol": s.symbol, "state": s.state()}
                    for s in engine.strategies
                ],
                "risk": engine.risk.state(),
                "halted": engine.halted,
                "fees": {"taker": engine.config.taker, "maker": engine.config.maker},
                "valued_at": engine.mark_sources(),
                "queue_model": engine.queue_models(),
                "late_cancels": engine.venue.late_cancels,
                "resumed_fills": self.resumed_fills,
            }
        )

    def checkpoint(self) -> dict[str, Any]:
        if self.engine is None:
            return {}
        return {
            "engine": {
                "fills": self.engine.portfolio.fill_count,
                "orders": self.engine.venue.order_seq,
                "data_ts": self.engine.ts,
            }
        }

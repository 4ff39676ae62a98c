"""The engine inside a session: ``TradingConsumer`` is what a paper or backtest session's runner
feeds its market data into.

On start it builds the strategies from the session's config (saved strategies looked up in the
store), the paper venue (the exchange's fees unless ``config.fees`` overrides them), the
portfolio (``cash``, ``leverage``, ``market.market_type``) and the risk rules — or, when the
session is resumed after a crash or a restart, thaws the engine saved with its last durable
commit (``papertape.engine.snapshot``) and tells the runner where in the market data that commit
ends (``resume_position``), so the source continues from exactly there.

**Exactly once.** The record leaves the engine in ``RecordBatch``es and reaches the store only
through ``Store.commit``: the rows, their tape events, the stream position they cover and the
engine state after them, durable together. A crash at any moment loses at most the steps not yet
committed, which the resumed engine, being deterministic, produces again identically; nothing is
written twice and nothing is lost. Commits are frequent (soon after orders or fills, at least
every second, or every few thousand rows) and pipelined: the engine runs the next batch while the
previous commit is written.

**Off the event loop.** Batches run in a worker thread (``asyncio.to_thread``) under one lock, so
a 180k-bar backtest never stalls the API; what ``GET /sessions/{id}`` shows is a view computed in
that thread between batches (``detail``), never the engine read while it moves. A kill switch
asks the session service to stop the session with the rule's name as ``stop_reason``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from papertape.domain.config import SessionConfig
from papertape.domain.errors import InvalidStrategyParams, NoMarketPrice, SessionNotRunning
from papertape.domain.market import MarketEvent, StreamPosition
from papertape.domain.numbers import finite
from papertape.domain.orders import ManualOrder, Order
from papertape.domain.records import RecordBatch
from papertape.domain.risk import RiskRules
from papertape.domain.session import NewEvent, Session, SessionState
from papertape.domain.venue import exchange_fees
from papertape.engine.core import Engine, EngineConfig
from papertape.engine.snapshot import freeze, thaw
from papertape.sessions.consumers.base import Consumer, RunContext
from papertape.sessions.strategy_catalog import resolve_strategies
from papertape.store.base import TradingCommit

COMMIT_EVERY = 1.0  # seconds, at most, between commits while data flows
COMMIT_TRADES_AFTER = 0.1  # seconds: orders and fills are committed this soon
COMMIT_ROWS = 5_000  # rows: commit sooner than COMMIT_EVERY when this many are waiting
# an idle session (no data for a long time) still commits now and then, so the store keeps its
# resume state fresh (QuestDB's commit log expires rows days older than the newest)
COMMIT_IDLE = 3_600.0
VIEW_EVERY = 0.25  # seconds between refreshes of what GET /sessions/{id} shows
METRICS_EVERY = 1.0  # seconds between recomputations of the metrics in that view
START = StreamPosition(-1, 0)  # before the first event

T = TypeVar("T")


def _as_dict(data: Any) -> dict[str, Any]:
    """Engine events carry records (named tuples) or dicts; the tape keeps dicts."""
    as_dict: dict[str, Any] = data._asdict() if hasattr(data, "_asdict") else data
    return as_dict


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
        response_latency_us=round(config.venue.response_latency_ms * 1_000),
        latency_jitter_us=round(config.venue.latency_jitter_ms * 1_000),
        cancel_latency_jitter_us=round(config.venue.cancel_latency_jitter_ms * 1_000),
        response_latency_jitter_us=round(config.venue.response_latency_jitter_ms * 1_000),
        latency_seed=config.venue.latency_seed,
        bar_fill=config.venue.bar_fill,
        queue_model=config.venue.queue_model,
        margin_tiers=config.margin.margin_tiers(),
        liquidation_fee=config.margin.liquidation_fee,
        liquidation_close=config.margin.liquidation_close,
        risk=RiskRules(
            max_position_notional=risk.max_position_notional,
            max_open_positions=risk.max_open_positions,
            daily_loss_limit=risk.daily_loss_limit,
            max_drawdown_pct=risk.max_drawdown_pct,
        ),
    )


class TradingConsumer(Consumer):
    commits_position = True  # the runner resumes the source from this consumer's commits
    offload = True  # run batches in a worker thread (the live subclass keeps the loop's)
    resumable = True  # save the engine with each commit (a live session is not resumed)

    def __init__(self, session: Session, config: SessionConfig):
        self.session = session
        self.config = config  # ``session.config``, parsed once by the service
        self.engine: Engine | None = None  # made (or thawed) by ``start``
        self.resume_position: StreamPosition | None = None
        self.resumed_fills = 0
        self._position = START
        self._pending = RecordBatch()
        self._lock = threading.Lock()  # the engine, its pending record and its view
        # commits, numbered as they are made (under the engine lock) and written in that order
        self._made = 0
        self._written = 0
        self._ready: dict[int, TradingCommit] = {}
        self._writer: asyncio.Task[None] | None = None
        self._last_commit = 0.0
        self._last_broadcast = 0.0
        self._stop_asked = False
        self._ended = False
        self._view: dict[str, Any] = {}
        self._view_at = 0.0
        self._metrics: tuple[float, dict[str, Any]] | None = None

    @property
    def running_engine(self) -> Engine:
        """The engine, for the steps that only run once ``start`` has made it."""
        if self.engine is None:
            raise RuntimeError(f"session {self.session.session_id}: the engine is not started")
        return self.engine

    # --- life -----------------------------------------------------------------------------------
    async def start(self, ctx: RunContext) -> None:
        await super().start(ctx)
        session_id = self.session.session_id
        store = ctx.store
        plans = await resolve_strategies(store, self.config.strategies)
        # a session being started has no record yet (one that never ran is not resumed): no
        # read of it on the start's critical path
        fresh = self.session.state is SessionState.STARTING
        saved = await store.resume_state(session_id) if self.resumable and not fresh else None
        if saved is None:
            try:
                engine = Engine(engine_config(self.session, self.config), plans)
            except ValueError as exc:  # a strategy that shorts on spot, leverage on spot
                raise InvalidStrategyParams(
                    str(exc),
                    session_id=session_id,
                    details=[{"field": "strategies", "message": str(exc)}],
                ) from None
            engine.start()
        else:
            fills = await store.list_fills(session_id)
            orders = await store.list_orders(session_id)
            funding = await store.list_funding(session_id)
            curve = [(p.ts, p.equity) for p in await store.list_equity(session_id, 10**9)]
            engine = await asyncio.to_thread(
                thaw, saved.engine, fills, orders, curve, session_id, funding
            )
            self._position = self.resume_position = saved.position
            self.resumed_fills = len(fills)
            self._ended = engine.ended is not None
        self.engine = engine
        self._last_commit = time.monotonic()
        self._refresh_view(force=True, final=True)
        if engine.stop_requested and not engine.ended:  # the kill fired just before the crash
            self._ask_stop(engine.stop_requested)

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        await self._in_engine(self._process, events)
        self._write_commits()  # without waiting: the next batch runs while they are written
        if reason := self.running_engine.stop_requested:
            self._ask_stop(reason)
        now = time.monotonic()
        if now - self._last_broadcast >= VIEW_EVERY and self._view:
            self._last_broadcast = now
            self.ctx.broadcast("equity", self._view["equity_tick"])

    async def tick(self) -> None:
        if (
            self.engine is not None
            and not self._ended
            and time.monotonic() - self._last_commit >= COMMIT_IDLE
        ):
            await self._commit_now()

    async def finish(self, reason: str) -> None:
        """The session ended (``completed``, ``cancelled``, ``failed``): close the bars in
        progress, tell the strategies, cancel the orders still open, record the results — and
        commit it all, so an end interrupted by a crash is finished exactly once. A
        ``suspended`` session (server shutdown) resumes at the next start: what it has is only
        committed, untouched."""
        if self.engine is None:
            return
        await self._committed(await self._in_engine(self._final_commit, reason))

    # --- manual orders (POST /sessions/{id}/orders) -----------------------------------------
    async def place_manual_order(self, asked: ManualOrder) -> Order:
        """Place a user's order; it is durably on the tape when this returns. Raises
        ``OrderRejected`` for a bad order or one a risk rule refuses."""
        if self.engine is None or self._ended:
            raise SessionNotRunning(
                "the session's engine is not running", session_id=self.session.session_id
            )

        symbol = asked.symbol

        def place() -> tuple[Order, int]:
            if symbol in self.config.symbols and self.running_engine.last_price(symbol) is None:
                raise NoMarketPrice(
                    f"no market price for {symbol} yet: orders are taken once the session has "
                    "seen one",
                    session_id=self.session.session_id,
                    details=[{"field": "symbol", "message": f"no price for {symbol} yet"}],
                )
            order = self.running_engine.place_manual_order(*asked)
            # where in the data the user placed it: a replay of the session can do the same
            self.running_engine.record.events.append(
                (
                    "manual_order",
                    {"order_id": order.order_id, "after": list(self._position)},
                )
            )
            return order, self._make_commit()

        order, made = await self._in_engine(place)
        await self._committed(made)
        return order

    # --- in the engine's thread (under the lock) -------------------------------------------------
    async def _in_engine(self, fn: Callable[..., T], *args: Any) -> T:
        def locked() -> T:
            with self._lock:
                return fn(*args)

        if self.offload:
            return await asyncio.to_thread(locked)
        return locked()

    def _process(self, events: Sequence[MarketEvent]) -> None:
        engine = self.running_engine
        engine.process(events)
        self._position = self._position.after(events)
        self._pending.extend(engine.drain())
        self._refresh_view()
        pending = self._pending
        since = time.monotonic() - self._last_commit
        if (
            since >= COMMIT_EVERY
            or pending.rows >= COMMIT_ROWS
            or (pending.trades and since >= COMMIT_TRADES_AFTER)
            or engine.stop_requested
        ):
            self._make_commit()

    def _final_commit(self, reason: str) -> int:
        """Stop the engine (cancelling its live orders and recording its results) unless the
        session is only suspended, and make the last commit; returns its number."""
        engine = self.running_engine
        if reason != "suspended" and not self._ended:
            engine.stop()
            engine.venue.cancel_all(engine.ts, f"session_{reason}")
            results = finite(engine.metrics())
            self._metrics = (time.monotonic(), results)  # the final figures, not an older set
            engine.record.events.append(("results", results))
            engine.ended = reason
            self._ended = True
        made = self._make_commit()
        self._refresh_view(force=True, final=True)
        return made

    def _make_commit(self) -> int:
        """Make a commit of everything recorded since the last one, with the state that follows
        it; returns its number. Numbered here, under the engine lock, so commits are written in
        the order the engine made them (a resume state never goes back)."""
        self._pending.extend(self.running_engine.drain())
        record, self._pending = self._pending, RecordBatch()
        self._last_commit = time.monotonic()
        self._refresh_view(force=True)
        now = time.time_ns() // 1_000
        self._made += 1
        self._ready[self._made] = TradingCommit(
            session_id=self.session.session_id,
            record=record,
            events=[NewEvent(kind, finite(_as_dict(data)), now) for kind, data in record.events],
            position=self._position,
            engine=freeze(self.running_engine) if self.resumable else b"",
        )
        return self._made

    # --- commits (on the event loop) -------------------------------------------------------------
    def _write_commits(self) -> None:
        """Make sure the commits made so far are being written, in order (raising what a failed
        write raised: the session fails)."""
        writer = self._writer
        if writer is not None and writer.done():
            if not writer.cancelled() and writer.exception() is not None:
                raise writer.exception()  # type: ignore[misc]
            writer = None
        if writer is None and self._written < self._made:
            self._writer = asyncio.ensure_future(self._write_ready())

    async def _write_ready(self) -> None:
        while (step := self._ready.get(self._written + 1)) is not None:
            for event in await self.ctx.store.commit(step):
                self.ctx.note_event(event)
            del self._ready[self._written + 1]
            self._written += 1

    async def _committed(self, made: int) -> None:
        """Wait until commit ``made`` (and every one before it) is durable."""
        while self._written < made:
            self._write_commits()
            assert self._writer is not None
            await asyncio.shield(self._writer)

    async def _commit_now(self) -> None:
        """Commit what is recorded so far and wait until it is durable."""
        await self._committed(await self._in_engine(self._make_commit))

    def _ask_stop(self, reason: str) -> None:
        if not self._stop_asked:  # once its commit is under way: the kill is on the tape
            self._stop_asked = True
            self.ctx.request_stop(reason)

    # --- what GET /sessions/{id} shows ----------------------------------------------------------
    def _refresh_view(self, force: bool = False, final: bool = False) -> None:
        """``force``: now, not only every VIEW_EVERY (at each commit, so the view is never older
        than the store); ``final``: the metrics too."""
        now = time.monotonic()
        if not force and now - self._view_at < VIEW_EVERY:
            return
        self._view_at = now
        engine = self.running_engine
        if final or self._metrics is None or now - self._metrics[0] >= METRICS_EVERY:
            self._metrics = (now, finite(engine.metrics()))
        portfolio = engine.portfolio
        self._view = finite(
            {
                "metrics": self._metrics[1],
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
                "liquidation": engine.liquidation_rules(),
                "late_cancels": engine.venue.late_cancels,
                "resumed_fills": self.resumed_fills,
                "equity_tick": {
                    "ts": engine.ts,
                    "equity": portfolio.equity(),
                    "cash": portfolio.cash,
                    "unrealized_pnl": portfolio.unrealized_pnl(),
                    "realized_pnl": portfolio.realized_pnl,
                    "fees": portfolio.fees,
                },
                "counters": {
                    "fills": portfolio.fill_count,
                    "orders": engine.venue.order_seq,
                    "data_ts": engine.ts,
                },
            }
        )

    def metrics(self) -> dict[str, Any]:
        metrics: dict[str, Any] = self._view.get("metrics", {})
        return metrics

    def detail(self) -> dict[str, Any]:
        return {k: v for k, v in self._view.items() if k not in ("equity_tick", "counters")}

    def checkpoint(self) -> dict[str, Any]:
        counters = self._view.get("counters")
        return {"engine": counters} if counters else {}

"""The consumers every session gets from the sessions layer: price tracking and recording the
feed to the tape. Strategy execution is the engine's ``TradingConsumer``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from papertape.domain.config import SessionConfig
from papertape.domain.errors import StoreWriteFailed
from papertape.domain.funding import FundingRate
from papertape.domain.market import (
    BookSnapshot,
    Candle,
    MarketEvent,
    MarkPrice,
    Trade,
    event_price,
)
from papertape.domain.session import Mode, Session
from papertape.market.exchange.candles import CandleBuilder
from papertape.sessions.consumers.base import Consumer
from papertape.sessions.consumers.trading import TradingConsumer

PRICE_TICKS_PER_SECOND = 4


class PriceTracker(Consumer):
    """Keeps each symbol's last price and pushes it to ``/ws`` at most a few times a second."""

    def __init__(self) -> None:
        self.last_prices: dict[str, dict[str, Any]] = {}
        self.events_seen = 0
        self._last_push = 0.0

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        self.events_seen += len(events)
        for event in events:
            price = event_price(event)
            if price is not None:
                self.last_prices[event.symbol] = {"price": price, "ts": event.ts}
        now = time.monotonic()
        if now - self._last_push >= 1 / PRICE_TICKS_PER_SECOND and self.last_prices:
            self._last_push = now
            self.ctx.broadcast("price", {"prices": self.last_prices})

    def detail(self) -> dict[str, Any]:
        return {"events_seen": self.events_seen, "last_prices": self.last_prices}


class MarketRecorder(Consumer):
    """Writes every trade, candle, book snapshot (at the depth the source delivers), mark price
    and funding rate to the store under the session's id, so the session can be replayed and backtested against, with
    ``candle_interval`` bars derived from the trades (``CandleBuilder``: closed bars only, the
    first partial one left out).

    Rows are buffered and written in batches by a background flusher (every ``flush_interval``
    seconds, or sooner once ``flush_rows`` are pending), so the feed is not held up by each
    write. When more than ``max_pending`` rows wait, ``on_batch`` waits for the flusher:
    backpressure reaches the source, which stops reading instead of dropping. A write is retried
    ``retries`` times; rows that still cannot be written are counted in ``rows_failed`` and the
    session fails with ``store_write_failed``. Nothing is dropped quietly."""

    KINDS = ("trades", "candles", "book", "funding", "marks")

    def __init__(
        self,
        *,
        flush_rows: int = 5_000,
        flush_interval: float = 0.5,
        max_pending: int = 50_000,
        retries: int = 4,
        retry_delay: float = 0.25,
        candle_interval: int | None = 60,
    ) -> None:
        self.candles = CandleBuilder(candle_interval) if candle_interval else None
        self.flush_rows = flush_rows
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.retries = retries
        self.retry_delay = retry_delay
        self.rows_written = dict.fromkeys(self.KINDS, 0)
        self.rows_failed = dict.fromkeys(self.KINDS, 0)
        self.write_retries = 0
        self._pending: dict[str, list[MarketEvent]] = {kind: [] for kind in self.KINDS}
        self._pending_rows = 0
        self._error: StoreWriteFailed | None = None
        self._closing = False
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def start(self, ctx: Any) -> None:
        await super().start(ctx)
        self._flusher = asyncio.create_task(self._flush_loop(), name="recorder-flush")

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        self._raise_failure()
        pending, candles, added = self._pending, self.candles, 0
        for event in events:
            if isinstance(event, Trade):
                pending["trades"].append(event)
                bar = candles.add(event) if candles is not None else None
                if bar is not None:
                    pending["candles"].append(bar)
                    added += 1
            else:
                pending[_KIND_OF[type(event)]].append(event)
        self._pending_rows += len(events) + added
        if self._pending_rows >= self.flush_rows:
            self._wake.set()
        while self._pending_rows >= self.max_pending:
            self._drained.clear()
            self._wake.set()
            await self._drained.wait()
            self._raise_failure()

    async def finish(self, reason: str) -> None:
        """Let the flusher finish the write it is doing (cancelling it mid-write would lose
        the rows it holds), then write what is still pending."""
        self._closing = True
        if self._flusher is not None:
            self._wake.set()
            await self._flusher
        if self._error is None:
            await self._flush()
        self._raise_failure()

    def detail(self) -> dict[str, Any]:
        return {
            "rows_written": dict(self.rows_written),
            "rows_failed": dict(self.rows_failed),
            "rows_pending": self._pending_rows,
            "write_retries": self.write_retries,
        }

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    async def _flush_loop(self) -> None:
        while self._error is None and not self._closing:
            try:
                await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self._flush()
            self._drained.set()

    async def _flush(self) -> None:
        batches, self._pending = self._pending, {kind: [] for kind in self.KINDS}
        writers = {
            "trades": self.ctx.store.write_trades,
            "candles": self.ctx.store.write_candles,
            "book": self.ctx.store.write_books,
            "funding": self.ctx.store.write_funding,
            "marks": self.ctx.store.write_marks,
        }
        source = self.ctx.session.session_id
        for kind, rows in batches.items():
            if not rows:
                continue
            try:
                await self._write_with_retries(writers[kind], source, rows)
                self.rows_written[kind] += len(rows)
            except Exception as exc:  # counted and turned into the session's failure
                self.rows_failed[kind] += len(rows)
                self._error = StoreWriteFailed(
                    f"recording {len(rows)} {kind} rows failed after {self.retries} retries: "
                    f"{type(exc).__name__}: {exc}",
                    session_id=source,
                    details={"rows_failed": dict(self.rows_failed)},
                )
            finally:
                self._pending_rows -= len(rows)

    async def _write_with_retries(self, write: Any, source: str, rows: list[MarketEvent]) -> None:
        for attempt in range(self.retries + 1):
            try:
                await write(source, rows)
                return
            except Exception:
                if attempt == self.retries:
                    raise
                self.write_retries += 1
                await asyncio.sleep(self.retry_delay * 2**attempt)


_KIND_OF = {
    Candle: "candles",
    BookSnapshot: "book",
    FundingRate: "funding",
    MarkPrice: "marks",
}


def consumers_for(session: Session, config: SessionConfig) -> list[Consumer]:
    """What a session does with its market data, by mode. Everything a live feed delivers is
    recorded on the tape; a replay's data is on the tape already. A sweep's "data" are its
    trials."""
    if session.mode is Mode.SWEEP:
        from papertape.sessions.consumers.sweep import SweepRecorder

        return [SweepRecorder(config)]
    consumers: list[Consumer] = [PriceTracker()]
    if config.market.source == "exchange":
        consumers.append(MarketRecorder())
    if session.mode in (Mode.PAPER, Mode.BACKTEST):
        consumers.append(TradingConsumer(session, config))
    if session.mode is Mode.LIVE:
        from papertape.sessions.consumers.live import LiveTradingConsumer

        consumers.append(LiveTradingConsumer(session, config))
    return consumers

"""Replay recorded market data from the store: a dataset, or what a collect session recorded.

Every kind of data filed under the source (trades, candles, book snapshots, funding rates, mark
prices) for the session's symbols is merged in timestamp order, with the rows of the extra
datasets given by kind (``extras={"funding": name, "mark": name}``, a perpetual's funding rates
and mark prices kept apart from its trades); those outside the source's time span are not
replayed. ``speed`` paces the replay against the wall clock
(1.0 = real time, 60 = a minute per second); ``speed == 0`` replays as fast as the consumer
takes it, which is what a backtest wants.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import AsyncIterator, Sequence
from operator import itemgetter
from typing import Any

from papertape.domain.errors import UnknownDataset
from papertape.domain.market import MarketEvent, StreamPosition
from papertape.market.source import MarketSource
from papertape.store.base import MarketDataStore

TARGET_ROWS_PER_READ = 50_000
MAX_BATCH = 10_000
MAX_SLEEP = 0.5  # seconds: sleep in slices so a pacing replay notices cancellation promptly
_by_ts = itemgetter(0)
_NAMES = {"funding": "funding rates", "mark": "mark prices"}


class ReplaySource(MarketSource):
    def __init__(
        self,
        store: MarketDataStore,
        source: str,
        symbols: Sequence[str],
        speed: float = 1.0,
        resume: StreamPosition | None = None,
        extras: dict[str, str] | None = None,
    ):
        super().__init__(symbols, None if resume is None else resume.ts)
        self.resume = resume
        self.store = store
        self.source = source
        self.extras = dict(extras or {})
        self.speed = speed
        self._span = (0, 1)  # the data's [first, last + 1) timestamps, known once planned

    async def _plan(self) -> tuple[list[tuple[str, str]], int, int, int]:
        """The (source, kind) pairs to read, the time range and a read window of about
        TARGET_ROWS rows."""
        summary = await self.store.market_summary(self.source)
        kinds = [k for k, info in summary.items() if set(info["symbols"]) & set(self.symbols)]
        if not set(kinds) - {"funding", "mark"}:
            raise UnknownDataset(
                f"no recorded data for {', '.join(self.symbols)} in {self.source!r}",
                details=[{"field": "market.dataset", "message": "no data for these symbols"}],
            )
        start = min(summary[k]["start_ts"] for k in kinds)
        end = max(summary[k]["end_ts"] for k in kinds) + 1
        rows = sum(summary[k]["rows"] for k in kinds)
        window = max(1_000_000, (end - start) * TARGET_ROWS_PER_READ // max(rows, 1))
        self._span = (start, end)
        if self.resume is not None:
            start = max(start, self.resume.ts)
        reads = [(self.source, kind) for kind in kinds]
        for kind, source in self.extras.items():
            held = (await self.store.market_summary(source)).get(kind)
            if held is None or not set(held["symbols"]) & set(self.symbols):
                raise UnknownDataset(
                    f"no {_NAMES[kind]} for {', '.join(self.symbols)} in {source!r}",
                    details=[{"field": f"market.{kind}", "message": f"no {_NAMES[kind]}"}],
                )
            reads.append((source, kind))
        return reads, start, end, window

    async def _read(self, source: str, kind: str, start: int, end: int) -> list[Any]:
        return await self.store.read_kind(kind, source, self.symbols, start, end)

    async def _windows(self) -> AsyncIterator[list[MarketEvent]]:
        reads, start, end, window = await self._plan()
        skip = self._already_delivered(start)
        cursor = start
        while cursor < end:
            upper = min(cursor + window, end)
            parts = [await self._read(source, kind, cursor, upper) for source, kind in reads]
            merged = parts[0] if len(parts) == 1 else list(heapq.merge(*parts, key=_by_ts))
            if skip:  # the window starts at the resume timestamp: its first events were seen
                taken = 0
                while taken < min(skip, len(merged)) and merged[taken].ts == start:
                    taken += 1
                merged, skip = merged[taken:], 0
            if merged:
                yield merged
            cursor = upper

    def _already_delivered(self, start: int) -> int:
        """How many events at ``start`` a resumed session consumed before."""
        resume = self.resume
        return resume.seen if resume is not None and resume.ts == start else 0

    async def batches(self) -> AsyncIterator[Sequence[MarketEvent]]:
        self.status.set("replaying", f"replaying {self.source} at speed {self.speed or 'max'}")
        first_ts: int | None = None
        wall_start = time.monotonic()
        async for events in self._windows():
            if first_ts is None:
                first_ts = events[0].ts
            if self.speed == 0:
                for i in range(0, len(events), MAX_BATCH):
                    chunk = events[i : i + MAX_BATCH]
                    self._count(chunk)
                    yield chunk
                    await asyncio.sleep(0)  # let stops and API calls in between batches
                continue
            async for paced in self._paced(events, first_ts, wall_start):
                yield paced
        self.status.set("finished", f"{self.source} replayed to the end")

    async def _paced(
        self, events: Sequence[MarketEvent], first_ts: int, wall_start: float
    ) -> AsyncIterator[Sequence[MarketEvent]]:
        """Hand out events no earlier than their replayed time says."""
        i = 0
        while i < len(events):
            now = time.monotonic()
            j = i
            while j < len(events) and j - i < MAX_BATCH:
                due = wall_start + (events[j].ts - first_ts) / 1e6 / self.speed
                if due > now:
                    break
                j += 1
            if j > i:
                chunk = events[i:j]
                self._count(chunk)
                yield chunk
                i = j
                continue
            due = wall_start + (events[i].ts - first_ts) / 1e6 / self.speed
            await asyncio.sleep(min(max(due - now, 0), MAX_SLEEP))

    def _count(self, chunk: Sequence[MarketEvent]) -> None:
        self.status.events += len(chunk)
        last = self.status.last_event_ts = chunk[-1].ts
        first, end = self._span
        self.status.progress = min(1.0, (last - first + 1) / max(end - first, 1))

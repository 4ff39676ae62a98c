"""A session's runner: the supervised asyncio task that hosts its market source and consumers.

The runner never writes the session's state. It reports how it ended (``Outcome``) to the
session service, which records the transition. It does write what the session produces (the
consumers' records, its events, its checkpoint), all of it through the store.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from papertape.domain.config import SessionConfig
from papertape.domain.errors import PapertapeError
from papertape.domain.funding import FundingRate
from papertape.domain.market import MarketEvent, StreamPosition
from papertape.domain.session import Mode, NewEvent, Session, SessionEvent
from papertape.market.source import MarketSource
from papertape.sessions.bus import EventBus
from papertape.sessions.consumers.base import Consumer
from papertape.sessions.views import event_message, session_message, session_summary, tick_message
from papertape.store.base import Store

log = structlog.get_logger("papertape.runner")

CHECKPOINT_EVERY = 2.0  # seconds between checkpoints of a running session
FEED_STATUS_EVERY = 1.0  # seconds between looks at the feed's status

# builds a session's market source, continuing after the given position (None: from the start)
SourceFactory = Callable[[Session, SessionConfig, Store, StreamPosition | None], MarketSource]


def wall_micros() -> int:
    return time.time_ns() // 1_000


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a runner ended: ``completed`` (data exhausted), ``cancelled`` (asked to stop),
    ``suspended`` (server shutting down; the session resumes at the next start) or ``failed``."""

    kind: str
    error_code: str | None = None
    error_message: str | None = None


class RunnerTask(ABC):
    """What the session service holds of a running session: its task, how it ended
    (``outcome``), whether it is ready, and ``cancel``. A ``Runner`` runs the session here; a
    ``ProcessRunner`` (``papertape.sessions.process_runner``) in a worker process."""

    def __init__(self, session: Session, config: SessionConfig, bus: EventBus):
        self.session = session
        self.config = config
        self.session_id = session.session_id
        self.bus = bus
        self.last_seq = session.last_seq
        self.outcome: Outcome | None = None
        self.ready = asyncio.Event()
        # cleared while the service records a new session running: the session's own events
        # wait for it, so a start's answer never queues behind them (on QuestDB a session's
        # writes take one lock, each a few round trips)
        self.settled = asyncio.Event()
        self.settled.set()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def _main(self) -> None: ...

    @abstractmethod
    def cancel(self, *, suspend: bool = False) -> None:
        """End the session's run (``suspend``: for a server shutdown, to resume at the next
        start); ``wait`` for it to have ended."""

    @abstractmethod
    def runtime(self) -> dict[str, Any]:
        """What ``GET /sessions/{id}`` shows of the run: alive, the feed, the consumers'
        counters and metrics."""

    def launch(self) -> None:
        self._task = asyncio.create_task(self._main(), name=f"runner-{self.session_id}")

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def wait(self, timeout: float) -> bool:
        """Wait until the runner has finished (its consumers flushed); False on timeout."""
        if self._task is None:
            return True
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        return bool(done)

    async def wait_ready(self, timeout: float) -> bool:
        """Wait until consumers started, or the runner ended first. True when ready."""
        ready = asyncio.create_task(self.ready.wait())
        try:
            assert self._task is not None
            await asyncio.wait({ready, self._task}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            ready.cancel()
        return self.ready.is_set()

    def push_summary(self) -> None:
        """While a screen watches, push the session's summary (progress, counters, metrics)."""
        if self.bus.watched(self.session_id):
            # the events recorded since the run began are in ``last_seq``, not in the record it
            # began with: the summary says what ``GET /sessions/{id}`` says
            view = session_summary(replace(self.session, last_seq=self.last_seq), self.runtime())
            self.bus.publish(session_message(view), session_id=self.session_id)

    def note_event(self, event: SessionEvent) -> None:
        """An event of this session was recorded: remember its number and push it out."""
        self.last_seq = max(self.last_seq, event.seq)
        self.bus.publish(event_message(event), session_id=self.session_id)


class Runner(RunnerTask):
    def __init__(
        self,
        session: Session,
        config: SessionConfig,
        store: Store,
        bus: EventBus,
        source_factory: SourceFactory,
        consumers: list[Consumer],
        request_stop: Callable[[str, str], None],
        on_done: Callable[[Runner], None],
        *,
        finish_only: bool = False,
    ):
        """``finish_only``: start the consumers (a resumed session's state) and end them at
        once as ``cancelled``, with no market data: a stop a crash interrupted, finished.
        ``config`` is ``session.config`` parsed (once, by the service, for the runner, its
        source and its consumers)."""
        super().__init__(session, config, bus)
        self.store = store
        self.consumers = consumers
        self.source: MarketSource | None = None
        self._source_factory = source_factory
        self._request_stop = request_stop
        self._on_done = on_done
        self._suspending = False
        self._finish_only = finish_only
        self._gap_from: int | None = None  # a resumed live feed's last event before the outage
        self._data_clock: int | None = None
        self._log = log.bind(session_id=self.session_id)

    # control -------------------------------------------------------------------------------
    def cancel(self, *, suspend: bool = False) -> None:
        self._suspending = suspend
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # RunContext for the consumers ------------------------------------------------------------
    async def publish(self, kind: str, data: dict[str, Any]) -> int:
        [event] = await self.store.append_events(
            self.session_id, [NewEvent(kind=kind, data=data, ts=wall_micros())]
        )
        self.note_event(event)
        return event.seq

    async def publish_many(self, events: list[tuple[str, dict[str, Any]]]) -> int:
        """``publish`` for a batch, in one store write; returns the last sequence number."""
        now = wall_micros()
        recorded = await self.store.append_events(
            self.session_id, [NewEvent(kind=kind, data=data, ts=now) for kind, data in events]
        )
        for event in recorded:
            self.note_event(event)
        return self.last_seq

    def broadcast(self, kind: str, data: dict[str, Any]) -> None:
        self.bus.publish(
            tick_message(self.session_id, self.last_seq, kind, data), session_id=self.session_id
        )

    def request_stop(self, reason: str) -> None:
        self._request_stop(self.session_id, reason)

    def now(self) -> int:
        if self.session.mode is Mode.BACKTEST and self._data_clock is not None:
            return self._data_clock
        return wall_micros()

    # the task --------------------------------------------------------------------------------
    async def _main(self) -> None:
        started: list[Consumer] = []
        duration_timer: asyncio.TimerHandle | None = None
        try:
            for consumer in self.consumers:
                await consumer.start(self)
                started.append(consumer)
            if self._finish_only:
                self.ready.set()
                self.outcome = Outcome("cancelled")
                return
            position = self._resume_position()
            # in a thread: building a live source may import the exchange client, which takes
            # seconds and must not stall the other sessions on this event loop
            self.source = await asyncio.to_thread(
                self._source_factory, self.session, self.config, self.store, position
            )
            if position is not None and self.config.market.source != "replay":
                self._gap_from = position.ts  # a live feed resumed: the outage is a gap
            duration_timer = self._arm_duration()
            self.ready.set()
            await self._pump(self.source)
            self.outcome = Outcome("completed")
        except asyncio.CancelledError:
            self.outcome = Outcome("suspended" if self._suspending else "cancelled")
        except PapertapeError as exc:
            self.outcome = Outcome("failed", exc.code, exc.message)
        except Exception as exc:  # a crash must fail the session, never leave it running
            self._log.exception("session.runner.crashed")
            self.outcome = Outcome("failed", "runner_crashed", f"{type(exc).__name__}: {exc}")
        finally:
            if duration_timer is not None:
                duration_timer.cancel()
            await self._wind_down(started)
            self._log.info(
                "session.runner.ended", outcome=None if self.outcome is None else self.outcome.kind
            )
            self._on_done(self)

    def _resume_position(self) -> StreamPosition | None:
        """Where the source continues: where a committing consumer's durable record ends (None
        before its first commit: from the start), else after the checkpoint's last event."""
        committing = [c for c in self.consumers if c.commits_position]
        if committing:
            return committing[0].resume_position
        last_ts = self.session.checkpoint.get("last_ts")
        return None if last_ts is None else StreamPosition.through(last_ts)

    async def _note_gap(self, first: MarketEvent) -> None:
        """The first data of a live feed resumed after an outage: record the market data it
        missed, from the last event the session had to this one (the exchange's clock)."""
        began, self._gap_from = self._gap_from, None
        assert began is not None
        notes = self.source.outage_notes() if self.source is not None else {}
        reason = "the server was down: market data between these times was not received"
        if notes.get("funding_unpaid"):
            reason += (
                "; the funding due meanwhile could not be fetched from the exchange and was NOT "
                "paid (funding_unpaid)"
            )
        await self.publish(
            "gap",
            {
                "from_ts": began,
                "to_ts": first.ts,
                "seconds": round(max(0, first.ts - began) / 1e6, 3),
                "reason": reason,
                **notes,
            },
        )

    async def _pump(self, source: MarketSource) -> None:
        watcher = asyncio.create_task(self._watch_feed(source), name=f"feed-{self.session_id}")
        try:
            last_checkpoint = time.monotonic()
            async for batch in source.batches():
                if not batch:
                    continue
                self._data_clock = batch[-1].ts
                if self._gap_from is not None:
                    # the first data received: funding the feed made up for the outage is not
                    await self._note_gap(
                        next((e for e in batch if type(e) is not FundingRate), batch[0])
                    )
                for consumer in self.consumers:
                    await consumer.on_batch(batch)
                now = time.monotonic()
                if now - last_checkpoint >= CHECKPOINT_EVERY:
                    last_checkpoint = now
                    await self._save_checkpoint(batch)
        finally:
            watcher.cancel()

    async def _watch_feed(self, source: MarketSource) -> None:
        """Record every change of the feed's state as a ``feed`` event, whether data flows or
        not (a feed that is reconnecting delivers no batches to notice it by); while a screen
        watches, push the session's summary (progress, counters, metrics) once a second; and give
        the consumers their ``tick``."""
        seen: tuple[str, str] | None = None
        await self.settled.wait()
        while True:
            current = (source.status.state, source.status.message)
            if current != seen:
                seen = current
                await self.publish("feed", source.status.as_dict())
            self.push_summary()
            for consumer in self.consumers:
                await consumer.tick()
            await asyncio.sleep(FEED_STATUS_EVERY)

    async def _save_checkpoint(self, batch: Sequence[MarketEvent] | None = None) -> None:
        checkpoint = dict(self.session.checkpoint)
        if batch:
            checkpoint["last_ts"] = batch[-1].ts
        elif self.source is not None and self.source.status.last_event_ts is not None:
            checkpoint["last_ts"] = self.source.status.last_event_ts
        for consumer in self.consumers:
            checkpoint.update(consumer.checkpoint())
        checkpoint["detail"] = {k: v for k, v in self.runtime().items() if k != "alive"}
        await self.store.save_checkpoint(self.session_id, checkpoint)
        self.session = replace(self.session, checkpoint=checkpoint)

    async def _wind_down(self, started: list[Consumer]) -> None:
        """Flush every started consumer and close the source, even when cancelled again."""
        reason = self.outcome.kind if self.outcome else "failed"
        for consumer in started:
            try:
                await _uncancellable(consumer.finish(reason))
            except PapertapeError as exc:
                self._log.error("session.consumer.finish_failed", error=exc.message)
                self.outcome = Outcome("failed", exc.code, exc.message)
            except Exception as exc:
                self._log.exception("session.consumer.finish_failed")
                self.outcome = Outcome("failed", "runner_crashed", f"{type(exc).__name__}: {exc}")
        if self.source is not None:
            try:
                await _uncancellable(self.source.close())
            except Exception:
                self._log.exception("session.source.close_failed")
            if self.source.status.state not in ("finished", "failed"):
                self.source.status.set("closed", f"the session ended ({reason})")
        try:
            await _uncancellable(self._save_checkpoint())
        except Exception:
            self._log.exception("session.checkpoint.failed")

    def _arm_duration(self) -> asyncio.TimerHandle | None:
        seconds = self.config.duration_seconds
        if not seconds:
            return None
        begun = self.session.started_at or wall_micros()
        remaining = max(0.0, seconds - (wall_micros() - begun) / 1e6)
        return asyncio.get_running_loop().call_later(remaining, self.request_stop, "duration")

    # what GET /sessions/{id} shows --------------------------------------------------------------
    def consumer_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {}
        for consumer in self.consumers:
            detail.update(consumer.detail())
        return detail

    def runtime(self) -> dict[str, Any]:
        return {
            "alive": self.alive,
            "feed": self.source.status.as_dict() if self.source else None,
            **self.consumer_detail(),
        }


async def _uncancellable(coro: Any) -> Any:
    """Run ``coro`` to its end even if the waiting task is cancelled again meanwhile (a retried
    stop): the session's end must not be recorded while a consumer is still flushing."""
    task = asyncio.ensure_future(coro)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                return task.result()

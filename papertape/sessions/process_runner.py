"""The server's side of a backtest or sweep run in a worker process (``papertape.sessions.engine_worker``
says why and how): start the worker, write what it asks to write, push what it pushes, and show
what it reports.

Workers are forked from a fork server that has imported the engine once
(``multiprocessing``'s ``forkserver``), so a backtest starts in tens of milliseconds, and a
worker never inherits the server's threads, event loop or open connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import multiprocessing
import multiprocessing.forkserver
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

import structlog

from papertape.domain.config import SessionConfig
from papertape.domain.session import Mode, Session
from papertape.market.source import FeedStatus
from papertape.sessions.bus import EventBus
from papertape.sessions.engine_worker import FORWARDED_WRITES, WorkerJob, run_worker
from papertape.sessions.instrumented_store import WriteObserver
from papertape.sessions.runner import FEED_STATUS_EVERY, Outcome, RunnerTask
from papertape.store.base import Store

log = structlog.get_logger("papertape.runner")

KILL_AFTER = 5.0
RECORDS_EVENTS = frozenset(
    {"commit", "append_events"}
)  # writes that return the events recorded  # seconds a worker gets to exit after its last message before it is killed


def runs_in_worker(session: Session, config: SessionConfig) -> bool:
    """Backtests (a replay as fast as it goes: all CPU) and sweeps (trials, all CPU) run in
    worker processes; paper replays are paced, and live and collect sessions wait on the
    network."""
    if session.mode is Mode.SWEEP:
        return True
    return session.mode is Mode.BACKTEST and config.market.source == "replay"


@functools.cache
def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["papertape.sessions.engine_worker"])
    return context


def warm_workers() -> None:
    """Start the fork server now (it imports the engine: seconds), so that the first backtest
    does not wait for it. Blocking: call it in a thread."""
    _context()
    multiprocessing.forkserver.ensure_running()


def _start(child_end: Connection, job: WorkerJob) -> BaseProcess:
    process = _context().Process(
        target=run_worker,
        args=(child_end, job),
        name=f"session-{job.session.session_id}",
        # not daemonic: a sweep's worker starts helper processes of its own; a worker ends with
        # its session, and with the server however it exits (engine_worker)
        daemon=False,
    )
    process.start()
    return process


@dataclasses.dataclass(slots=True)
class WorkerFeed:
    """The worker's market source as the server sees it: its status, as last reported."""

    status: FeedStatus


class ProcessRunner(RunnerTask):
    consumers: tuple[()] = ()  # they run in the worker (no manual orders on a backtest)

    def __init__(
        self,
        session: Session,
        config: SessionConfig,
        store: Store,
        bus: EventBus,
        store_url: str,
        request_stop: Callable[[str, str], None],
        on_done: Callable[[ProcessRunner], None],
        observe_write: WriteObserver,
    ):
        """``observe_write``: where the writes the worker makes itself are counted."""
        super().__init__(session, config, bus)
        self.store = store
        self.source: WorkerFeed | None = None
        self._store_url = store_url
        self._request_stop = request_stop
        self._on_done = on_done
        self._observe_write = observe_write
        self._runtime: dict[str, Any] = {}
        self._conn: Connection | None = None
        self._cancel: bool | None = None  # asked before the worker was there: its suspend flag
        self._writes: set[asyncio.Task[None]] = set()
        self._log = log.bind(session_id=self.session_id)

    def cancel(self, *, suspend: bool = False) -> None:
        if not self.alive:
            return
        if self._conn is None:
            self._cancel = suspend
        else:
            self._send(("cancel", suspend))

    def runtime(self) -> dict[str, Any]:
        return {"feed": None, **self._runtime, "alive": self.alive}

    # the task ----------------------------------------------------------------------------------
    async def _main(self) -> None:
        parent_end, child_end = _context().Pipe()
        process: BaseProcess | None = None
        summaries: asyncio.Task[None] | None = None
        try:
            job = WorkerJob(self.session, self._store_url)
            process = await asyncio.to_thread(_start, child_end, job)
            child_end.close()
            self._conn = parent_end
            if self._cancel is not None:
                self._send(("cancel", self._cancel))
            summaries = asyncio.create_task(self._push_summaries())
            self.outcome = await self._serve(parent_end, process)
        except Exception as exc:
            self._log.exception("session.worker.failed")
            self.outcome = Outcome("failed", "runner_crashed", f"{type(exc).__name__}: {exc}")
        finally:
            if summaries is not None:
                summaries.cancel()
            if self._writes:  # what the worker asked to write before it ended is written
                await asyncio.wait(self._writes)
            parent_end.close()
            if process is not None:
                await asyncio.to_thread(_reap, process)
            self._log.info(
                "session.runner.ended", outcome=None if self.outcome is None else self.outcome.kind
            )
            self._on_done(self)

    async def _serve(self, conn: Connection, process: BaseProcess) -> Outcome:
        """Take the worker's messages until it says how the session ended."""
        messages: asyncio.Queue[tuple[Any, ...] | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def listen() -> None:
            while True:
                try:
                    message: tuple[Any, ...] | None = conn.recv()
                except (EOFError, OSError):
                    message = None
                loop.call_soon_threadsafe(messages.put_nowait, message)
                if message is None or message[0] == "done":
                    return

        threading.Thread(target=listen, name=f"worker-{self.session_id}", daemon=True).start()
        while (message := await messages.get()) is not None:
            kind = message[0]
            if kind == "done":
                outcome: Outcome = message[1]
                return outcome
            if kind == "call":
                self._write(*message[1:])
            elif kind == "bus":
                self._push(message[1])
            elif kind == "runtime":
                self._take_runtime(message[1])
            elif kind == "wrote":
                self._observe_write(*message[1:])
            elif kind == "ready":
                self.ready.set()
            elif kind == "stop":
                self._request_stop(self.session_id, message[1])
        await asyncio.to_thread(process.join, KILL_AFTER)
        return Outcome(
            "failed",
            "runner_crashed",
            f"the session's worker process ended unexpectedly (exit code {process.exitcode})",
        )

    def _write(self, number: int, method: str, args: tuple[Any, ...]) -> None:
        """Do a write the worker asked for, and answer it with its result or its error."""
        if method not in FORWARDED_WRITES:
            raise RuntimeError(f"the worker asked for {method!r}, which it may not")

        async def write() -> None:
            try:
                result = await getattr(self.store, method)(*args)
            except Exception as exc:  # the worker's runner fails the session with it
                self._send(("reply", number, False, exc))
                return
            if method == "save_checkpoint":
                self.session = dataclasses.replace(self.session, checkpoint=args[1])
            elif method in RECORDS_EVENTS:  # pushed from here (the worker's bus does not)
                for event in result:
                    self.note_event(event)
            self._send(("reply", number, True, result))

        task = asyncio.create_task(write())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _push(self, messages: list[dict[str, Any]]) -> None:
        """What the worker pushes: its events (numbers remembered), and its ticks, which carry
        the newest event number this server knows."""
        for message in messages:
            if message.get("type") == "event":
                self.last_seq = max(self.last_seq, message["seq"])
            elif "seq" in message:
                message["seq"] = max(message["seq"], self.last_seq)
            self.bus.publish(message, session_id=self.session_id)

    def _take_runtime(self, runtime: dict[str, Any]) -> None:
        self._runtime = runtime
        feed = runtime.get("feed")
        if feed is not None:
            self.source = WorkerFeed(FeedStatus(**feed))

    async def _push_summaries(self) -> None:
        while True:
            await asyncio.sleep(FEED_STATUS_EVERY)
            self.push_summary()

    def _send(self, message: tuple[Any, ...]) -> None:
        if self._conn is None:
            return
        try:
            self._conn.send(message)
        except (BrokenPipeError, OSError):  # the worker is gone: its end is being handled
            self._log.warning("session.worker.unreachable", message=message[0])


def _reap(process: BaseProcess) -> None:
    process.join(KILL_AFTER)
    if process.is_alive():
        process.kill()
        process.join()

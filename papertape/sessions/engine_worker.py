"""A backtest's or a sweep's worker process: the session's runner, its source and its
consumers, unchanged, in a process of their own.

Why a process: a backtest is pure CPU (decoding market data, the engine, its record), and so are
a sweep's trials. In the server's process its threads share one interpreter lock with the event
loop that answers ``/health``, the dashboard and every other session; four 180k-bar backtests
made the API wait hundreds of milliseconds. In a worker the operating system shares the cores instead.

Who writes: on a store that serialises writers across processes and numbers events inside its
transactions (SQLite: ``writes_across_processes``) the worker writes its session's record
itself, with the same exactly-once commits as everyone, so the record's weight (an equity point
per bar, thousands of events) stays off the server's interpreter too. On the others (QuestDB,
whose event numbering rests on this server's locks) the worker reads straight from the store
(read-only, ``open_reader``) and sends its commits, events and checkpoints to the server, which
writes them (``WorkerStore``). Either way what the worker would push to screens goes to the
server (``WorkerBus``), and the server answers ``GET /sessions/{id}`` from the runtime the worker
reports four times a second.

The worker dies with the server: if the pipe to it breaks (the server was killed) the worker
exits at once, writing nothing more; its session resumes from its last commit at the next start,
as after any crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, cast

from papertape.domain.config import SessionConfig
from papertape.domain.session import Session
from papertape.sessions.bus import EventBus
from papertape.sessions.consumers.recording import consumers_for
from papertape.sessions.instrumented_store import WRITES, InstrumentedStore
from papertape.sessions.runner import Runner
from papertape.sessions.sources import source_for
from papertape.store import store_for
from papertape.store.base import Store

# Workers yield the cores to the server when it has work (an answer, a write, a push, a paper
# or live session's fill): without it, four backtests and the server are five equals on two
# cores and ``/health`` waits its turn. PAPERTAPE_WORKER_NICE overrides it (0: equals).
WORKER_NICENESS = 10
RUNTIME_EVERY = 0.25  # seconds between the runtime reports the server shows
# what the worker asks the server to write (everything else it reads itself)
FORWARDED_WRITES = frozenset({"commit", "append_events", "save_checkpoint", "record_trials"})
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class WorkerJob:
    session: Session
    store_url: str


def run_worker(conn: Connection, job: WorkerJob) -> None:
    """The worker process's entry point. Signals meant for the server (Ctrl-C in its terminal
    reaches the whole process group) are ignored: the server ends its workers itself, so that a
    session is suspended or stopped with its last commit, never cut off."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(int(os.environ.get("PAPERTAPE_WORKER_NICE", WORKER_NICENESS)))
    _die_with_parent()
    asyncio.run(_serve(conn, job))


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (the fork server, which itself
    ends when the server does); the broken pipe ends it too, wherever this is unsupported."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


async def _serve(conn: Connection, job: WorkerJob) -> None:
    link = _Link(conn, asyncio.get_running_loop())
    store = store_for(job.store_url)
    writes_here = store.writes_across_processes
    if writes_here:
        await store.open()
    else:
        await store.open_reader()
    session = job.session
    config = SessionConfig.model_validate(session.config)
    ended = asyncio.Event()
    # the writes it makes itself are counted in the server's metrics like the server's own
    timed = InstrumentedStore(store, lambda *wrote: link.send(("wrote", *wrote)))
    runner = Runner(
        session,
        config,
        cast(Store, timed) if writes_here else cast(Store, WorkerStore(store, link)),
        cast(EventBus, WorkerBus(link, with_events=writes_here)),
        source_for,
        consumers_for(session, config),
        request_stop=lambda _session_id, reason: link.send(("stop", reason)),
        on_done=lambda _runner: ended.set(),
    )
    link.on_cancel = lambda suspend: runner.cancel(suspend=suspend)
    runner.launch()
    reporter = asyncio.create_task(_report(runner, link))
    await ended.wait()
    reporter.cancel()
    link.send(("runtime", _runtime(runner)))
    link.send(("done", runner.outcome))
    link.finished = True
    await store.close()


async def _report(runner: Runner, link: _Link) -> None:
    """Tell the server when the runner is ready, and what it shows, every RUNTIME_EVERY."""
    await runner.ready.wait()
    link.send(("ready",))
    while True:
        link.send(("runtime", _runtime(runner)))
        await asyncio.sleep(RUNTIME_EVERY)


def _runtime(runner: Runner) -> dict[str, Any]:
    return {**runner.runtime(), "worker_pid": os.getpid()}


class _Link:
    """The worker's end of the pipe to the server: calls the server answers (``call``),
    messages it takes (``send``), and its commands (``cancel``), read by a thread of their own."""

    def __init__(self, conn: Connection, loop: asyncio.AbstractEventLoop):
        self.conn = conn
        self.loop = loop
        self.on_cancel: Callable[[bool], None] = lambda _suspend: None
        self.finished = False
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._numbers = itertools.count(1)
        threading.Thread(target=self._listen, name="worker-link", daemon=True).start()

    def send(self, message: tuple[Any, ...]) -> None:
        self.conn.send(message)

    async def call(self, method: str, *args: Any) -> Any:
        number = next(self._numbers)
        answer = self.loop.create_future()
        self._calls[number] = answer
        self.send(("call", number, method, args))
        return await answer

    def _listen(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                # the server is gone (killed, or done with this worker): nothing more may be
                # written for this session by anyone but a server that resumes it
                os._exit(0 if self.finished else 1)
            self.loop.call_soon_threadsafe(self._take, message)

    def _take(self, message: tuple[Any, ...]) -> None:
        if message[0] == "reply":
            _, number, succeeded, value = message
            answer = self._calls.pop(number)
            if succeeded:
                answer.set_result(value)
            else:
                answer.set_exception(value)
        elif message[0] == "cancel":
            self.on_cancel(message[1])


class WorkerStore:
    """The store as the worker uses it: reads on its own read-only connections, the writes a
    session makes (``FORWARDED_WRITES``) done by the server; any other write is refused."""

    def __init__(self, reader: Store, link: _Link):
        self._reader = reader
        self._link = link

    def __getattr__(self, name: str) -> Any:
        if name in FORWARDED_WRITES:

            async def forwarded(*args: Any) -> Any:
                return await self._link.call(name, *args)

            return forwarded
        if name in WRITES:
            raise RuntimeError(f"a session's worker process does not write the store ({name})")
        return getattr(self._reader, name)


class WorkerBus:
    """What the runner pushes to screens, handed to the server's bus in batches (one message
    per turn of the worker's loop, however many events a commit recorded). The server pushes the
    session's summaries itself (it knows the session's state and who watches), and the events it
    wrote for the worker itself (``with_events=False``)."""

    def __init__(self, link: _Link, *, with_events: bool):
        self._link = link
        self._with_events = with_events
        self._waiting: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any], *, session_id: str | None) -> None:
        if message.get("type") == "event" and not self._with_events:
            return
        if not self._waiting:
            self._link.loop.call_soon(self._flush)
        self._waiting.append(message)

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        self._link.send(("bus", waiting))

    def watched(self, session_id: str) -> bool:
        return False

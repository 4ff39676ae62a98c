"""A thread that owns one SQLite connection, with group commit. The SQLite store has three: its
writer, its reads and its market-data reads (``papertape.store.sqlite``).

Every call given to a ``StoreThread`` runs on it, and nothing of the connection leaves it (see
``confined``). The writes that are waiting together when the thread gets to them are committed
together: one transaction, one fsync when any of them must be durable, each write in a SAVEPOINT
of its own. One write that raises is rolled back to its savepoint and fails only its own caller;
the others commit. A group that cannot be committed as a whole (the transaction itself failed:
disk full, I/O error) is run again one write per transaction, so each caller learns about its
own write alone.

Why: a session's start and stop record their state durably (an fsync each), and a hundred running
sessions commit their trading record every second; one transaction and one fsync per write made
every start and stop queue behind all of them. A write is acknowledged only after the
transaction holding it committed, as before: grouping changes how many commits there are, never
what a returned write means.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

MAX_GROUP = 256  # writes per transaction at most: a group's writers wait for all of it


@dataclass(slots=True)
class _Call:
    """A read, or opening and closing the connection: run as it is, outside any transaction."""

    run: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


@dataclass(slots=True)
class _Write:
    """A write: run in a transaction, with the other writes waiting at the same time."""

    fn: Callable[[sqlite3.Connection], Any]
    durable: bool
    future: Future[Any] = field(default_factory=Future)


_STOP = None  # put last on the queue: the thread ends once it got there


class StoreThread:
    def __init__(self, name: str):
        self._jobs: queue.SimpleQueue[_Call | _Write | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.conn: sqlite3.Connection | None = None

    async def open(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Start the thread and make its connection (``connect`` runs on it)."""
        self._thread.start()

        def connected() -> None:
            self.conn = connect()

        await self._submit(_Call(connected))

    async def close(self) -> None:
        """Close the connection once every call queued before has run, and end the thread."""
        if not self._thread.is_alive():
            return

        def disconnect() -> None:
            conn, self.conn = self.conn, None
            if conn is not None:
                conn.close()

        try:
            await self._submit(_Call(disconnect))
        finally:
            self._jobs.put(_STOP)
            await asyncio.to_thread(self._thread.join)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the thread, outside any transaction."""
        result: T = await self._submit(_Call(lambda: confined(fn, self.conn)))
        return result

    async def write(self, fn: Callable[[sqlite3.Connection], T], *, durable: bool) -> T:
        """Run ``fn`` in a transaction (with the other writes waiting now) and return once it
        committed; ``durable``: once it is fsynced."""
        result: T = await self._submit(_Write(fn, durable))
        return result

    async def _submit(self, job: _Call | _Write) -> Any:
        self._jobs.put(job)
        return await asyncio.wrap_future(job.future)

    # on the thread ------------------------------------------------------------------------------
    def _serve(self) -> None:
        while True:
            first = self._jobs.get()
            if first is _STOP:
                return
            batch, stop = [first], False
            while len(batch) < MAX_GROUP:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop = True
                    break
                batch.append(job)
            # a caller that went away before its call began: it is not run
            live = [job for job in batch if job.future.set_running_or_notify_cancel()]
            # reads first: none of the writes waiting with them has returned yet, so a read
            # that does not see them is as right as one that does — and it sees only what is
            # committed, never a write its group may still roll back
            for job in live:
                if isinstance(job, _Call):
                    _settle(job, job.run)
            writes = [job for job in live if isinstance(job, _Write)]
            if writes:
                self._commit_group(writes)
            if stop:
                return

    def _commit_group(self, writes: list[_Write]) -> None:
        conn = self.conn
        if conn is None:
            for job in writes:
                job.future.set_exception(sqlite3.ProgrammingError("the store is closed"))
            return
        if len(writes) > 1:
            try:
                outcomes = _in_one_transaction(conn, writes)
            except Exception:  # the group as a whole: each write on its own below
                pass
            else:
                for job, (value, error) in zip(writes, outcomes, strict=True):
                    if error is None:
                        job.future.set_result(value)
                    else:
                        job.future.set_exception(error)
                return
        for job in writes:
            _settle(job, _alone, conn, job)


def confined(fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection | None) -> T:
    """Run ``fn`` on the connection. Nothing of the connection may leave the thread: a cursor
    handed back to the event loop is finalised there when it is garbage-collected, which resets
    its statement — a statement this thread may be running at that moment from Python's
    statement cache ("bad parameter or other API misuse"). Such results are refused, so the
    mistake fails loudly in tests instead of rarely in use."""
    if conn is None:
        raise sqlite3.ProgrammingError("the store is closed")
    result = fn(conn)
    if isinstance(result, sqlite3.Cursor):
        result.close()
        raise TypeError(
            f"{getattr(fn, '__qualname__', fn)} returned a cursor: store functions must return "
            "plain values (a cursor finalised on another thread breaks the statement cache)"
        )
    return result


def _settle(job: _Call | _Write, run: Callable[..., Any], *args: Any) -> None:
    try:
        job.future.set_result(run(*args))
    except BaseException as exc:
        job.future.set_exception(exc)


@contextmanager
def _synchronous(conn: sqlite3.Connection, durable: bool) -> Iterator[None]:
    """``durable``: the transactions inside are fsynced when they commit (``FULL``); the others
    survive a crash of the process (WAL with ``NORMAL``) and reach the disk at the next
    checkpoint."""
    if not durable:
        yield
        return
    conn.execute("PRAGMA synchronous=FULL")
    try:
        yield
    finally:
        conn.execute("PRAGMA synchronous=NORMAL")


def _alone(conn: sqlite3.Connection, job: _Write) -> Any:
    """One write in one transaction: all of it is stored, or none of it."""
    with _synchronous(conn, job.durable):
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = confined(job.fn, conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result


def _in_one_transaction(
    conn: sqlite3.Connection, writes: list[_Write]
) -> list[tuple[Any, BaseException | None]]:
    """Every write in one transaction, each in a savepoint: a write that raises is undone alone
    and its error is its outcome. Raises (with nothing committed) when the transaction itself
    fails — SQLite ends a whole transaction on some errors (``SQLITE_FULL``, ``SQLITE_IOERR``)."""
    outcomes: list[tuple[Any, BaseException | None]] = []
    with _synchronous(conn, any(job.durable for job in writes)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for job in writes:
                conn.execute("SAVEPOINT write")
                try:
                    value = confined(job.fn, conn)
                except Exception as exc:
                    if not conn.in_transaction:
                        raise  # the transaction is gone, and the earlier writes with it
                    conn.execute("ROLLBACK TO write")
                    conn.execute("RELEASE write")
                    outcomes.append((None, exc))
                else:
                    conn.execute("RELEASE write")
                    outcomes.append((value, None))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return outcomes

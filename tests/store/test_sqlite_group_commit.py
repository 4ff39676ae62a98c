"""Group commit in the SQLite store (``papertape.store.sqlite_thread``): the writes waiting
together share one transaction and one fsync, and each still succeeds or fails on its own.

Each test holds the store's thread busy (``held``) while it queues writes, so that they are
waiting together when the thread gets to them — what a hundred running sessions make happen on
their own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from papertape.domain.errors import SessionNotFound
from papertape.domain.market import Candle
from papertape.domain.records import EquityPoint, Fill
from papertape.domain.session import NewEvent, SessionState
from papertape.store.base import StaleState
from papertape.store.sqlite import SQLiteStore
from tests.store.test_store_contract import T0, commit, move, start


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@contextlib.asynccontextmanager
async def held(store: SQLiteStore) -> AsyncIterator[list[str]]:
    """The store's writer thread is busy until the block ends, so the writes made in it queue up. Yields
    the statements that ``COMMIT`` a transaction, as the connection runs them."""
    commits: list[str] = []
    writer = store._thread
    await writer.read(
        lambda c: c.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    )
    gate = threading.Event()
    busy = asyncio.ensure_future(writer.read(lambda c: gate.wait(10)))
    await asyncio.sleep(0.05)  # the thread is inside the blocking call
    try:
        yield commits
    finally:
        gate.set()
        await busy


async def queued(*calls: Awaitable[Any]) -> list[asyncio.Future[Any]]:
    """Start ``calls`` and let each put its work on the store's queue."""
    futures = [asyncio.ensure_future(call) for call in calls]
    for _ in range(3):
        await asyncio.sleep(0)
    return futures


def fill(sid: str, n: int) -> Fill:
    return Fill(sid, f"f{n}", f"o{n}", T0 + n, "BTC_USDT", "buy", 0.1, 100.0, 0.01, "taker")


async def test_writes_waiting_together_share_one_transaction(store):
    sessions = [await start(store, n) for n in range(1, 21)]
    async with held(store) as commits:
        moves = await queued(*(move(store, s, SessionState.RUNNING) for s in sessions))
    moved = await asyncio.gather(*moves)
    assert commits == ["COMMIT"]  # twenty durable state changes, one commit (one fsync)
    assert {s.state for s in moved} == {SessionState.RUNNING}
    for session in sessions:
        stored = await store.get_session(session.session_id)
        assert stored.state is SessionState.RUNNING and stored.last_seq == 2


async def test_a_failing_write_fails_only_its_caller(store):
    """A stale compare-and-set and a commit for a session that does not exist, amid good writes:
    those two raise and leave nothing; the others are stored, the trading commit whole."""
    one, two, three = [await start(store, n) for n in (1, 2, 3)]
    two_running = await move(store, two, SessionState.RUNNING)
    ghost = "exec_20231114_221320_0000beef"
    async with held(store) as commits:
        calls = await queued(
            move(store, one, SessionState.RUNNING),
            move(store, two, SessionState.RUNNING),  # read as starting: stale now
            # its fills are inserted before its events find no session: undone with them
            commit(store, ghost, fills=[fill(ghost, 1)], events=[NewEvent("fill", {}, T0)]),
            commit(store, three.session_id, fills=[fill(three.session_id, 2)], engine=b"E"),
        )
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert len(commits) == 1
    assert (await store.get_session(one.session_id)).state is SessionState.RUNNING
    assert isinstance(results[1], StaleState)
    assert (await store.get_session(two.session_id)).last_seq == two_running.last_seq
    assert isinstance(results[2], SessionNotFound)
    assert await store.list_fills(ghost) == [] and await store.resume_state(ghost) is None
    assert [f.fill_id for f in await store.list_fills(three.session_id)] == ["f2"]
    resumed = await store.resume_state(three.session_id)
    assert resumed is not None and resumed.engine == b"E" and resumed.commits == 1


async def test_a_group_the_database_refuses_as_a_whole_is_written_one_by_one(store):
    """A write too big for the database (full: ``max_page_count``) fails alone, whether SQLite
    undid only its statement or the whole transaction; the small writes with it are stored."""
    sessions = [await start(store, n) for n in (1, 2)]
    pages = await store._thread.read(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
    await store._thread.read(lambda c: c.execute(f"PRAGMA max_page_count={pages + 40}").fetchall())
    huge = [
        Candle(T0 + i * 60_000_000, "BTC_USDT", 60, 1.0, 2.0, 0.5, 1.5, 10.0) for i in range(20_000)
    ]
    async with held(store):
        calls = await queued(
            move(store, sessions[0], SessionState.RUNNING),
            store.write_candles("big", huge),
            commit(store, sessions[1].session_id, fills=[fill(sessions[1].session_id, 1)]),
        )
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert "full" in str(results[1])
    assert results[0].state is SessionState.RUNNING
    assert (await store.get_session(sessions[0].session_id)).state is SessionState.RUNNING
    assert len(await store.list_fills(sessions[1].session_id)) == 1
    assert await store.read_candles("big", ["BTC_USDT"], 0, 2**62) == []


async def test_a_cancelled_caller_that_has_not_begun_writes_nothing(store):
    session = await start(store, 1)
    async with held(store):
        [write] = await queued(
            commit(store, session.session_id, fills=[fill(session.session_id, 1)], engine=b"X")
        )
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write  # while the thread is still busy: the write has not begun
    assert await store.resume_state(session.session_id) is None
    assert await store.list_fills(session.session_id) == []


async def test_reads_waiting_with_writes_see_only_what_is_committed(store):
    session = await start(store, 1)
    async with held(store):
        write, read = await queued(
            move(store, session, SessionState.RUNNING), store.get_session(session.session_id)
        )
        # reads have a connection of their own: the read answers while the write still waits
        # for the writer (awaited after the writer is free, a loaded machine could run it late)
        seen = await read
    assert (await write).state is SessionState.RUNNING
    assert seen.state is SessionState.STARTING  # not the write it raced with
    assert (await store.get_session(session.session_id)).state is SessionState.RUNNING


async def test_a_long_market_data_read_does_not_hold_up_state_changes(store):
    """Market data is read on a connection of its own: a replay loading its dataset does not
    delay the starts and stops queued behind it. The read sees what was committed before it."""
    session = await start(store, 1)
    candle = Candle(T0, "BTC_USDT", 60, 1.0, 2.0, 0.5, 1.5, 10.0)
    await store.write_candles("src", [candle])
    gate = threading.Event()

    def slow_read(conn):
        gate.wait(10)
        return conn.execute("SELECT count(*) FROM candles").fetchone()[0]

    reading = asyncio.ensure_future(store._read_market(slow_read))
    moved = await asyncio.wait_for(move(store, session, SessionState.RUNNING), 5)
    assert moved.state is SessionState.RUNNING and not reading.done()
    gate.set()
    assert await reading == 1
    assert await store.read_candles("src", ["BTC_USDT"], 0, 2**62) == [candle]


async def test_reads_do_not_wait_behind_the_writes(store):
    """``/health`` and a session's page read while the writer works through a backtest's big
    commits: they answer at once, with what was committed."""
    session = await start(store, 1)
    async with held(store):
        [write] = await queued(move(store, session, SessionState.RUNNING))
        seen = await asyncio.wait_for(store.get_session(session.session_id), 5)
        assert await asyncio.wait_for(store.ping(), 5)
        assert seen.state is SessionState.STARTING and not write.done()
    assert (await write).state is SessionState.RUNNING
    assert (await store.get_session(session.session_id)).state is SessionState.RUNNING


async def test_a_big_record_read_does_not_hold_up_a_sessions_read(store):
    """A session's page lists its equity (here 300,000 points): the read takes a while, and a
    ``/health`` ping or a session lookup meanwhile must not wait for it (they did: one read
    thread for both, so ``/health`` stalled for seconds while a dashboard loaded a backtest)."""
    session = await start(store, 1)
    sid = session.session_id
    points = [EquityPoint(sid, T0 + i, 1.0, 1.0, 0.0, 0.0, 0.0) for i in range(300_000)]
    await commit(store, sid, equity=points)
    finished: list[str] = []

    async def timed(name: str, read: Awaitable[Any]) -> None:
        await read
        finished.append(name)

    big = asyncio.ensure_future(timed("equity", store.list_equity(sid, 300_000)))
    await asyncio.sleep(0.01)  # the big read is under way
    await asyncio.gather(timed("ping", store.ping()), timed("session", store.get_session(sid)))
    await big
    assert finished.index("ping") < finished.index("equity")
    assert finished.index("session") < finished.index("equity")

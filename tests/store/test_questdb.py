"""What only the QuestDB store has to prove: its URL, crash recovery from the event write-ahead
log, read-your-writes while WAL apply is busy, and no silent loss when the server goes away."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import psycopg
import pytest
import structlog

from papertape.devtools.questdb_server import QuestDBServer
from papertape.domain.errors import StoreWriteFailed
from papertape.domain.market import BookSnapshot, StreamPosition, Trade
from papertape.domain.records import Fill, RecordBatch
from papertape.domain.session import Mode, NewEvent, Session, SessionState, transition
from papertape.store.base import SessionFilter, TradingCommit
from papertape.store.questdb import QuestDBSettings, QuestDBStore, _session_to_json
from papertape.store.questdb_schema import MIGRATIONS
from tests.store.test_store_contract import T0, move, new_session, start


def test_url_settings():
    s = QuestDBSettings.from_url(
        "questdb://bob:s%40cret@db.internal:9100?pg_port=9812&wal_wait_seconds=5"
    )
    assert (s.host, s.http_port, s.pg_port) == ("db.internal", 9100, 9812)
    assert (s.user, s.password) == ("bob", "s@cret")
    assert s.wal_wait_seconds == 5
    assert QuestDBSettings.from_url("questdb://127.0.0.1").http_port == 9000
    with pytest.raises(ValueError, match="unknown questdb URL options"):
        QuestDBSettings.from_url("questdb://127.0.0.1:9000?pgport=1")
    with pytest.raises(ValueError):
        QuestDBSettings.from_url("postgres://127.0.0.1:8812")


@pytest.fixture
async def qstore(questdb_url):
    store = QuestDBStore(questdb_url)
    await store.open()
    yield store
    await store.close()


def sql(url: str, statement: str, params=()) -> list[tuple]:
    settings = QuestDBSettings.from_url(url)
    with psycopg.connect(settings.conninfo, autocommit=True, prepare_threshold=None) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


async def test_migrations_are_recorded_once(qstore, questdb_url):
    again = QuestDBStore(questdb_url)
    await again.open()
    await again.close()
    applied = sql(questdb_url, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert applied == [(v, name) for v, name, _ in MIGRATIONS]
    tables = {
        r[0]: r[1:] for r in sql(questdb_url, "SELECT table_name, walEnabled, dedup FROM tables()")
    }
    assert tables["sessions"] == (False, False) and tables["events"] == (False, False)
    assert tables["resume_states"] == (False, False)
    for table in (
        *("trades", "candles", "books", "orders", "fills", "positions", "equity"),
        *("funding_rates", "mark_prices", "funding"),
    ):
        assert tables[table] == (True, True), table


async def test_a_new_migration_is_applied_once_at_start_up(qstore, questdb_url, monkeypatch):
    from papertape.store import questdb as module

    added = (99, "datasets note", ["ALTER TABLE datasets ADD COLUMN IF NOT EXISTS note VARCHAR"])
    monkeypatch.setattr(module, "MIGRATIONS", [*module.MIGRATIONS, added])
    for _ in range(2):
        upgraded = QuestDBStore(questdb_url)
        await upgraded.open()
        await upgraded.close()
    assert sql(questdb_url, "SELECT version FROM schema_migrations ORDER BY version") == [
        (v,) for v, _, _ in (*MIGRATIONS, added)
    ]
    columns = [r[0] for r in sql(questdb_url, "SELECT \"column\" FROM table_columns('datasets')")]
    assert "note" in columns


async def test_a_crash_between_event_and_session_row_is_repaired_on_open(qstore, questdb_url):
    """The state event (with its snapshot) is written first; if the process dies before the
    session row is updated, the next open replays the snapshot."""
    session = await start(qstore, 1)
    running = transition(session, SessionState.RUNNING, at=T0 + 100)
    # what update_session's first write leaves behind when the process dies right after it
    snapshot = dataclasses.replace(running, last_seq=2)
    sql(
        questdb_url,
        "INSERT INTO events VALUES (%s, 2, %s, 'state', %s, %s, systimestamp())",
        (
            session.session_id,
            T0 + 100,
            json.dumps({"from": "starting", "to": "running"}),
            _session_to_json(snapshot),
        ),
    )
    # and a create that died before its session row
    orphan = dataclasses.replace(new_session(2), last_seq=1)
    sql(
        questdb_url,
        "INSERT INTO events VALUES (%s, 1, %s, 'state', '{}', %s, systimestamp())",
        (orphan.session_id, T0, _session_to_json(orphan)),
    )
    assert (await qstore.get_session(session.session_id)).state is SessionState.STARTING

    recovered = QuestDBStore(questdb_url)
    await recovered.open()
    try:
        assert await recovered.get_session(session.session_id) == snapshot
        assert await recovered.get_session(orphan.session_id) == orphan
        stopping = await move(recovered, snapshot, SessionState.STOPPING, stop_reason="user")
        assert stopping.last_seq == 3
        assert [e.seq for e in await recovered.list_events(session.session_id)] == [1, 2, 3]
    finally:
        await recovered.close()


async def test_read_your_writes_while_ingestion_keeps_wal_apply_busy(qstore):
    """A session start is found at once by get and by stop, and a recorded fill by the next list,
    while another task floods the trades table."""
    stop_flood = asyncio.Event()

    async def flood() -> int:
        written, n = 0, 0
        while not stop_flood.is_set():
            batch = [
                Trade(T0 + n * 50_000 + i, "BTC_USDT", 100.0 + i % 7, 0.01, "buy", f"{n}-{i}")
                for i in range(50_000)
            ]
            await qstore.write_trades("flood", batch)
            written += len(batch)
            n += 1
        return written

    async def lifecycle(n: int) -> None:
        session = await start(qstore, n)
        assert await qstore.get_session(session.session_id) == session
        running = await move(qstore, session, SessionState.RUNNING)
        assert (await qstore.get_session(session.session_id)).state is SessionState.RUNNING
        stopping = await move(qstore, running, SessionState.STOPPING, stop_reason="user")
        stopped = await move(qstore, stopping, SessionState.STOPPED)
        assert await qstore.get_session(session.session_id) == stopped
        fill = Fill(
            session.session_id, "f1", "o1", T0 + n, "BTC_USDT", "buy", 1.0, 2.0, 0.0, "taker"
        )
        step = TradingCommit(
            session.session_id, RecordBatch(fills=[fill]), [], StreamPosition(0, 0), b""
        )
        await qstore.commit(step)
        assert await qstore.list_fills(session.session_id) == [fill]

    flooding = asyncio.create_task(flood())
    try:
        await asyncio.sleep(0.5)
        await asyncio.gather(*(lifecycle(n) for n in range(1, 41)))
    finally:
        stop_flood.set()
        written = await flooding
    assert written > 0
    trades = await qstore.read_trades("flood", ["BTC_USDT"], T0, T0 + 10**12)
    assert len(trades) == written


# the server goes away -------------------------------------------------------------------------
@pytest.fixture
def own_server(tmp_path, questdb_server):
    """A server of this test's own (the shared one must stay up), on the same kind of set-up."""
    server = QuestDBServer(tmp_path / "questdb")
    server.start()
    yield server
    server.stop()


def trades_batch(n: int, size: int = 2_000) -> list[Trade]:
    return [
        Trade(T0 + n * size + i, "BTC_USDT", 100.0 + i % 13, 0.5, "sell", f"t{n}-{i}")
        for i in range(size)
    ]


async def test_a_server_restart_mid_collection_loses_and_duplicates_nothing(own_server):
    store = QuestDBStore(own_server.url + "&write_retry_seconds=60")
    await store.open()
    session_id = "exec_20231114_221320_0000beef"
    restarted = asyncio.Event()

    async def bounce() -> None:
        await asyncio.to_thread(own_server.stop)
        await asyncio.sleep(2)
        await asyncio.to_thread(own_server.start)
        restarted.set()

    try:
        with structlog.testing.capture_logs() as logs:
            bouncing = None
            for n in range(30):
                if n == 10:
                    bouncing = asyncio.create_task(bounce())
                    await asyncio.sleep(0.3)  # the server is going down under the next writes
                await store.write_trades(session_id, trades_batch(n))
            await bouncing
        assert restarted.is_set()
        retries = [e for e in logs if e["event"] == "store.write.retry"]
        assert retries and all(e["session_id"] == session_id for e in retries)
        assert any(e["event"] == "store.write.recovered" for e in logs)
        # the pool's connections died with the server: control writes still work at once
        session = await start(store, 1)
        assert await store.get_session(session.session_id) == session
        got = await store.read_trades(session_id, ["BTC_USDT"], T0, T0 + 10**12)
        expected = [t for n in range(30) for t in trades_batch(n)]
        assert len(got) == len(expected)
        assert got == sorted(expected, key=lambda t: (t.ts, t.symbol, t.trade_id))
    finally:
        await store.close()


async def test_a_write_that_keeps_failing_raises_with_the_session_id(own_server):
    store = QuestDBStore(own_server.url + "&write_retry_seconds=2")
    await store.open()
    session_id = "exec_20231114_221320_0000dead"
    try:
        await store.write_trades(session_id, trades_batch(0))
        own_server.stop()
        with structlog.testing.capture_logs() as logs:
            with pytest.raises(StoreWriteFailed) as failure:
                await store.write_trades(session_id, trades_batch(1))
        assert failure.value.session_id == session_id
        assert failure.value.code == "store_write_failed"
        failed = [e for e in logs if e["event"] == "store.write.failed"]
        assert len(failed) == 1 and failed[0]["session_id"] == session_id
        assert failed[0]["rows"] == 2_000
    finally:
        await store.close()


@dataclasses.dataclass
class RecorderContext:
    """The runner's services as the collect-mode recorder uses them (``RunContext``)."""

    store: QuestDBStore
    session: Session

    async def publish(self, kind: str, data: dict) -> int:
        return 0

    def broadcast(self, kind: str, data: dict) -> None:
        pass

    def request_stop(self, reason: str) -> None:
        raise AssertionError(f"the recorder asked to stop: {reason}")

    def now(self) -> int:
        return T0


async def test_a_collect_recording_survives_a_server_restart(own_server):
    """The collect-mode recorder on the (double's) live feed writes into QuestDB; the server is
    stopped mid-collection and started again: every trade and book the feed delivered is stored
    exactly once, and nothing failed."""
    from papertape.market.exchange.connector import ExchangeHub
    from papertape.market.exchange.feed import ExchangeSource, FeedOptions
    from papertape.sessions.consumers.recording import MarketRecorder
    from tests.support.exchange_double import DoubleWorld

    store = QuestDBStore(own_server.url + "&write_retry_seconds=60")
    await store.open()
    session = dataclasses.replace(new_session(7, mode=Mode.COLLECT), state=SessionState.RUNNING)
    seen: list = []
    try:
        source = ExchangeSource(
            ["BTC_USDT"],
            "mexc",
            "spot",
            hub=ExchangeHub(DoubleWorld(speed=20).factory),
            options=FeedOptions(book_interval=0.05),
        )
        recorder = MarketRecorder(flush_interval=0.1)
        await recorder.start(RecorderContext(store, session))

        async def collect() -> None:
            async for batch in source.batches():
                seen.extend(batch)
                await recorder.on_batch(batch)

        async def bounce() -> None:
            await asyncio.sleep(0.7)
            await asyncio.to_thread(own_server.stop)
            await asyncio.sleep(1.5)
            await asyncio.to_thread(own_server.start)

        with structlog.testing.capture_logs() as logs:
            collecting = asyncio.create_task(collect())
            await asyncio.gather(bounce(), asyncio.sleep(4.0))
            collecting.cancel()
            await asyncio.gather(collecting, return_exceptions=True)
            await source.close()
            await recorder.finish("stopped")
        retries = [e for e in logs if e["event"] == "store.write.retry"]
        assert retries and {e["session_id"] for e in retries} == {session.session_id}
        assert not any(recorder.detail()["rows_failed"].values())
        trades = sorted({e for e in seen if isinstance(e, Trade)}, key=lambda t: (t.ts, t.trade_id))
        assert trades
        assert await store.read_trades(session.session_id, ["BTC_USDT"], 0, 2**62) == trades
        book_times = {e.ts for e in seen if isinstance(e, BookSnapshot)}
        books = await store.read_books(session.session_id, ["BTC_USDT"], 0, 2**62)
        assert book_times and len(books) == len(book_times)
    finally:
        await store.close()


async def test_rows_the_server_rejects_fail_at_once_without_blind_retries(qstore):
    bad = Trade(T0, "BTC_USDT", "not a price", 1.0, "buy", "1")  # type: ignore[arg-type]
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(StoreWriteFailed, match="cast error"):
            await qstore.write_trades("exec_20231114_221320_0000cafe", [bad])
    assert [e["event"] for e in logs] == ["store.write.failed"]
    assert logs[0]["attempts"] == 1 and logs[0]["session_id"] == "exec_20231114_221320_0000cafe"
    good = Trade(
        T0, "BTC_USDT", 100, 1, "buy", "2"
    )  # ints are written as the DOUBLE columns' values
    await qstore.write_trades("exec_20231114_221320_0000cafe", [good])
    assert await qstore.read_trades("exec_20231114_221320_0000cafe", ["BTC_USDT"], T0, T0 + 1) == [
        good
    ]


async def test_session_operations_wait_out_a_server_restart(own_server):
    """While QuestDB restarts, reads and session writes wait for it (up to write_retry_seconds)
    instead of failing: the runner that records a session's end does not lose it."""
    store = QuestDBStore(own_server.url + "&write_retry_seconds=60")
    await store.open()
    try:
        session = await start(store, 1)
        own_server.stop()

        async def restart_later() -> None:
            await asyncio.sleep(1.5)
            await asyncio.to_thread(own_server.start)

        with structlog.testing.capture_logs() as logs:
            restarting = asyncio.create_task(restart_later())
            found = await store.get_session(session.session_id)
            running = await move(store, found, SessionState.RUNNING)
            await restarting
        assert found == session
        assert await store.get_session(session.session_id) == running
        assert any(e["event"] == "store.unreachable.retry" for e in logs)
        assert await store.ping()
    finally:
        await store.close()


async def test_ping_answers_at_once_when_the_server_is_down(own_server):
    store = QuestDBStore(own_server.url)
    await store.open()
    try:
        assert await store.ping()
        own_server.stop()
        started = asyncio.get_running_loop().time()
        assert not await store.ping()
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        await store.close()


async def test_checkpoints_and_events_do_not_copy_the_session_record(qstore, questdb_url):
    session = await start(qstore, 1)
    for n in range(20):
        await qstore.save_checkpoint(session.session_id, {"replay_ts": n})
        await qstore.append_events(session.session_id, [NewEvent("fill", {"n": n}, T0 + n)])
    assert sql(questdb_url, "SELECT count() FROM sessions") == [(1,)]
    assert (await qstore.get_session(session.session_id)).last_seq == 21
    assert sql(questdb_url, "SELECT count() FROM checkpoints") == [(20,)]
    assert (await qstore.get_session(session.session_id)).checkpoint == {"replay_ts": 19}
    [listed] = (await qstore.list_sessions(SessionFilter())).sessions
    [unfinished] = await qstore.unfinished_sessions()
    assert listed.checkpoint == unfinished.checkpoint == {"replay_ts": 19}
    assert listed.last_seq == unfinished.last_seq == 21
    running = await move(qstore, session, SessionState.RUNNING)
    assert running.checkpoint == {"replay_ts": 19}  # the new version carries it
    assert running.last_seq == 22
    versions = sql(questdb_url, "SELECT checkpoint FROM sessions ORDER BY written_at")
    assert [json.loads(v[0]) for v in versions] == [{}, {"replay_ts": 19}]


async def test_starts_and_stops_do_not_wait_for_the_shared_connections(qstore):
    """With every connection of the shared pool taken (a hundred running sessions' commits and
    checkpoints queue there) and a keyed create in progress, a session is still created, read,
    given an event and moved to running, and the dataset a start names is looked up: a start
    and a stop have connections of their own, and creates without a key never wait for each
    other. (Both used to queue: 20 starts at once with 100 running took seconds, issue 10.)"""
    release = asyncio.Event()
    taken = 0

    async def hold_a_shared_connection() -> None:
        nonlocal taken
        async with qstore._pool.connection(time.monotonic() + 30):
            taken += 1
            await release.wait()

    holders = [asyncio.create_task(hold_a_shared_connection()) for _ in range(8)]
    while taken < qstore.settings.pool_size:
        await asyncio.sleep(0.01)
    try:
        async with qstore._create_lock:  # a keyed create waits for it; the others must not

            async def lifecycle() -> Session:
                await qstore.get_dataset("nope")
                session = await start(qstore, 1)
                await qstore.append_events(session.session_id, [NewEvent("feed", {}, T0)])
                assert (await qstore.get_session(session.session_id)).last_seq == 2
                return await move(qstore, session, SessionState.RUNNING)

            running = await asyncio.wait_for(lifecycle(), timeout=30)
        assert running.state is SessionState.RUNNING and running.last_seq == 3
        assert taken == qstore.settings.pool_size  # the shared pool stayed taken throughout
    finally:
        release.set()
        await asyncio.gather(*holders)


async def test_events_numbered_under_the_lock_are_inserted_without_a_second_look(
    qstore, monkeypatch
):
    """``append_events`` and a commit read the newest event once, to number theirs; inserting
    them does not read it again (a round trip per starting session's first event and per fill
    commit, behind a hundred running sessions), unless an attempt broke (then it may have landed)."""
    import papertape.store.questdb as questdb

    looks: list[str] = []
    real = questdb._last_seq

    async def counted(conn, session_id):
        looks.append(session_id)
        return await real(conn, session_id)

    monkeypatch.setattr(questdb, "_last_seq", counted)
    session = await start(qstore, 1)
    looks.clear()
    events = await qstore.append_events(session.session_id, [NewEvent("feed", {"n": 1}, T0)])
    assert [e.seq for e in events] == [2]
    assert len(looks) == 1
    looks.clear()
    step = TradingCommit(
        session.session_id,
        RecordBatch(),
        (NewEvent("fill", {"n": 2}, T0 + 1), NewEvent("fill", {"n": 3}, T0 + 2)),
        StreamPosition(T0, 1),
        b"engine",
    )
    committed = await qstore.commit(step)
    assert [e.seq for e in committed] == [3, 4]
    assert len(looks) == 1
    listed = await qstore.list_events(session.session_id)
    assert [(e.seq, e.kind) for e in listed] == [
        (1, "state"),
        (2, "feed"),
        (3, "fill"),
        (4, "fill"),
    ]

"""The store contract (``papertape/store/base.py``), checked on every store implementation."""

from __future__ import annotations

import dataclasses

import pytest

from papertape.domain.errors import SessionNotFound
from papertape.domain.funding import FundingPayment, FundingRate
from papertape.domain.market import BookSnapshot, Candle, MarkPrice, StreamPosition, Trade
from papertape.domain.records import (
    Dataset,
    EquityPoint,
    Fill,
    OrderRecord,
    PositionRecord,
    RecordBatch,
    SavedStrategy,
)
from papertape.domain.session import (
    Mode,
    NewEvent,
    Session,
    SessionState,
    state_event,
    transition,
)
from papertape.market.importers import read_market_file
from papertape.store import store_for
from papertape.store.base import SessionFilter, StaleState, TradingCommit, thin_evenly
from tests.support.data import MARKET_DATA

MARKET = MARKET_DATA
T0 = 1_700_000_000_000_000


def new_session(n: int, *, mode: Mode = Mode.PAPER, symbols=("BTC_USDT",), key=None) -> Session:
    return Session(
        session_id=f"exec_20231114_221320_{n:08x}",
        mode=mode,
        state=SessionState.STARTING,
        symbols=tuple(symbols),
        config={
            "mode": mode.value,
            "symbols": list(symbols),
            "cash": 10_000.5,
            "nested": {"a": [1, None]},
        },
        created_at=T0 + n,
        updated_at=T0 + n,
        idempotency_key=key,
    )


def created(session: Session) -> NewEvent:
    return NewEvent(kind="state", data={"to": "starting"}, ts=session.created_at)


async def start(store, n: int, **kw) -> Session:
    return await store.create_session(new_session(n, **kw), created(new_session(n, **kw)))


async def move(store, session: Session, target: SessionState, **kw) -> Session:
    after = transition(session, target, at=session.updated_at + 10, **kw)
    return await store.update_session(after, session.state, state_event(session, after))


async def commit(store, sid: str, *, events=(), position=(0, 0), engine=b"", **rows):
    """Commit trading rows (``orders=[...]``, ``fills=[...]``, ...) for session ``sid``."""
    step = TradingCommit(sid, RecordBatch(**rows), list(events), StreamPosition(*position), engine)
    return await store.commit(step)


# sessions ------------------------------------------------------------------------------------
async def test_created_session_is_readable_at_once(store):
    session = await start(store, 1)
    assert session.last_seq == 1
    assert await store.get_session(session.session_id) == session
    assert await store.get_session("exec_20231114_221320_ffffffff") is None
    events = await store.list_events(session.session_id)
    assert [(e.seq, e.kind, e.data) for e in events] == [(1, "state", {"to": "starting"})]


async def test_a_store_closed_twice_is_closed_once(store_url):
    """What replaced a store may close it after its owner did (``trade_column_reader``)."""
    store = store_for(store_url)
    await store.open()
    await store.write_trades("ds1", [Trade(T0, "BTC_USDT", 1.0, 0.1, "buy", "1")])
    await store.close()
    await store.close()
    again = store_for(store_url)  # the file or server is as the first close left it
    await again.open()
    try:
        assert await again.ping()
    finally:
        await again.close()


async def test_idempotency_key_returns_the_first_session(store):
    first = await start(store, 1, key="k-1")
    again = await store.create_session(new_session(2, key="k-1"), created(new_session(2)))
    assert again == first
    assert await store.get_session(new_session(2).session_id) is None
    assert await store.find_session_by_key("k-1") == first
    assert await store.find_session_by_key("k-2") is None


async def test_update_is_compare_and_set(store):
    session = await start(store, 1)
    running = await move(store, session, SessionState.RUNNING)
    assert running.state is SessionState.RUNNING and running.started_at is not None
    assert running.last_seq == 2
    assert await store.get_session(session.session_id) == running

    # a second writer that still believes the session is starting loses, and learns the truth
    late = transition(session, SessionState.FAILED, at=T0 + 99, error_code="x", error_message="y")
    with pytest.raises(StaleState) as stale:
        await store.update_session(late, SessionState.STARTING, state_event(session, late))
    assert stale.value.current == running
    assert [e.seq for e in await store.list_events(session.session_id)] == [1, 2]

    stopping = await move(store, running, SessionState.STOPPING, stop_reason="user")
    stopped = await move(store, stopping, SessionState.STOPPED)
    assert (stopped.state, stopped.stop_reason, stopped.last_seq) == (
        SessionState.STOPPED,
        "user",
        4,
    )
    assert stopped.ended_at is not None
    assert await store.get_session(session.session_id) == stopped
    kinds = [e.data["to"] for e in await store.list_events(session.session_id)]
    assert kinds == ["starting", "running", "stopping", "stopped"]


async def test_update_of_an_unknown_session_raises(store):
    with pytest.raises(SessionNotFound):
        await store.update_session(new_session(5), SessionState.STARTING, None)


async def test_update_without_event_and_checkpoints(store):
    session = await start(store, 1)
    await store.save_checkpoint(session.session_id, {"replay_ts": 123, "cash": 1.5})
    running = transition(session, SessionState.RUNNING, at=T0 + 50)
    stored = await store.update_session(running, SessionState.STARTING, None)
    # the transition does not carry the checkpoint: the stored one survives it
    assert stored.checkpoint == {"replay_ts": 123, "cash": 1.5}
    assert stored.last_seq == 1
    assert await store.get_session(session.session_id) == stored


async def test_list_sessions_filters_pages_and_counts(store):
    sessions = [
        await start(store, 1, symbols=("BTC_USDT",)),
        await start(store, 2, mode=Mode.COLLECT, symbols=("ETH_USDT", "BTC_USDT")),
        await start(store, 3, symbols=("BTC_USDTX",)),
        await start(store, 4, mode=Mode.BACKTEST, symbols=("XRP_ETH",)),
    ]
    await move(store, sessions[0], SessionState.RUNNING)
    ids = lambda page: [s.session_id for s in page.sessions]  # noqa: E731
    everything = await store.list_sessions(SessionFilter())
    assert everything.total == 4
    assert ids(everything) == [s.session_id for s in reversed(sessions)]

    page = await store.list_sessions(SessionFilter(limit=2, offset=1))
    assert (page.total, ids(page)) == (4, [sessions[2].session_id, sessions[1].session_id])
    beyond = await store.list_sessions(SessionFilter(limit=2, offset=10))
    assert (beyond.total, beyond.sessions) == (4, [])

    by_symbol = await store.list_sessions(SessionFilter(symbol="BTC_USDT"))
    assert ids(by_symbol) == [sessions[1].session_id, sessions[0].session_id]
    by_mode = await store.list_sessions(SessionFilter(mode=Mode.COLLECT))
    assert ids(by_mode) == [sessions[1].session_id]
    by_state = await store.list_sessions(SessionFilter(state=SessionState.RUNNING))
    assert (by_state.total, ids(by_state)) == (1, [sessions[0].session_id])
    combined = await store.list_sessions(
        SessionFilter(state=SessionState.STARTING, symbol="BTC_USDT")
    )
    assert ids(combined) == [sessions[1].session_id]


async def test_unfinished_sessions(store):
    a, b, c = [await start(store, n) for n in (1, 2, 3)]
    await move(store, await move(store, a, SessionState.RUNNING), SessionState.COMPLETED)
    await move(store, b, SessionState.RUNNING)
    unfinished = await store.unfinished_sessions()
    assert [s.session_id for s in unfinished] == [b.session_id, c.session_id]
    assert [s.state for s in unfinished] == [SessionState.RUNNING, SessionState.STARTING]


# events --------------------------------------------------------------------------------------
async def test_events_are_numbered_without_gaps(store):
    session = await start(store, 1)
    first = await store.append_events(
        session.session_id,
        [NewEvent("fill", {"qty": 0.5, "n": i}, T0 + i) for i in range(3)],
    )
    assert [e.seq for e in first] == [2, 3, 4]
    assert await store.append_events(session.session_id, []) == []
    more = await store.append_events(session.session_id, [NewEvent("note", {"ü": "✓"}, T0 - 5)])
    assert more[0].seq == 5
    listed = await store.list_events(session.session_id)
    assert [e.seq for e in listed] == [1, 2, 3, 4, 5]
    assert listed[4].data == {"ü": "✓"} and listed[4].ts == T0 - 5
    assert [e.seq for e in await store.list_events(session.session_id, after_seq=3)] == [4, 5]
    assert [e.seq for e in await store.list_events(session.session_id, after_seq=1, limit=2)] == [
        2,
        3,
    ]
    assert (await store.get_session(session.session_id)).last_seq == 5
    with pytest.raises(SessionNotFound):
        await store.append_events("exec_20231114_221320_0000ffff", [NewEvent("x", {}, T0)])


# the trading record --------------------------------------------------------------------------
def order(oid: str, ts: int, status: str, filled: float, created_ts: int) -> OrderRecord:
    return OrderRecord(
        session_id="exec_20231114_221320_00000001",
        order_id=oid,
        ts=ts,
        symbol="BTC_USDT",
        side="buy",
        type="limit",
        qty=1.0,
        price=100.5 if oid != "m" else None,
        stop_price=None,
        status=status,
        filled_qty=filled,
        avg_fill_price=100.5 if filled else None,
        created_ts=created_ts,
        client_order_id="",
        reason="",
    )


async def test_orders_keep_their_newest_state(store):
    sid = (await start(store, 1)).session_id
    rows = [
        order("b", T0 + 10, "open", 0.0, T0 + 10),
        order("a", T0 + 20, "open", 0.0, T0 + 20),
        order("b", T0 + 30, "partially_filled", 0.25, T0 + 10),
        order("m", T0 + 40, "filled", 1.0, T0 + 5),
    ]
    await commit(store, sid, orders=rows)
    await commit(store, sid, orders=rows[2:])  # rows written again change nothing
    await commit(store, sid, orders=[order("a", T0 + 15, "rejected", 0.0, T0 + 20)])  # older
    listed = await store.list_orders(sid)
    assert listed == [rows[3], rows[2], rows[1]]
    assert await store.list_orders("exec_20231114_221320_00000009") == []


async def test_fills_positions_and_equity(store):
    sid = (await start(store, 1)).session_id
    fills = [
        Fill(sid, f"f{i}", "o1", T0 + i, "BTC_USDT", "buy", 0.1, 100.0 + i, 0.01, "taker")
        for i in range(5)
    ]
    await commit(store, sid, fills=fills[::-1])
    await commit(store, sid, fills=fills[:2])
    assert await store.list_fills(sid) == fills

    positions = [
        PositionRecord(sid, T0 + 1, "BTC_USDT", 0.1, 100.0, 101.0, 0.0, 0.1, 0.01),
        PositionRecord(sid, T0 + 2, "BTC_USDT", -0.2, 99.0, 98.0, 1.5, 0.2, 0.02),
        PositionRecord(sid, T0 + 1, "ETH_USDT", 1.0, 10.0, 10.0, 0.0, 0.0, 0.0),
    ]
    await commit(store, sid, positions=positions)
    assert await store.list_positions(sid) == [positions[1], positions[2]]

    points = [
        EquityPoint(sid, T0 + i, 10_000.0 + i, 9_000.0, i * 0.5, 0.0, 0.01) for i in range(101)
    ]
    await commit(store, sid, equity=points)
    await commit(store, sid, equity=points[50:60])
    assert await store.list_equity(sid) == points
    thinned = await store.list_equity(sid, limit=11)
    assert thinned == points[::10]
    for limit in (1, 2, 3, 7, 50, 100, 101, 500):  # the store thins as thin_evenly does
        assert await store.list_equity(sid, limit=limit) == thin_evenly(points, limit)


async def test_a_commit_numbers_its_events_and_saves_where_to_resume(store):
    session = await start(store, 1)
    sid = session.session_id
    assert await store.resume_state(sid) is None
    fill = Fill(sid, "f1", "o1", T0, "BTC_USDT", "buy", 0.1, 100.0, 0.01, "taker")
    events = [NewEvent("fill", fill._asdict(), T0), NewEvent("risk", {"rule": "x"}, T0)]
    numbered = await commit(store, sid, fills=[fill], events=events, position=(T0, 3), engine=b"A")
    assert [(e.seq, e.kind) for e in numbered] == [(2, "fill"), (3, "risk")]
    assert [e.seq for e in await store.list_events(sid)] == [1, 2, 3]
    first = await store.resume_state(sid)
    assert (first.position, first.engine, first.commits) == (StreamPosition(T0, 3), b"A", 1)
    await commit(store, sid, position=(T0 + 5, 1), engine=b"B")
    second = await store.resume_state(sid)
    assert (second.position, second.engine, second.commits) == (StreamPosition(T0 + 5, 1), b"B", 2)
    assert (await store.get_session(sid)).last_seq == 3
    # after a commit without events, the next one's events still follow the last
    [later] = await commit(store, sid, events=[NewEvent("risk", {}, T0)], engine=b"C")
    assert later.seq == 4 and (await store.get_session(sid)).last_seq == 4


async def test_a_commit_for_an_unknown_session_leaves_nothing(store):
    sid = "exec_20231114_221320_0000beef"
    fill = Fill(sid, "f1", "o1", T0, "BTC_USDT", "buy", 0.1, 100.0, 0.01, "taker")
    with pytest.raises(Exception):  # noqa: B017 - each store words it its own way
        await commit(store, sid, fills=[fill], events=[NewEvent("fill", {}, T0)], engine=b"A")
    with pytest.raises(Exception):  # noqa: B017 - nor one without events
        await commit(store, sid, fills=[fill], engine=b"A")
    assert await store.list_fills(sid) == []
    assert await store.resume_state(sid) is None


# market data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_trades() -> list[Trade]:
    """2,001 Binance BTCUSDT trades of 2021-01-08 (shared real data)."""
    return read_market_file(
        MARKET / "binance_btcusdt_trades_2021-01-08.parquet", symbol="BTC_USDT"
    ).rows


async def test_trades_round_trip_once(store, real_trades):
    eth = [t._replace(symbol="ETH_USDT", price=t.price / 30) for t in real_trades[:100]]
    await store.write_trades("ds1", real_trades)
    await store.write_trades("ds1", real_trades[:500])  # a retried batch: no duplicate rows
    await store.write_trades("ds1", eth)
    await store.write_trades("ds2", real_trades[:10])
    start, end = real_trades[0].ts, real_trades[-1].ts + 1
    got = await store.read_trades("ds1", ["BTC_USDT"], start, end)
    assert got == sorted(real_trades, key=lambda t: (t.ts, t.symbol, t.trade_id))
    assert all(isinstance(t.ts, int) for t in got[:5])
    middle = real_trades[1000].ts
    assert [t.ts for t in await store.read_trades("ds1", ["BTC_USDT"], start, middle)] == [
        t.ts for t in got if t.ts < middle
    ]
    both = await store.read_trades("ds1", ["BTC_USDT", "ETH_USDT"], start, end)
    assert len(both) == len(real_trades) + 100
    assert await store.read_trades("ds3", ["BTC_USDT"], start, end) == []
    summary = await store.market_summary("ds1")
    assert summary == {
        "trades": {
            "rows": len(both),
            "start_ts": start,
            "end_ts": end - 1,
            "symbols": ["BTC_USDT", "ETH_USDT"],
        }
    }


async def test_candles_and_books_round_trip(store):
    candles = read_market_file(MARKET / "btc-perp_1m_2022-01.csv.gz", symbol="BTC_USDT").rows[:600]
    hourly = [
        Candle(c.ts, c.symbol, 3600, c.open, c.high, c.low, c.close, c.volume)
        for c in candles[::60]
    ]
    await store.write_candles("perp", candles)
    await store.write_candles("perp", candles[:100])
    await store.write_candles("perp", hourly)
    start, end = candles[0].ts, candles[-1].ts + 1
    assert await store.read_candles("perp", ["BTC_USDT"], start, end, interval=60) == candles
    assert await store.read_candles("perp", ["BTC_USDT"], start, end, interval=3600) == hourly
    assert len(await store.read_candles("perp", ["BTC_USDT"], start, end)) == len(candles) + len(
        hourly
    )

    books = read_market_file(
        MARKET / "binance-futures_btcusdt_book-snapshot-25.csv", symbol="BTC_USDT"
    ).rows
    assert books and len(books[0].bids) == 25
    await store.write_books("perp", books)
    await store.write_books("perp", books)
    got = await store.read_books("perp", ["BTC_USDT"], books[0].ts, books[-1].ts + 1)
    assert got == books
    summary = await store.market_summary("perp")
    assert summary["book"]["rows"] == len(books)
    assert summary["candles"]["rows"] == len(candles) + len(hourly)
    assert "trades" not in summary
    with pytest.raises(ValueError):
        await store.read_books("perp", [], 0, 1)


async def test_book_levels_round_trip_exactly(store):
    snap = BookSnapshot(T0, "BTC_USDT", ((100.25, 1.5), (100.0, 0.001)), ((100.5, 2.0),))
    empty_side = BookSnapshot(T0 + 1, "BTC_USDT", (), ((101.0, 1.0),))
    await store.write_books("s", [snap, empty_side])
    assert await store.read_books("s", ["BTC_USDT"], T0, T0 + 2) == [snap, empty_side]


async def test_funding_rates_marks_and_payments_round_trip(store):
    rates = read_market_file(
        MARKET / "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv", symbol="XRP_USDT"
    ).rows
    with_mark = FundingRate(rates[-1].ts + 28_800_000_000, "XRP_USDT", -0.00021, 0.9876)
    await store.write_funding("xrp-funding", [*rates, with_mark])
    await store.write_funding("xrp-funding", rates[:10])  # a retried batch: no duplicate rows
    first, end = rates[0].ts, with_mark.ts + 1
    assert await store.read_funding("xrp-funding", ["XRP_USDT"], first, end) == [
        *rates,
        with_mark,
    ]
    assert await store.read_funding("xrp-funding", ["BTC_USDT"], first, end) == []
    assert await store.market_summary("xrp-funding") == {
        "funding": {"rows": 92, "start_ts": first, "end_ts": end - 1, "symbols": ["XRP_USDT"]}
    }

    marks = [MarkPrice(T0 + i, "XRP_USDT", 1.0 + i / 1_000) for i in range(50)]
    await store.write_marks("xrp-mark", marks)
    await store.write_marks("xrp-mark", marks[:5])
    assert await store.read_marks("xrp-mark", ["XRP_USDT"], T0, T0 + 50) == marks
    assert (await store.market_summary("xrp-mark"))["mark"]["rows"] == 50

    sid = (await start(store, 2)).session_id
    payments = [
        FundingPayment(sid, r.ts, "XRP_USDT", r.rate, 1_000.0, 1.05, -r.rate * 1_050, "last")
        for r in rates[:3]
    ]
    payments.append(payments[0]._replace(symbol="BTC_USDT", price_source="settlement"))
    await commit(store, sid, funding=payments)
    await commit(store, sid, funding=payments[:2])  # written again: one row each
    assert await store.list_funding(sid) == sorted(payments, key=lambda p: (p.ts, p.symbol))
    assert await store.list_funding("exec_20231114_221320_00000003") == []


# datasets and strategies ---------------------------------------------------------------------
async def test_datasets_are_created_or_replaced(store):
    a = Dataset("alpha", "trades", ("BTC_USDT",), 10, T0, T0 + 9, T0 + 1, None, "a.csv")
    b = Dataset("beta", "candles", ("BTC_USDT", "ETH_USDT"), 5, None, None, T0 + 2, 60, "")
    await store.save_dataset(a)
    await store.save_dataset(b)
    assert await store.get_dataset("alpha") == a
    assert await store.list_datasets() == [b, a]
    bigger = a._replace(rows=20, end_ts=T0 + 19, created_at=T0 + 3)
    await store.save_dataset(bigger)
    assert await store.get_dataset("alpha") == bigger
    assert [d.name for d in await store.list_datasets()] == ["alpha", "beta"]
    assert await store.get_dataset("gamma") is None


async def test_strategies_are_created_or_replaced(store):
    s = SavedStrategy("momo", "rules", {"when": [{"gt": ["sma", 3]}]}, T0, T0, "first")
    await store.save_strategy(s)
    await store.save_strategy(SavedStrategy("abc", "sma_cross", {"fast": 5}, T0, T0))
    edited = s._replace(
        params={"when": []}, created_at=T0 + 100, updated_at=T0 + 100, description=""
    )
    await store.save_strategy(edited)
    assert await store.get_strategy("momo") == edited._replace(created_at=T0)
    assert [x.name for x in await store.list_strategies()] == ["abc", "momo"]
    assert await store.get_strategy("nope") is None


# durability ----------------------------------------------------------------------------------
async def test_everything_survives_reopening(store, store_url):
    session = await start(store, 1, key="again")
    running = await move(store, session, SessionState.RUNNING)
    await store.save_checkpoint(session.session_id, {"at": 7})
    fill = Fill(session.session_id, "f", "o", T0, "BTC_USDT", "sell", 1.0, 2.0, 0.0, "maker")
    await commit(store, session.session_id, fills=[fill], engine=b"state")

    reopened = store_for(store_url)  # a second store on the same data: no shared memory
    await reopened.open()  # migrations are idempotent: a second open changes nothing
    try:
        assert await reopened.get_session(session.session_id) == dataclasses.replace(
            running, checkpoint={"at": 7}
        )
        assert await reopened.find_session_by_key("again") is not None
        assert len(await reopened.list_fills(session.session_id)) == 1
        assert (await reopened.resume_state(session.session_id)).engine == b"state"
        assert await reopened.ping()
    finally:
        await reopened.close()


# concurrency ---------------------------------------------------------------------------------
async def test_concurrent_writers_of_one_session(store):
    """Appends racing each other stay gapless; of racing transitions out of one state exactly
    one wins and the others learn the state it left."""
    import asyncio

    session = await start(store, 1)
    running = await move(store, session, SessionState.RUNNING)
    batches = await asyncio.gather(
        *(
            store.append_events(session.session_id, [NewEvent("tick", {"n": n}, T0 + n)] * 2)
            for n in range(10)
        )
    )
    seqs = sorted(e.seq for batch in batches for e in batch)
    assert seqs == list(range(3, 23))
    for batch in batches:  # each batch got consecutive numbers
        assert batch[1].seq == batch[0].seq + 1

    async def stop_it(reason: str):
        after = transition(running, SessionState.STOPPING, at=T0 + 500, stop_reason=reason)
        try:
            return await store.update_session(
                after, SessionState.RUNNING, state_event(running, after)
            )
        except StaleState as stale:
            return stale

    outcomes = await asyncio.gather(*(stop_it(f"r{n}") for n in range(8)))
    winners = [o for o in outcomes if not isinstance(o, StaleState)]
    assert len(winners) == 1 and winners[0].last_seq == 23
    assert all(
        o.current.state is SessionState.STOPPING for o in outcomes if isinstance(o, StaleState)
    )
    events = await store.list_events(session.session_id)
    assert [e.seq for e in events] == list(range(1, 24))
    assert (await store.get_session(session.session_id)) == winners[0]


async def test_sqlite_applies_a_lower_migration_that_lands_later(tmp_path, monkeypatch):
    """Versions are applied by number, not "above the newest": branches land out of order. A
    store migrated before version 3 existed gets it at its next start, once."""
    import sqlite3

    from papertape.store import sqlite as module

    full = list(module.MIGRATIONS)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    monkeypatch.setattr(module, "MIGRATIONS", [m for m in full if m[0] != 3])
    first = store_for(url)
    await first.open()
    await first.close()
    monkeypatch.setattr(module, "MIGRATIONS", full)
    for _ in range(2):
        again = store_for(url)
        await again.open()
        await again.close()
    with sqlite3.connect(tmp_path / "m.db") as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == sorted(v for v, _ in full)
        assert conn.execute("SELECT count(*) FROM funding_rates").fetchone() == (0,)

"""The SQLite "bad parameter or other API misuse" error, understood and gone.

Its cause: store functions that handed a ``sqlite3.Cursor`` back to the event loop (a lambda
returning ``conn.execute(...)``). When the loop thread garbage-collects such a cursor, CPython
resets its statement — a statement that Python's per-connection statement cache may be running
on the store's own thread at that moment (the same SQL, e.g. the next ``save_checkpoint``). The
store's thread then gets ``SQLITE_MISUSE``. Now every statement's cursor is closed on the store
thread, and ``_run`` refuses a function that returns a cursor, so the mistake fails loudly.
"""

from __future__ import annotations

import asyncio

import pytest

from papertape.domain.config import SessionConfig
from papertape.domain.session import SessionState
from papertape.market.dataset_import import import_dataset
from papertape.sessions.service import SessionService
from papertape.store.sqlite import SQLiteStore
from tests.support.data import MARKET_DATA

TRADES = MARKET_DATA / "binance_btcusdt_trades_2021-01-08.parquet"


@pytest.fixture
async def store(tmp_path):
    store = SQLiteStore(f"sqlite:///{tmp_path}/papertape.db")
    await store.open()
    yield store
    await store.close()


async def test_a_cursor_never_leaves_the_store_thread(store):
    with pytest.raises(TypeError, match="returned a cursor"):
        await store._run(lambda conn: conn.execute("SELECT 1"))
    assert await store.ping()  # the store is fine after the refusal


async def test_many_sessions_many_writers_and_subscribers_no_runner_crashes(store):
    """300 paper sessions replaying real trades at full speed, 60 at a time, each with a
    subscriber draining its updates, while readers hammer the same tables: every session
    completes, none crashes in the store."""
    await import_dataset(store, TRADES, "btc_trades", symbol="BTC_USDT")
    service = SessionService(store, stop_timeout=30)
    body = {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "strategies": [{"name": "sma_cross", "params": {"fast": 3, "slow": 8, "bar_interval": 1}}],
        "market": {"source": "replay", "dataset": "btc_trades", "speed": 1_000_000},
    }
    ended: list[SessionState] = []
    failures: list[str] = []

    async def one() -> None:
        with service.bus.subscribe() as subscription:
            session, _ = await service.start(SessionConfig.model_validate(body))
            subscription.sessions.add(session.session_id)
            sid = session.session_id
            while True:
                current = await store.get_session(sid)
                if current.state.terminal:
                    break
                await store.list_fills(sid)
                await store.list_events(sid, 0, 100)
                subscription.take_pending()  # what a websocket writer would send
                await asyncio.sleep(0.01)
            ended.append(current.state)
            if current.state is not SessionState.COMPLETED:
                failures.append(f"{sid}: {current.state.value} {current.error_code}")

    gate = asyncio.Semaphore(60)

    async def gated() -> None:
        async with gate:
            await one()

    await asyncio.wait_for(asyncio.gather(*(gated() for _ in range(300))), timeout=280)
    assert len(ended) == 300
    assert not failures, failures[:5]

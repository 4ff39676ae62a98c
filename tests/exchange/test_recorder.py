"""The collect-mode recorder (``MarketRecorder``) on the live feed: batched writes into a real
SQLite store, full-depth books, backpressure, and failures that are counted and fail loudly."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from papertape.domain.errors import StoreWriteFailed
from papertape.domain.market import BookSnapshot, Candle, Trade
from papertape.domain.session import Mode, Session, SessionState
from papertape.market.exchange.connector import ExchangeHub
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from papertape.sessions.consumers.recording import MarketRecorder
from tests.support import market_tapes
from tests.support.exchange_double import DoubleWorld

SESSION_ID = "exec_20260101_000000_0123abcd"


@dataclass
class Context:
    """The runner's services as the recorder uses them (``RunContext``)."""

    store: Any
    session: Session = field(
        default_factory=lambda: Session(
            SESSION_ID, Mode.COLLECT, SessionState.RUNNING, ("BTC_USDT",), {}, 0, 0
        )
    )
    stops: list[str] = field(default_factory=list)

    async def publish(self, kind: str, data: dict) -> int:
        return 0

    def broadcast(self, kind: str, data: dict) -> None:
        pass

    def request_stop(self, reason: str) -> None:
        self.stops.append(reason)

    def now(self) -> int:
        return time.time_ns() // 1000


async def _record(source: ExchangeSource, recorder: MarketRecorder, seconds: float) -> list:
    seen: list = []

    async def pump() -> None:
        async for batch in source.batches():
            seen.extend(batch)
            await recorder.on_batch(batch)

    task = asyncio.create_task(pump())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await source.close()
    await recorder.finish("stopped")
    return seen


async def test_records_everything_the_feed_delivered(sqlite_store):
    world = DoubleWorld(speed=20)
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=ExchangeHub(world.factory),
        options=FeedOptions(book_interval=0.05),
    )
    recorder = MarketRecorder(flush_interval=0.1, candle_interval=1)
    await recorder.start(Context(sqlite_store))
    seen = await _record(source, recorder, 1.5)
    trades = [e for e in seen if isinstance(e, Trade)]
    books = [e for e in seen if isinstance(e, BookSnapshot)]
    assert trades and books and not any(isinstance(e, Candle) for e in seen)
    written = recorder.detail()["rows_written"]
    assert (written["trades"], written["book"]) == (len(trades), len(books))
    assert recorder.detail()["rows_failed"] == dict.fromkeys(MarketRecorder.KINDS, 0)
    assert recorder.detail()["rows_pending"] == 0
    stored = await sqlite_store.read_trades(SESSION_ID, ["BTC_USDT"], 0, 2**62)
    assert [t.trade_id for t in stored] == [
        t.trade_id for t in sorted(trades, key=lambda t: (t.ts, t.trade_id))
    ]
    # 1 s bars derived from the recorded trades: every closed bar but the first (partial) one
    bars = await sqlite_store.read_candles(SESSION_ID, ["BTC_USDT"], 0, 2**62)
    assert len(bars) == written["candles"] > 0
    by_second: dict[int, list[Trade]] = {}
    for t in sorted(trades, key=lambda t: t.ts):
        by_second.setdefault(t.ts - t.ts % 1_000_000, []).append(t)
    for bar in bars:
        prints = by_second[bar.ts]
        assert (bar.open, bar.close) == (prints[0].price, prints[-1].price)
        assert bar.high == max(p.price for p in prints) and bar.low == min(p.price for p in prints)
        assert bar.volume == pytest.approx(sum(p.qty for p in prints))
    assert bars[0].ts > min(by_second)  # the first, partial second is not a bar


async def test_books_are_stored_at_the_full_depth_delivered(sqlite_store):
    world = DoubleWorld(speed=1)
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "swap",
        hub=ExchangeHub(world.factory),
        options=FeedOptions(book_depth=None, book_interval=0),
    )
    recorder = MarketRecorder(flush_interval=0.05)
    await recorder.start(Context(sqlite_store))
    await _record(source, recorder, 0.5)
    [book] = await sqlite_store.read_books(SESSION_ID, ["BTC_USDT"], 0, 2**62)
    snapshot = market_tapes.btc_swap_books()[0]
    assert len(book.bids) == len(snapshot.bids) and len(book.asks) == len(snapshot.asks)
    assert tuple(map(tuple, book.bids)) == snapshot.bids


async def test_backpressure_holds_the_feed_instead_of_growing_without_bound(sqlite_store):
    recorder = MarketRecorder(flush_rows=1_000_000, flush_interval=60, max_pending=100)
    await recorder.start(Context(sqlite_store))
    rows = [Trade(1_000_000 + i, "BTC_USDT", 1.0 + i, 0.5, "buy", str(i)) for i in range(250)]
    for i in range(0, 250, 50):
        await recorder.on_batch(rows[i : i + 50])
        assert recorder.detail()["rows_pending"] < 100  # the call waited for the flusher
    await recorder.finish("stopped")
    assert recorder.rows_written["trades"] == 250
    assert len(await sqlite_store.read_trades(SESSION_ID, ["BTC_USDT"], 0, 2**62)) == 250


async def test_rows_that_cannot_be_written_are_counted_and_fail_the_session(tmp_path):
    from papertape.store import open_store

    store = await open_store(f"sqlite:///{tmp_path / 'gone.db'}")
    recorder = MarketRecorder(flush_interval=60, retries=2, retry_delay=0.01)
    await recorder.start(Context(store))
    await recorder.on_batch(
        [Trade(1, "BTC_USDT", 1.0, 1.0, "buy", "a"), Trade(2, "BTC_USDT", 1.0, 1.0, "buy", "b")]
    )
    await store.close()  # the store goes away with rows pending
    with pytest.raises(StoreWriteFailed) as failure:
        await recorder.finish("stopped")
    assert failure.value.code == "store_write_failed"
    assert recorder.detail()["rows_failed"]["trades"] == 2
    assert recorder.detail()["write_retries"] == 2
    with pytest.raises(StoreWriteFailed):
        await recorder.on_batch([Trade(3, "BTC_USDT", 1.0, 1.0, "buy", "c")])

"""A collect session and a paper session through the unmodified ccxt pro client on real Binance
wire messages: the loopback server replays the shared futures BTCUSDT capture, both sessions
are started by the session service with ``market.exchange_url`` pointing at it, and what the
collect session *recorded in the store* must equal the capture — every trade id, no gap, the
same book top at the end — while the paper session trades on the same feed. Nothing leaves
127.0.0.1."""

from __future__ import annotations

import asyncio
import time

import pytest

from papertape.domain.market import BookSnapshot, Trade
from papertape.sessions.service import SessionService
from papertape.store.sqlite import SQLiteStore
from tests.support.binance_marks import start_long_and_collect
from tests.support.binance_replay import BinanceReplay

SYMBOL = "BTC_USDT"
DEPTH = 20
QTY = 0.01
STREAMS = ("btcusdt@trade", "btcusdt@depth")


async def test_collect_records_the_capture_and_paper_trades_on_it_through_real_ccxt(
    tmp_path, futures_lines, futures_capture
):
    expected = sorted((e for e in futures_capture.events if isinstance(e, Trade)), key=_by_id)
    store = SQLiteStore(f"sqlite:///{tmp_path}/papertape.db")
    await store.open()
    service = SessionService(store)
    try:
        async with BinanceReplay(futures_lines) as server:
            pid, cid = await start_long_and_collect(
                service,
                SYMBOL,
                server.base_url,
                QTY,
                book_depth=DEPTH,
                book_interval=0,  # a snapshot after every update: the end is recorded
            )
            feed = await _recorded_everything(service, server, cid, len(expected))
            for sid in (cid, pid):
                await service.stop(sid)
        recorded = sorted(await store.read_trades(cid, [SYMBOL], 0, 2**62), key=_by_id)
        books = await store.read_books(cid, [SYMBOL], 0, 2**62)
        fills = await store.list_fills(pid)
    finally:
        await service.shutdown()
        await store.close()

    assert server.sent["btcusdt@trade"] == 2 * 21_313  # the whole capture to each session
    assert feed["gaps"] == 0 and feed["duplicates"] == 0 and feed["reconnects"] == 0
    assert len({t.trade_id for t in recorded}) == len(recorded)  # none twice
    assert [(t.trade_id, t.price, t.qty, t.ts, t.side) for t in recorded] == [
        (t.trade_id, t.price, t.qty, t.ts, t.side) for t in expected[: len(recorded)]
    ]
    # ccxt holds the trades that arrived while no watch_trades call waited until its next
    # message, which the end of a capture never brings: a few at most, never a gap
    assert len(expected) - len(recorded) <= 50
    snapshots = [e for e in futures_capture.events if isinstance(e, BookSnapshot)]
    final = snapshots[-1]
    last = max(books, key=lambda b: b.ts)
    assert (last.bids, last.asks) == (final.bids[:DEPTH], final.asks[:DEPTH])
    # the paper session bought on the same feed, at a price the capture traded near
    assert fills and fills[0].side == "buy" and fills[0].qty == pytest.approx(QTY)
    low, high = min(t.price for t in expected), max(t.price for t in expected)
    assert low * 0.999 <= fills[0].price <= high * 1.001


async def _recorded_everything(
    service: SessionService, server: BinanceReplay, session_id: str, want: int
) -> dict:
    """Wait until the server has sent the whole capture and the collect session has recorded
    every trade, or nothing new for 3 s; the feed's status then."""
    deadline = time.monotonic() + 120
    seen, quiet_since = -1, time.monotonic()
    while True:
        runtime = service.runtime(session_id) or {}
        written = runtime.get("rows_written", {}).get("trades", 0)
        assert time.monotonic() < deadline, (written, dict(server.sent), runtime.get("feed"))
        if written != seen:
            seen, quiet_since = written, time.monotonic()
        sent_all = all(server.sent[k] >= 2 * server.counts[k] for k in STREAMS)  # two sessions
        if sent_all and (written >= want or time.monotonic() - quiet_since > 3):
            await asyncio.sleep(1.5)  # the last book snapshots reach the store
            feed: dict = (service.runtime(session_id) or {})["feed"]
            return feed
        await asyncio.sleep(0.1)


def _by_id(trade: Trade) -> int:
    return int(trade.trade_id)

"""The unmodified ccxt pro client on real Binance wire messages: a loopback server replays the
shared futures BTCUSDT capture (tests/support/binance_replay.py), ccxt is pointed at it through
the project's URL override, and the project's own feed (``ExchangeSource``) must deliver every
captured trade (same ids, prices, sizes, times, sides, no gap) and end on the same book as the
capture's independent rebuild. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import time

import pytest

from papertape.domain.market import BookSnapshot, Trade
from papertape.market.binance_capture import rebuild
from papertape.market.exchange.connector import ExchangeHub, ccxt_factory, hub_for
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from papertape.market.exchange.urls import redirected, stray_urls
from tests.support.binance_replay import BinanceReplay
from tests.support.data import MARKET_DATA

FUTURES = MARKET_DATA / "binance-futures_btcusdt_l2-stream_2024-08-08.txt.gz"
DEPTH = 20


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return gzip.decompress(FUTURES.read_bytes()).decode().splitlines()


@pytest.fixture(scope="module")
def capture(lines):
    return rebuild(lines, FUTURES.name)


async def _collect(server: BinanceReplay, want_trades: int, timeout: float = 90) -> tuple:
    hub = ExchangeHub(redirected(ccxt_factory, server.base_url))
    source = ExchangeSource(
        ["BTC_USDT"], "binance", "swap", hub=hub, options=FeedOptions(book_depth=DEPTH)
    )
    trades: list[Trade] = []
    books: list[BookSnapshot] = []

    async def read() -> None:
        async for batch in source.batches():
            for event in batch:
                (trades if isinstance(event, Trade) else books).append(event)

    reader = asyncio.create_task(read())
    deadline = time.monotonic() + timeout
    streams = ("btcusdt@trade", "btcusdt@depth")
    while any(server.sent[k] < server.counts[k] for k in streams) or len(trades) < want_trades:
        assert time.monotonic() < deadline, (len(trades), dict(server.sent), source.status)
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the last book update reaches ccxt's book
    status = source.status
    await source.close()
    reader.cancel()
    return trades, books, status, hub


async def test_every_captured_trade_and_the_final_book_through_real_ccxt(lines, capture):
    expected = [e for e in capture.events if isinstance(e, Trade)]
    async with BinanceReplay(lines) as server:
        trades, books, status, hub = await _collect(server, len(expected))
        exchange = hub.create("binance", "swap")
        assert stray_urls(exchange.urls, server.base_url) == []  # nothing can leave loopback
        await exchange.close()
    assert server.sent == {"btcusdt@trade": 21_313, "btcusdt@depth": 6_551}
    assert len({t.trade_id for t in trades}) == len(trades)  # none twice
    assert [(t.trade_id, t.price, t.qty, t.ts, t.side) for t in sorted(trades, key=_by_id)] == [
        (t.trade_id, t.price, t.qty, t.ts, t.side) for t in sorted(expected, key=_by_id)
    ]
    assert status.gaps == 0 and status.duplicates == 0 and status.reconnects == 0
    final = [e for e in capture.events if isinstance(e, BookSnapshot)][-1]
    assert books[-1].bids == final.bids[:DEPTH] and books[-1].asks == final.asks[:DEPTH]
    # ccxt asked for the snapshot the Binance way (REST, 1,000 levels), once
    assert [q for path, q in server.requests if path == "/fapi/v1/depth"] == [
        {"symbol": "BTCUSDT", "limit": "1000"}
    ]


def _by_id(trade: Trade) -> int:
    return int(trade.trade_id)


def test_hub_for_an_exchange_url_is_redirected_and_kept():
    hub = hub_for("http://127.0.0.1:9")
    assert hub is hub_for("http://127.0.0.1:9") and hub is not hub_for(None)
    exchange = hub.create("binance", "swap")
    assert stray_urls(exchange.urls, "http://127.0.0.1:9") == []
    assert exchange.options["tradesLimit"] >= 50_000

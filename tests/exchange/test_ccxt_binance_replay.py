"""The unmodified ccxt pro client on real Binance wire messages: a loopback server replays the
shared futures BTCUSDT capture (tests/support/binance_replay.py), ccxt is pointed at it through
the project's URL override, and the project's own feed (``ExchangeSource``) must deliver every
captured trade (same ids, prices, sizes, times, sides, no gap) and end on the same book as the
capture's independent rebuild. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

from papertape.domain.market import BookSnapshot, Trade
from papertape.market.exchange.connector import ExchangeHub, ccxt_factory, hub_for
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from papertape.market.exchange.urls import redirected, stray_urls
from tests.support.binance_replay import BinanceReplay

DEPTH = 20


async def _collect(server: BinanceReplay, want_trades: int, timeout: float = 120) -> tuple:
    """Read the feed until the server has sent both streams and the feed has delivered every
    trade, or has delivered nothing new for 3 s (ccxt holds the trades that arrived while no
    ``watch_trades`` call was waiting until the next message: at the end of a capture there is
    none). Returns the trades and books delivered, the feed's status, the hub, and the trade ids
    in ccxt's cache with the top of ccxt's own book at the end."""
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
    seen, quiet_since = -1, time.monotonic()
    while True:
        assert time.monotonic() < deadline, (len(trades), dict(server.sent), source.status)
        await asyncio.sleep(0.1)
        if len(trades) != seen:
            seen, quiet_since = len(trades), time.monotonic()
        if any(server.sent[k] < server.counts[k] for k in streams):
            continue
        if len(trades) >= want_trades or time.monotonic() - quiet_since > 3:
            break
    await asyncio.sleep(0.5)  # the last book update reaches ccxt's book
    exchange = source._exchange
    cached = [str(t["id"]) for t in exchange.trades.get("BTC/USDT:USDT", [])]
    book = exchange.orderbooks["BTC/USDT:USDT"]
    ccxt_top = (
        tuple((p, q) for p, q, *_ in book["bids"][:DEPTH]),
        tuple((p, q) for p, q, *_ in book["asks"][:DEPTH]),
    )
    status = source.status
    await source.close()
    reader.cancel()
    return trades, books, status, hub, (cached, ccxt_top)


async def test_every_captured_trade_and_the_final_book_through_real_ccxt(
    futures_lines, futures_capture
):
    expected = [e for e in futures_capture.events if isinstance(e, Trade)]
    async with BinanceReplay(futures_lines) as server:
        trades, books, status, hub, (cached, ccxt_top) = await _collect(server, len(expected))
        exchange = hub.create("binance", "swap")
        assert stray_urls(exchange.urls, server.base_url) == []  # nothing can leave loopback
        await exchange.close()
    assert server.sent == {"btcusdt@trade": 21_313, "btcusdt@depth": 6_551}
    assert len({t.trade_id for t in trades}) == len(trades)  # none twice
    expected = sorted(expected, key=_by_id)
    delivered = sorted(trades, key=_by_id)
    assert [(t.trade_id, t.price, t.qty, t.ts, t.side) for t in delivered] == [
        (t.trade_id, t.price, t.qty, t.ts, t.side) for t in expected[: len(delivered)]
    ]
    # the rest (if any, a few at most) arrived while no watch_trades call waited: ccxt holds them
    # until the next message, which the capture's end never brings. Held, not lost:
    held = [t.trade_id for t in expected[len(delivered) :]]
    assert len(held) <= 50 and set(held) <= set(cached)
    assert status.gaps == 0 and status.duplicates == 0 and status.reconnects == 0
    snapshots = [e for e in futures_capture.events if isinstance(e, BookSnapshot)]
    final = snapshots[-1]
    # ccxt's book ends on the capture's last update, equal to the independent rebuild's
    assert ccxt_top == (final.bids[:DEPTH], final.asks[:DEPTH])
    # and every book the feed delivered is one the rebuild passed through
    rebuilt = {(s.bids[:DEPTH], s.asks[:DEPTH]) for s in snapshots}
    assert books and all((b.bids, b.asks) in rebuilt for b in books)
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

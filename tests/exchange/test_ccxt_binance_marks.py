"""Live mark prices and funding through the unmodified ccxt pro client: a loopback Binance
(tests/support/binance_replay.py) streams ``xrpusdt@markPrice@1s`` to a paper session and a
collect session on the XRPUSDT perpetual, run by the session service with the market's
``exchange_url`` pointing at it. Nothing leaves 127.0.0.1.

The messages (tests/support/binance_marks.py) carry real values in the test's framing: the
shared captures hold no mark-price messages, so each ``markPriceUpdate`` carries one hour of
``xrp-usdt-perp_mark_1h_2021-11.csv`` (its open time and open as ``E`` and ``p``) with the next
funding time and rate of ``binance-futures_xrpusdt_funding-rate_8h_2021-11.csv`` (``T``, ``r``);
the prints that let the strategy open its position are the same venue's 1-hour traded candles,
one print per hour at the close; the book is empty.

Messages follow Binance's documented futures formats, in exchange-time order, 20,000× faster than
recorded (one hour of data in 180 ms)."""

from __future__ import annotations

import asyncio
import math

import pytest

from papertape.domain.funding import FundingRate
from papertape.domain.market import MarkPrice
from papertape.market.exchange.connector import ExchangeHub, ccxt_factory, default_hub
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from papertape.market.exchange.urls import redirected
from papertape.sessions.service import SessionService
from papertape.store.sqlite import SQLiteStore
from tests.support.binance_marks import (
    FIRST_MARK,
    HOUR_MS,
    LAST_MARK,
    capture_lines,
    mark_messages,
    processed_through,
    start_long_and_collect,
    trade_messages,
)
from tests.support.binance_replay import BinanceReplay

PRINT_HOURS = (1637175600000, 1637179200000, 1637182800000, 1637186400000)  # 19:00 → 22:00
SPEED = 20_000
QTY = 1_000.0
SYMBOL = "XRP_USDT"

# The funding times between the first and the last mark, read off the two files by eye:
# (funding time µs, rate, open of the mark candle of that hour: the newest mark at that time)
HAND = [
    (1637193600017000, 0.0001, 1.09503),  # 2021-11-18 00:00:00.017
    (1637222400007000, 0.0001, 1.10725),  # 2021-11-18 08:00:00.007
    (1637251200011000, 0.0001, 1.05591),  # 2021-11-18 16:00:00.011
    (1637280000000000, 0.0001, 1.04093),  # 2021-11-19 00:00:00
    (1637308800000000, 0.0001, 1.04239),  # 2021-11-19 08:00:00
]
# a long of 1,000 XRP pays 0.01 % × 1,000 × mark at each: 0.1 × (1.09503 + 1.10725 + 1.05591 +
# 1.04093 + 1.04239) = 0.1 × 5.34151 = 0.534151 USDT paid
HAND_TOTAL = -0.534151
# the 2021-11-19 16:00:00.005 funding is announced by the last messages but its time never
# passes in the data: it is not paid and not recorded


@pytest.fixture(scope="module")
def marks() -> list[dict]:
    messages = mark_messages()
    assert len(messages) == 39 and messages[0]["E"] == FIRST_MARK  # every hour, none missing
    return messages


@pytest.fixture(scope="module")
def capture(marks) -> list[str]:
    return capture_lines(marks, trade_messages(PRINT_HOURS))


def test_hand_figures_match_the_files(marks):
    """The hand table above is what the messages say: each funding time is announced with its
    rate, and the mark at its hour is the one written down."""
    announced = {(m["T"] * 1_000, float(m["r"])) for m in marks}
    by_hour = {m["E"] * 1_000: float(m["p"]) for m in marks}
    for funding_time, rate, mark in HAND:
        assert (funding_time, rate) in announced
        assert by_hour[funding_time - funding_time % (HOUR_MS * 1_000)] == mark
    assert math.isclose(-sum(r * QTY * m for _, r, m in HAND), HAND_TOTAL, abs_tol=1e-12)


async def test_the_feed_delivers_marks_and_funding_unchanged_through_real_ccxt(marks, capture):
    async with BinanceReplay(capture, speed=SPEED) as server:
        hub = ExchangeHub(redirected(ccxt_factory, server.base_url))
        source = ExchangeSource([SYMBOL], "binance", "swap", hub=hub, options=FeedOptions())
        events: list = []

        async def read() -> None:
            async for batch in source.batches():
                events.extend(batch)

        reader = asyncio.create_task(read())
        await _until(lambda: any(e.ts == LAST_MARK * 1_000 for e in events), 30)
        status = source.status
        await source.close()
        reader.cancel()
    got_marks = [e for e in events if isinstance(e, MarkPrice)]
    # every hour's mark (ccxt keeps only the newest ticker, so at this pace a mark could be
    # skipped; none is, and none differs from what was sent)
    assert [(m.ts, m.price) for m in got_marks] == [(m["E"] * 1_000, float(m["p"])) for m in marks]
    funding = [e for e in events if isinstance(e, FundingRate)]
    assert [(f.ts, f.symbol, f.rate, f.mark_price) for f in funding] == [
        (t, SYMBOL, r, None) for t, r, _ in HAND
    ]
    # each funding is handed out in data-time order: after the mark of its hour, before the next
    order = [(e.ts, type(e).__name__) for e in events if isinstance(e, (MarkPrice, FundingRate))]
    assert order == sorted(order, key=lambda item: item[0])
    assert status.symbols[SYMBOL]["marks"] == len(marks) and status.gaps == 0


async def test_paper_and_collect_sessions_on_streamed_marks_and_funding(tmp_path, marks, capture):
    assert default_hub().factory is ccxt_factory  # exchange_url redirects the real client
    store = SQLiteStore(f"sqlite:///{tmp_path}/papertape.db")
    await store.open()
    service = SessionService(store)
    try:
        async with BinanceReplay(capture, speed=SPEED) as server:
            pid, cid = await start_long_and_collect(service, SYMBOL, server.base_url, QTY)

            # delivered to both, and processed by the paper engine (stopped only then: a stop
            # does not wait for the batches still queued)
            await _until(lambda: processed_through(service, pid, cid, LAST_MARK), 60)
            detail = service.runtime(pid)
            await service.stop(pid)
            await service.stop(cid)
        # the paper session: long 1,000 XRP, valued at the streamed mark, paying funding
        assert detail["valued_at"] == {SYMBOL: "mark"}
        [position] = detail["positions"]
        assert position["qty"] == QTY
        assert position["mark"] == float(marks[-1]["p"])
        payments = await store.list_funding(pid)
        assert [(p.ts, p.rate, p.qty, p.mark_price, p.price_source) for p in payments] == [
            (t, r, QTY, m, "mark") for t, r, m in HAND
        ]
        assert math.isclose(sum(p.amount for p in payments), HAND_TOTAL, abs_tol=1e-9)
        assert math.isclose(position["funding"], HAND_TOTAL, abs_tol=1e-9)
        # the collect session: the marks and funding rates as sent
        stored_marks = await store.read_marks(cid, [SYMBOL], 0, 2**62)
        assert [(m.ts, m.price) for m in stored_marks] == [
            (m["E"] * 1_000, float(m["p"])) for m in marks
        ]
        stored_funding = await store.read_funding(cid, [SYMBOL], 0, 2**62)
        assert [(f.ts, f.rate, f.mark_price) for f in stored_funding] == [
            (t, r, None) for t, r, _ in HAND
        ]
    finally:
        await service.shutdown()
        await store.close()


async def _until(predicate, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)

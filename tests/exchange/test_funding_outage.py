"""Funding due while the server was down, through the unmodified ccxt pro client: a paper session
long 1,000 XRP on the XRPUSDT perpetual streams marks and funding from a loopback Binance
(tests/support/binance_replay.py), the session service is shut down (the session suspended, as at
a restart), the exchange's clock runs on across two funding times, and a new service resumes the
session against the exchange at the same URL. The stream after the restart only announces the
*next* funding time; the two inside the outage must be fetched from the funding history
(``/fapi/v1/fundingRate``, served from the shared
``binance-futures_xrpusdt_funding-rate_8h_2021-11.csv``) and paid before the first new event.

Binance's funding history carries the mark it settled at (``markPrice``); the 2021 file has none,
so the served rows carry the open of the shared 1-hour mark candle of their hour (the same values
the mark stream sends, tests/support/binance_marks.py). Nothing leaves 127.0.0.1."""

from __future__ import annotations

import asyncio
import math

import pytest

from papertape.domain.market import MICROS
from papertape.market.importers import read_market_file
from papertape.sessions.service import SessionService
from papertape.store.sqlite import SQLiteStore
from tests.support.binance_marks import (
    FIRST_MARK,
    LAST_MARK,
    RATES,
    capture_lines,
    mark_messages,
    processed_through,
    start_long_and_collect,
    trade_messages,
)
from tests.support.binance_replay import BinanceReplay

SPEED = 20_000
QTY = 1_000.0
SYMBOL = "XRP_USDT"
PRINT_HOURS = (1637175600000, 1637179200000, 1637182800000, 1637186400000)  # 11-17 19:00 → 22:00
BEFORE_OUTAGE = 1637211600000  # 2021-11-18 05:00: the last mark the first server sees
AFTER_OUTAGE = 1637254800000  # 2021-11-18 17:00: the first mark after the restart

# (funding time µs, rate, mark that valued the position, where that mark came from), by hand from
# the two files: the funding at 00:00 is paid live before the outage, 08:00 and 16:00 fall inside
# it (made up from the history, at its settlement mark), 11-19 00:00 and 08:00 are paid live after
STREAMED_BEFORE = [(1637193600017000, 0.0001, 1.09503, "mark")]
IN_OUTAGE = [
    (1637222400007000, 0.0001, 1.10725, "settlement"),  # 2021-11-18 08:00:00.007
    (1637251200011000, 0.0001, 1.05591, "settlement"),  # 2021-11-18 16:00:00.011
]
STREAMED_AFTER = [
    (1637280000000000, 0.0001, 1.04093, "mark"),
    (1637308800000000, 0.0001, 1.04239, "mark"),
]
# a long pays rate × 1,000 × mark: 0.1 × 1.10725 + 0.1 × 1.05591 = 0.216316 USDT in the outage
OUTAGE_TOTAL = -0.216316


@pytest.fixture(scope="module")
def history():
    """The shared funding file as Binance's history serves it, with the settlement mark."""
    mark_at = {m["E"] * 1_000: float(m["p"]) for m in mark_messages()}
    hour = 3_600 * MICROS
    return [
        r._replace(mark_price=mark_at.get(r.ts - r.ts % hour))
        for r in read_market_file(RATES, symbol=SYMBOL).rows
    ]


def test_the_hand_figures(history):
    by_ts = {r.ts: r for r in history}
    for ts, rate, mark, _ in IN_OUTAGE:
        assert by_ts[ts].rate == rate and by_ts[ts].mark_price == mark
        assert BEFORE_OUTAGE * 1_000 < ts < AFTER_OUTAGE * 1_000
    assert math.isclose(-sum(r * QTY * m for _, r, m, _ in IN_OUTAGE), OUTAGE_TOTAL)


async def _run_across_an_outage(tmp_path, history, *, refuse_funding: bool):
    """A paper and a collect session, phase 1 until the 05:00 mark, shutdown, phase 2 from the
    17:00 mark to the end; returns the paper session's funding payments and ``gap`` event, and
    the funding rows the collect session recorded."""
    store = SQLiteStore(f"sqlite:///{tmp_path}/papertape.db")
    await store.open()
    first = capture_lines(mark_messages(FIRST_MARK, BEFORE_OUTAGE), trade_messages(PRINT_HOURS))
    second = capture_lines(mark_messages(AFTER_OUTAGE, LAST_MARK))
    try:
        service = SessionService(store)
        try:
            async with BinanceReplay(first, speed=SPEED, funding=history) as server:
                port = server.port
                pid, cid = await start_long_and_collect(service, SYMBOL, server.base_url, QTY)
                await _until(
                    lambda: processed_through(service, pid, cid, BEFORE_OUTAGE),
                    60,
                    lambda: (service.runtime(pid), service.runtime(cid)),
                )
                [position] = service.runtime(pid)["positions"]
                assert position["qty"] == QTY
                await service.shutdown()  # the session stays running in the store: it resumes
        finally:
            await service.shutdown()
        paid = await store.list_funding(pid)
        assert [(p.ts, p.rate, p.mark_price, p.price_source) for p in paid] == STREAMED_BEFORE
        service = SessionService(store)
        try:
            async with BinanceReplay(
                second, speed=SPEED, funding=history, port=port, refuse_funding=refuse_funding
            ):
                for sid in (pid, cid):
                    await service.resume(await store.get_session(sid))
                await _until(
                    lambda: processed_through(service, pid, cid, LAST_MARK),
                    60,
                    lambda: (service.runtime(pid), service.runtime(cid)),
                )
                for sid in (pid, cid):
                    await service.stop(sid)
        finally:
            await service.shutdown()
        [gap] = [e for e in await store.list_events(pid) if e.kind == "gap"]
        collected = await store.read_funding(cid, [SYMBOL], 0, 2**62)
        return await store.list_funding(pid), gap.data, collected
    finally:
        await store.close()


async def test_funding_due_during_an_outage_is_paid_on_resume(tmp_path, history):
    payments, gap, collected = await _run_across_an_outage(tmp_path, history, refuse_funding=False)
    assert [(p.ts, p.rate, p.qty, p.mark_price, p.price_source) for p in payments] == [
        (ts, rate, QTY, mark, source)
        for ts, rate, mark, source in STREAMED_BEFORE + IN_OUTAGE + STREAMED_AFTER
    ]
    made_up = [p for p in payments if BEFORE_OUTAGE * 1_000 < p.ts < AFTER_OUTAGE * 1_000]
    assert math.isclose(sum(p.amount for p in made_up), OUTAGE_TOTAL, abs_tol=1e-9)
    assert (gap["from_ts"], gap["to_ts"]) == (BEFORE_OUTAGE * 1_000, AFTER_OUTAGE * 1_000)
    assert gap["funding_made_up"] == {SYMBOL: [ts for ts, *_ in IN_OUTAGE]}
    assert "funding_unpaid" not in gap
    # the collect session records the made-up rates too, with the mark they settled at
    assert [(f.ts, f.rate, f.mark_price) for f in collected] == [
        (ts, rate, mark if source == "settlement" else None)
        for ts, rate, mark, source in STREAMED_BEFORE + IN_OUTAGE + STREAMED_AFTER
    ]


async def test_without_a_settlement_mark_the_last_mark_before_the_outage_values_it(tmp_path):
    """A history without ``markPrice`` (as Binance's was before 2023): the made-up funding is
    valued at the newest mark the session had, the 05:00 mark's open (1.11435)."""
    bare = read_market_file(RATES, symbol=SYMBOL).rows
    payments, _, _ = await _run_across_an_outage(tmp_path, bare, refuse_funding=False)
    made_up = [p for p in payments if BEFORE_OUTAGE * 1_000 < p.ts < AFTER_OUTAGE * 1_000]
    assert [(p.ts, p.mark_price, p.price_source) for p in made_up] == [
        (ts, 1.11435, "mark") for ts, *_ in IN_OUTAGE
    ]
    # 0.01 % × 1,000 × 1.11435, twice
    assert math.isclose(sum(p.amount for p in made_up), -0.22287, abs_tol=1e-9)


async def test_funding_the_exchange_will_not_tell_is_reported_unpaid(tmp_path, history):
    payments, gap, collected = await _run_across_an_outage(tmp_path, history, refuse_funding=True)
    assert [(p.ts, p.mark_price, p.price_source) for p in payments] == [
        (ts, mark, source) for ts, _, mark, source in STREAMED_BEFORE + STREAMED_AFTER
    ]
    unpaid = gap["funding_unpaid"][SYMBOL]
    assert (unpaid["from_ts"], unpaid["to_ts"]) == (BEFORE_OUTAGE * 1_000, AFTER_OUTAGE * 1_000)
    assert "unknown error" in unpaid["error"]
    assert "NOT paid" in gap["reason"]
    assert gap["funding_made_up"] == {}
    assert [f.ts for f in collected] == [ts for ts, *_ in STREAMED_BEFORE + STREAMED_AFTER]


async def _until(predicate, timeout: float, state=lambda: None) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {state()}"
        await asyncio.sleep(0.05)

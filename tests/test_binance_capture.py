"""The raw Binance websocket captures (hftbacktest's, in ../shared/data/market): the book rebuilt
the way Binance documents, checked against the capture's own book tickers and against an
independent rebuild written out here; a 5 BTC market buy fills at the VWAP of that book."""

from __future__ import annotations

import gzip
import json

import pytest

from papertape.domain.market import BookSnapshot, Trade
from papertape.domain.portfolio import SWAP
from papertape.engine.core import Engine, EngineConfig
from papertape.market.binance_capture import read_capture, rebuild
from papertape.market.dataset_import import import_dataset
from papertape.market.importers import read_market_file
from papertape.store import open_store
from tests.support.data import MARKET_DATA

FUTURES = MARKET_DATA / "binance-futures_btcusdt_l2-stream_2024-08-08.txt.gz"
SPOT = MARKET_DATA / "binance_btcusdt_l2-stream_2024-08-08.txt.gz"

# Three book tickers of the futures capture whose update id ends a depth update (the depth update
# is the next line): (ticker line, u, best bid, best ask, the depth update's T in ms)
MOMENTS = [
    (18268, 5123114103402, 61804.00, 61804.10, 1723161327471),
    (41798, 5123121767501, 61694.00, 61694.10, 1723161441918),
    (78100, 5123129983553, 61692.30, 61692.40, 1723161537674),
]


@pytest.fixture(scope="module")
def futures_lines() -> list[str]:
    return gzip.decompress(FUTURES.read_bytes()).decode().splitlines()


@pytest.fixture(scope="module")
def futures(futures_lines):
    return rebuild(futures_lines, FUTURES.name)


def _message(line: str) -> dict:
    message = json.loads(line.split(" ", 1)[1])
    return message.get("data", message)


def test_futures_capture_counts_chain_and_tickers(futures):
    report = futures.report
    assert futures.symbol == "BTC_USDT" and report.futures
    assert (report.trades, report.depth_updates, report.book_tickers) == (21_313, 6_551, 66_089)
    # 4 updates precede the snapshot's id; every other one continues the pu chain
    assert (report.dropped_before_snapshot, report.applied, report.book_gaps) == (4, 6_547, [])
    assert report.trade_id_gaps == []
    # every book ticker whose update id ends a depth update agrees with the rebuilt top
    assert report.tickers_checked == report.tickers_matching == 629
    timestamps = [e.ts for e in futures.events]
    assert timestamps == sorted(timestamps)
    assert sum(isinstance(e, Trade) for e in futures.events) == 21_313


def test_spot_capture_follows_the_spot_rules():
    spot = read_capture(SPOT)
    report = spot.report
    assert not report.futures and report.book_gaps == [] and report.trade_id_gaps == []
    assert (report.trades, report.depth_updates) == (9_757, 3_451)
    assert (report.dropped_before_snapshot, report.applied) == (2, 3_449)
    assert report.tickers_checked == report.tickers_matching == 564


def test_book_top_at_three_moments_equals_the_file(futures, futures_lines):
    books = {e.ts: e for e in futures.events if isinstance(e, BookSnapshot)}
    for line, update_id, bid, ask, t_ms in MOMENTS:
        ticker, depth = _message(futures_lines[line - 1]), _message(futures_lines[line])
        assert (ticker["u"], float(ticker["b"]), float(ticker["a"])) == (update_id, bid, ask)
        assert (depth["u"], depth["T"]) == (update_id, t_ms)
        book = books[t_ms * 1_000]
        assert (book.bids[0][0], book.asks[0][0]) == (bid, ask)
        assert book.bids[0][1] == float(ticker["B"]) and book.asks[0][1] == float(ticker["A"])


def test_a_chain_break_is_reported_and_stops_the_book(futures_lines):
    depth_lines = [i for i, line in enumerate(futures_lines) if "@depth" in line]
    broken = futures_lines[: depth_lines[100]] + futures_lines[depth_lines[100] + 1 :]
    capture = rebuild(broken, "broken")
    assert len(capture.report.book_gaps) == 1
    expected_link, found = capture.report.book_gaps[0]
    assert expected_link != found
    assert capture.report.applied < 100  # nothing applied after the break
    assert capture.report.trades == 21_313  # trades go on


def _independent_asks(lines: list[str], applied: int) -> dict[float, float]:
    """The asks after the ``applied``-th applied depth update (from 0), rebuilt here from the raw
    lines: the snapshot, then every update with ``u`` ≥ its ``lastUpdateId`` in file order (no
    chain checks)."""
    updates, snapshot = [], None
    for line in lines:
        message = json.loads(line.split(" ", 1)[1])
        if "lastUpdateId" in message:
            snapshot = message
        elif "@depth" in message["stream"]:
            updates.append(message["data"])
    asks = {float(p): float(q) for p, q in snapshot["asks"]}
    kept = [u for u in updates if u["u"] >= snapshot["lastUpdateId"]]
    for update in kept[: applied + 1]:
        for p, q in update["a"]:
            if float(q) == 0:
                asks.pop(float(p), None)
            else:
                asks[float(p)] = float(q)
    return asks


def test_market_buy_of_5_btc_fills_at_the_vwap_of_the_rebuilt_book(futures, futures_lines):
    events = futures.events
    snapshots = [i for i, e in enumerate(events) if isinstance(e, BookSnapshot)]
    # the moment: just after the second MOMENTS update, when the next event is a book update
    start = next(i for i in snapshots if events[i].ts == MOMENTS[1][4] * 1_000)
    fill_at = next(i for i in snapshots if i > start and not isinstance(events[i - 1], Trade))
    engine = Engine(
        EngineConfig("s", ("BTC_USDT",), cash=1_000_000.0, market_type=SWAP, taker=0.0, maker=0.0)
    )
    engine.process(events[:fill_at])
    order = engine.place_manual_order("BTC_USDT", "buy", "market", 5.0)
    engine.process(events[fill_at : fill_at + 1])
    asks = _independent_asks(futures_lines, snapshots.index(fill_at))
    remaining, cost = 5.0, 0.0
    for price in sorted(asks):
        take = min(remaining, asks[price])
        cost += take * price
        remaining -= take
        if remaining <= 1e-12:
            break
    assert order.status == "filled" and order.filled_qty == pytest.approx(5.0)
    assert order.notional / order.filled_qty == pytest.approx(cost / 5.0, rel=1e-12)
    assert (
        len([f for f in engine.record.fills if f.order_id == order.order_id]) > 1
    )  # walked levels


async def test_imported_as_a_dataset_with_trades_and_book(tmp_path):
    market = read_market_file(SPOT)
    assert market.kind == "capture" and market.report.applied == 3_449
    store = await open_store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        dataset = await import_dataset(store, SPOT, "spot_capture")
        assert dataset.kind == "capture" and dataset.rows == 9_757 + 3_449
        summary = await store.market_summary("spot_capture")
        assert summary["trades"]["rows"] == 9_757 and summary["book"]["rows"] == 3_449
    finally:
        await store.close()

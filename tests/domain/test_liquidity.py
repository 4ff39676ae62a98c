"""No two fills from the same liquidity: orders racing for one book level, across snapshots that
still show what a paper fill took, and resting orders sharing one trade print."""

from __future__ import annotations

import pytest

from papertape.domain.liquidity import ASK, LiquidityLedger
from papertape.domain.market import BookSnapshot, Trade
from papertape.domain.portfolio import SWAP
from papertape.engine.core import Engine, EngineConfig

SYMBOL = "BTC_USDT"
BIDS = ((99.0, 10.0),)


def _engine() -> Engine:
    config = EngineConfig("s", (SYMBOL,), cash=1e6, market_type=SWAP, taker=0.0, maker=0.0)
    return Engine(config)


def _book(ts: int, asks: tuple[tuple[float, float], ...]) -> BookSnapshot:
    return BookSnapshot(ts, SYMBOL, BIDS, asks)


def _fills(engine: Engine, order_id: str) -> list[tuple[float, float]]:
    return [(f.price, f.qty) for f in engine.record.fills if f.order_id == order_id]


def test_two_orders_racing_for_one_level_on_one_snapshot():
    engine = _engine()
    engine.process([_book(1, ((100.0, 4.0), (101.0, 10.0)))])
    first = engine.place_manual_order(SYMBOL, "buy", "market", 3.0)
    second = engine.place_manual_order(SYMBOL, "buy", "market", 3.0)
    engine.process([_book(2, ((100.0, 4.0), (101.0, 10.0)))])
    assert _fills(engine, first.order_id) == [(100.0, 3.0)]
    assert _fills(engine, second.order_id) == [(100.0, 1.0), (101.0, 2.0)]


def test_what_a_fill_took_stays_taken_until_the_exchange_updates_the_level():
    engine = _engine()
    level = ((100.0, 4.0), (101.0, 10.0))
    engine.process([_book(1, level)])
    first = engine.place_manual_order(SYMBOL, "buy", "market", 3.0)
    engine.process([_book(2, level)])
    second = engine.place_manual_order(SYMBOL, "buy", "market", 3.0)
    engine.process([_book(3, level)])  # the same level: the exchange has not updated it
    assert _fills(engine, first.order_id) == [(100.0, 3.0)]
    assert _fills(engine, second.order_id) == [(100.0, 1.0), (101.0, 2.0)]
    third = engine.place_manual_order(SYMBOL, "buy", "market", 3.0)
    engine.process([_book(4, ((100.0, 6.0), (101.0, 10.0)))])  # updated: 6 there now
    assert _fills(engine, third.order_id) == [(100.0, 3.0)]


def test_resting_orders_share_one_print():
    engine = _engine()
    engine.process([Trade(1, SYMBOL, 100.0, 1.0, "buy")])
    a = engine.place_manual_order(SYMBOL, "buy", "limit", 2.0, price=99.0)
    b = engine.place_manual_order(SYMBOL, "buy", "limit", 2.0, price=99.0)
    engine.process([Trade(2, SYMBOL, 100.0, 1.0, "buy")])  # not marketable: both rest
    engine.process([Trade(3, SYMBOL, 98.5, 1.5, "sell")])  # through them: 1.5 to share
    assert _fills(engine, a.order_id) == [(99.0, 1.5)]
    assert _fills(engine, b.order_id) == []
    engine.process([Trade(4, SYMBOL, 98.5, 1.0, "sell")])  # the next print: the rest of a, then b
    assert _fills(engine, a.order_id) == [(99.0, 1.5), (99.0, 0.5)]
    assert _fills(engine, b.order_id) == [(99.0, 0.5)]


def test_ledger_forgets_a_level_the_book_changed():
    ledger = LiquidityLedger()
    ledger.take(SYMBOL, ASK, 100.0, 4.0, 3.0)
    ledger.take(SYMBOL, ASK, 100.0, 4.0, 0.5)
    assert ledger.levels(SYMBOL, ASK, ((100.0, 4.0),)) == [[100.0, pytest.approx(0.5), 4.0]]
    assert ledger.levels(SYMBOL, ASK, ((100.0, 5.0),)) == [[100.0, 5.0, 5.0]]
    assert len(ledger) == 0

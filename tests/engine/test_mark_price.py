"""Mark prices: once the data has them, a perpetual's position is valued, funded and liquidated
at the mark, not at the last trade. Worked by hand on the shared XRP/USDT perpetual's 1-hour
trade and mark candles (one venue), and on a few hand-made ticks for liquidation."""

from __future__ import annotations

import heapq
import math

import pytest

from papertape.domain.funding import FundingRate, merge_funding
from papertape.domain.market import MarkPrice, Trade
from papertape.domain.portfolio import SWAP
from papertape.engine.core import Engine, EngineConfig
from papertape.market.importers import read_market_file
from tests.support.data import MARKET_DATA

SYMBOL = "XRP_USDT"
HOUR = 3_600_000_000
QTY = 1_000.0


def _engine(cash: float = 10_000.0, leverage: float = 1.0) -> Engine:
    return Engine(
        EngineConfig(
            session_id="s",
            symbols=(SYMBOL,),
            cash=cash,
            market_type=SWAP,
            leverage=leverage,
            taker=0.0,
            maker=0.0,
        )
    )


@pytest.fixture(scope="module")
def xrp_1h():
    """Trade candles up to the last hour the mark candles cover, the marks within them (each
    mark candle as open, low/high, close), and the funding times inside."""
    marks = read_market_file(
        MARKET_DATA / "xrp-usdt-perp_mark_1h_2021-11.csv", symbol="XRP_USDT", kind="mark"
    ).rows
    candles = [
        c
        for c in read_market_file(MARKET_DATA / "xrp-usdt-perp_1h_2021-11.csv", symbol=SYMBOL).rows
        if c.ts <= marks[-1].ts
    ]
    marks = [m for m in marks if candles[0].ts <= m.ts < candles[-1].ts + HOUR]
    rates = read_market_file(
        MARKET_DATA / "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv", symbol=SYMBOL
    ).rows
    prices = list(heapq.merge(candles, marks, key=lambda e: e.ts))
    return merge_funding(prices, rates)


def test_position_valued_and_funded_at_the_mark(xrp_1h):
    engine = _engine()
    assert isinstance(xrp_1h[1], MarkPrice) and xrp_1h[1].ts == xrp_1h[0].ts
    engine.process(xrp_1h[:2])  # the first trade candle and the mark at its open
    assert engine.mark_sources() == {SYMBOL: "mark"}
    engine.place_manual_order(SYMBOL, "buy", "market", QTY)
    engine.process(xrp_1h[2:])
    position = engine.portfolio.position(SYMBOL)
    assert position.avg_price == 1.07896  # filled at the second trade candle's open
    # valued at the last mark (the 09:00 mark candle's close), not the last trade (1.05844)
    assert position.mark == 1.06051
    assert engine.portfolio.unrealized_pnl() == pytest.approx(QTY * (1.06051 - 1.07896))
    payments = engine.drain().funding
    # the five funding times the mark candles cover, each at that hour's mark open
    assert [(p.mark_price, p.price_source) for p in payments] == [
        (1.09503, "mark"),  # 2021-11-18 00:00
        (1.10725, "mark"),  # 08:00
        (1.05591, "mark"),  # 16:00
        (1.04093, "mark"),  # 2021-11-19 00:00
        (1.04239, "mark"),  # 08:00
    ]
    expected = -0.0001 * QTY * (1.09503 + 1.10725 + 1.05591 + 1.04093 + 1.04239)
    assert math.fsum(p.amount for p in payments) == pytest.approx(expected, rel=1e-12)


def test_without_marks_the_last_trade_values_the_position():
    engine = _engine()
    engine.process([Trade(1, SYMBOL, 100.0, 1.0, "buy")])
    engine.place_manual_order(SYMBOL, "buy", "market", 10)
    engine.process([Trade(2, SYMBOL, 100.0, 1.0, "buy"), Trade(3, SYMBOL, 90.0, 1.0, "sell")])
    assert engine.mark_sources() == {SYMBOL: "last"}
    assert engine.portfolio.unrealized_pnl() == pytest.approx(-100.0)


def test_a_stale_mark_hands_back_to_the_last_trade():
    engine = _engine()
    engine.process([Trade(1, SYMBOL, 100.0, 1.0, "buy"), MarkPrice(1, SYMBOL, 101.0)])
    engine.place_manual_order(SYMBOL, "buy", "market", 10)
    engine.process([Trade(2, SYMBOL, 100.0, 1.0, "buy"), Trade(3, SYMBOL, 95.0, 1.0, "buy")])
    assert engine.mark_sources() == {SYMBOL: "mark"}
    assert engine.portfolio.unrealized_pnl() == pytest.approx(10.0)  # at the mark, 101
    later = 3 + engine.config.mark_stale_us + 1
    engine.process([Trade(later, SYMBOL, 95.0, 1.0, "sell")])
    assert engine.mark_sources() == {SYMBOL: "last"}
    assert engine.portfolio.unrealized_pnl() == pytest.approx(-50.0)


def _long_9_at_1000() -> Engine:
    """Long 9 at 1,000 with 1,000 cash at 10×: liquidated when 1,000 + 9 (P − 1,000) =
    0.004 × 9 P (Binance's first tier, notional < 50,000), at P = 8,000 / 8.964 = 892.46; its
    bankruptcy price is where 1,000 + 9 (P − 1,000) = 0: P = 8,000 / 9 = 888.89."""
    engine = _engine(cash=1_000.0, leverage=10)
    engine.process([Trade(1, SYMBOL, 1_000.0, 1.0, "buy"), MarkPrice(1, SYMBOL, 1_000.0)])
    engine.place_manual_order(SYMBOL, "buy", "market", 9)
    engine.process([Trade(2, SYMBOL, 1_000.0, 1.0, "buy")])
    assert engine.portfolio.liquidation_price(SYMBOL) == pytest.approx(8_000 / 8.964)
    return engine


def test_a_trade_through_the_liquidation_price_does_not_liquidate_above_the_mark():
    engine = _long_9_at_1000()
    engine.process([Trade(3, SYMBOL, 880.0, 0.1, "sell"), MarkPrice(4, SYMBOL, 950.0)])
    assert engine.halted is None
    assert engine.portfolio.unrealized_pnl() == pytest.approx(9 * (950 - 1_000))


def test_the_mark_crossing_the_liquidation_price_liquidates():
    engine = _long_9_at_1000()
    engine.process([Trade(3, SYMBOL, 950.0, 0.1, "sell"), MarkPrice(4, SYMBOL, 890.0)])
    assert engine.halted == "liquidation"
    liquidation = [d for kind, d in engine.record.events if kind == "risk"][0]
    assert liquidation["action"] == "liquidation"
    # closed at the bankruptcy price, paying the liquidation fee (1.25 % of 9 × 888.89 = 100)
    assert (
        liquidation["price"] == pytest.approx(8_000 / 9) and liquidation["close_at"] == "bankruptcy"
    )
    assert engine.record.fills[-1].price == pytest.approx(8_000 / 9)
    assert engine.record.fills[-1].fee == pytest.approx(100.0)
    assert not engine.portfolio.open_positions()
    assert engine.portfolio.equity() == pytest.approx(-100.0)


def test_funding_after_the_data_stopped_is_valued_at_the_last_mark():
    """A funding time long after the last data (a resumed live feed making up the funding of a
    server outage): the mark is stale by the clock, but nothing has replaced it, so it values the
    position; a mark that trades since made stale does not."""
    engine = _engine()
    engine.process([Trade(1, SYMBOL, 100.0, 1.0, "buy"), MarkPrice(1, SYMBOL, 101.0)])
    engine.place_manual_order(SYMBOL, "buy", "market", 10)
    engine.process([Trade(2, SYMBOL, 99.0, 1.0, "buy"), MarkPrice(3, SYMBOL, 102.0)])
    outage = 3 + 3 * engine.config.mark_stale_us
    engine.process([FundingRate(outage, SYMBOL, 0.001)])
    later = outage + engine.config.mark_stale_us + 1
    engine.process([Trade(later, SYMBOL, 97.0, 1.0, "sell"), FundingRate(later + 1, SYMBOL, 0.001)])
    payments = engine.drain().funding
    assert [(p.mark_price, p.price_source, p.amount) for p in payments] == [
        (102.0, "mark", pytest.approx(-0.001 * 10 * 102.0)),
        (97.0, "last", pytest.approx(-0.001 * 10 * 97.0)),
    ]

"""A leveraged long on real data is liquidated where the exchange's rules say: the shared BTC
perpetual's 1-minute candles of January 2022 (FTX BTC-PERP, see SOURCES.md), Binance's BTCUSDT
maintenance-margin brackets, the position closed at its bankruptcy price with the 1.25 % fee."""

from __future__ import annotations

import pytest

from papertape.domain.market import iso
from papertape.domain.portfolio import SWAP
from papertape.engine.core import Engine, EngineConfig
from papertape.market.importers import read_market_file
from tests.support.data import MARKET_DATA

SYMBOL = "BTC_USDT"

# Cash 10,000, leverage 20; buy 4 on the first candle, filled at the second's open, 46,377
# (2021-12-31 23:02): notional 185,508, Binance's second bracket (50,000–600,000: 0.5 %, cum 50).
# Liquidation price: 10,000 + 4 (P − 46,377) = 4 P × 0.005 − 50
#   P = (10,000 + 50 − 185,508) / (4 × 0.005 − 4) = 175,458 / 3.98 = 44,084.92 (notional 176,340)
# Bankruptcy price: 10,000 + 4 (P − 46,377) = 0  →  P = 46,377 − 2,500 = 43,877
# Fee: 4 × 43,877 × 1.25 % = 2,193.85; the wallet ends at 10,000 + 4 × (43,877 − 46,377) − 2,193.85
# The first candle whose low reaches 44,084.92 is 2022-01-05 20:06 (low 44,029).
LIQUIDATION_PRICE = 175_458 / 3.98
BANKRUPTCY_PRICE = 43_877.0
FEE = 4 * 43_877 * 0.0125


@pytest.fixture(scope="module")
def candles():
    rows = read_market_file(MARKET_DATA / "btc-perp_1m_2022-01.csv.gz", symbol=SYMBOL).rows
    return rows[:8_000]  # up to 2022-01-06 12:20


def _run(candles, close_at: str = "bankruptcy") -> Engine:
    engine = Engine(
        EngineConfig(
            session_id="s",
            symbols=(SYMBOL,),
            cash=10_000.0,
            market_type=SWAP,
            leverage=20,
            taker=0.0,
            maker=0.0,
            liquidation_close=close_at,
        )
    )
    engine.process(candles[:1])
    engine.place_manual_order(SYMBOL, "buy", "market", 4)
    engine.process(candles[1:])
    return engine


def test_a_20x_long_is_liquidated_at_its_bankruptcy_price(candles):
    engine = _run(candles)
    entry, closed = engine.record.fills[0], engine.record.fills[-1]
    assert (entry.price, entry.qty) == (46_377.0, 4)
    assert engine.halted == "liquidation"
    event = next(d for k, d in engine.record.events if k == "risk")
    assert event["action"] == "liquidation" and event["close_at"] == "bankruptcy"
    assert iso(closed.ts).startswith("2022-01-05T20:06")
    assert closed.price == pytest.approx(BANKRUPTCY_PRICE) and closed.side == "sell"
    assert closed.fee == pytest.approx(FEE)
    assert engine.portfolio.equity() == pytest.approx(-FEE)
    # the event says where the position was closed
    assert event["price"] == pytest.approx(BANKRUPTCY_PRICE)
    assert engine.liquidation_rules() == {
        "close_at": "bankruptcy",
        "fee_rate": 0.0125,
        "tiers": {SYMBOL: "binance_btcusdt"},
    }


def test_closed_at_the_liquidation_price_instead(candles):
    """Same run, ``liquidation_close='liquidation'``: the close is at 44,084.92, and the wallet
    keeps the maintenance margin, 4 × 44,084.92 × 0.5 % − 50 = 831.70, less the fee."""
    engine = _run(candles, "liquidation")
    closed = engine.record.fills[-1]
    assert closed.price == pytest.approx(LIQUIDATION_PRICE)
    fee = 4 * LIQUIDATION_PRICE * 0.0125
    assert engine.portfolio.equity() == pytest.approx(4 * LIQUIDATION_PRICE * 0.005 - 50 - fee)

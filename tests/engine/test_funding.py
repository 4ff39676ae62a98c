"""Funding of perpetual positions: a total worked by hand on the shared XRP/USDT data (Binance
USD-M funding rates and 5-minute candles), the accounting identities with funding in them
(hypothesis), and a resumed session rebuilding its funding from the tape."""

from __future__ import annotations

import json
import math

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from papertape.cli.backtest import backtest as backtest_command
from papertape.domain.funding import (
    FundingRate,
    funding_amount,
    merge_funding,
    settlement_price,
)
from papertape.domain.portfolio import SPOT, SWAP, Portfolio
from papertape.domain.records import Fill
from papertape.engine.core import Engine, EngineConfig
from papertape.engine.snapshot import fold, freeze, thaw
from papertape.market.importers import read_market_file
from tests.support.data import MARKET_DATA

SYMBOL = "XRP_USDT"
FUNDING_FILE = MARKET_DATA / "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv"
CANDLES_5M = MARKET_DATA / "binance-futures_xrpusdt_5m_2021-11.csv"
QTY = 1_000.0

# Every funding time the 5-minute candles cover (2021-11-15 00:00 → 2021-11-21 22:30), read off
# the two files by eye: (funding time µs, rate, open of the 5-minute bar containing that time)
HAND = [
    (1637193600017000, 0.0001, 1.0959),  # 2021-11-18 00:00:00.017
    (1637222400007000, 0.0001, 1.1075),  # 2021-11-18 08:00:00.007
    (1637251200011000, 0.0001, 1.0564),  # 2021-11-18 16:00:00.011
    (1637280000000000, 0.0001, 1.0411),  # 2021-11-19 00:00:00
    (1637308800000000, 0.0001, 1.042),  # 2021-11-19 08:00:00
    (1637337600005000, 0.0001, 1.0891),  # 2021-11-19 16:00:00.005
    (1637366400012000, 0.00013046, 1.0903),  # 2021-11-20 00:00:00.012
    (1637395200000000, 0.0001, 1.0857),  # 2021-11-20 08:00:00
    (1637424000007000, 0.0001, 1.0656),  # 2021-11-20 16:00:00.007
    (1637452800000000, 0.00013862, 1.0975),  # 2021-11-21 00:00:00
    (1637481600006000, 0.0001, 1.0804),  # 2021-11-21 08:00:00.006
    (1637510400000000, 0.00019881, 1.0787),  # 2021-11-21 16:00:00
]
# a long of 1,000 XRP pays rate × 1,000 × price at each of them. By hand: nine times 0.01 % of
# (1.0959 + 1.1075 + 1.0564 + 1.0411 + 1.042 + 1.0891 + 1.0857 + 1.0656 + 1.0804) × 1,000 =
# 0.96637, plus 0.13046 × 1.0903 + 0.13862 × 1.0975 + 0.19881 × 1.0787 = 0.508832335:
# 1.475202335 USDT paid
HAND_TOTAL = -sum(rate * QTY * price for _, rate, price in HAND)


@pytest.fixture(scope="module")
def xrp_events():
    funding = read_market_file(FUNDING_FILE, symbol="XRP/USDT:USDT").rows
    candles = read_market_file(CANDLES_5M, symbol="XRP/USDT:USDT").rows
    return merge_funding(candles, funding)


def _engine(market_type: str = SWAP) -> Engine:
    return Engine(
        EngineConfig(
            session_id="s",
            symbols=(SYMBOL,),
            cash=10_000.0,
            market_type=market_type,
            taker=0.0,
            maker=0.0,
        )
    )


def _hold_long(events, market_type: str = SWAP) -> Engine:
    """Buy 1,000 XRP on the first bar (it fills at the second bar's open) and hold."""
    engine = _engine(market_type)
    engine.start()
    engine.process(events[:1])
    engine.place_manual_order(SYMBOL, "buy", "market", QTY)
    engine.process(events[1:])
    engine.stop()
    return engine


def test_funding_total_by_hand_on_the_shared_xrp_data(xrp_events):
    engine = _hold_long(xrp_events)
    payments = engine.record.funding
    assert [(p.ts, p.rate) for p in payments] == [(ts, rate) for ts, rate, _ in HAND]
    assert [p.mark_price for p in payments] == [price for *_, price in HAND]
    assert {p.price_source for p in payments} == {"last"}  # no mark data: the bar's open
    assert all(p.qty == QTY for p in payments)
    assert math.fsum(p.amount for p in payments) == pytest.approx(HAND_TOTAL, rel=1e-12)
    assert math.isclose(HAND_TOTAL, -1.475202335, abs_tol=1e-12)
    metrics = engine.metrics()
    assert metrics["funding"] == pytest.approx(HAND_TOTAL, rel=1e-12)
    # the cash flows into equity: equity = cash + unrealized, cash = 10,000 + funding (no fees)
    assert engine.portfolio.cash == pytest.approx(10_000 + HAND_TOTAL, rel=1e-12)
    kinds = [kind for kind, _ in engine.record.events]
    assert kinds.count("funding") == len(HAND)


def test_a_short_receives_what_a_long_pays(xrp_events):
    engine = _engine()
    engine.start()
    engine.process(xrp_events[:1])
    engine.place_manual_order(SYMBOL, "sell", "market", QTY)
    engine.process(xrp_events[1:])
    assert engine.portfolio.funding == pytest.approx(-HAND_TOTAL, rel=1e-12)


def test_spot_and_flat_pay_no_funding(xrp_events):
    assert _hold_long(xrp_events, SPOT).record.funding == []
    flat = _engine()
    flat.process(xrp_events)
    assert flat.record.funding == [] and flat.portfolio.funding == 0


def test_funding_counts_in_the_round_trip(xrp_events):
    engine = _hold_long(xrp_events)
    engine.place_manual_order(SYMBOL, "sell", "market", QTY)
    engine.process(
        [c._replace(ts=c.ts + 300_000_000) for c in xrp_events[-1:]]
    )  # one more bar: the close fills at its open
    (trip,) = engine.portfolio.trips
    assert trip.funding == pytest.approx(HAND_TOTAL, rel=1e-12)
    assert trip.pnl == pytest.approx(
        (trip.exit_price - trip.entry_price) * QTY + HAND_TOTAL, rel=1e-9
    )


def test_the_fold_of_fills_and_payments_rebuilds_cash_and_trip_funding(xrp_events):
    """What a resume checks the saved portfolio against (``papertape.engine.snapshot``)."""
    engine = _hold_long(xrp_events)
    record = engine.drain()
    folded = fold(engine.portfolio.initial_cash, engine.portfolio, record.fills, "", record.funding)
    assert folded.cash == pytest.approx(engine.portfolio.cash, rel=1e-12)
    assert folded.funding == pytest.approx(HAND_TOTAL, rel=1e-12)
    assert folded.position(SYMBOL).trip_funding == pytest.approx(HAND_TOTAL)
    thaw(freeze(engine), record.fills, record.orders, [], "s", record.funding)  # accepted


def test_settlement_price_prefers_the_exchange_mark():
    event = FundingRate(1, SYMBOL, 0.0001, mark_price=1.5)
    assert settlement_price(event, 1.4, 1.3) == (1.5, "settlement")
    assert settlement_price(event._replace(mark_price=None), 1.4, 1.3) == (1.4, "mark")
    assert settlement_price(event._replace(mark_price=None), None, 1.3) == (1.3, "last")
    assert settlement_price(event._replace(mark_price=None), None, None) is None
    assert funding_amount(-2.0, 100.0, -0.001) == pytest.approx(-0.2)  # short pays a negative rate


funding_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("fill"),
            st.sampled_from(("buy", "sell")),
            st.floats(0.001, 5),
            st.floats(10, 1000),
        ),
        st.tuples(st.just("funding"), st.floats(-0.003, 0.003), st.floats(10, 1000)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(steps=funding_steps, mark=st.floats(10, 1000))
def test_identities_with_funding(steps, mark):
    """equity = initial + realized + unrealized − fees + funding; cash = initial + realized −
    fees + funding; the trips' PnL carries the funding paid while they were open."""
    portfolio = Portfolio(1_000_000.0, SWAP, 5)
    paid = []
    for i, step in enumerate(steps):
        if step[0] == "fill":
            _, side, qty, price = step
            fee = qty * price * 0.0005
            portfolio.apply_fill(
                Fill("s", f"f{i}", f"o{i}", i, SYMBOL, side, qty, price, fee, "taker")
            )
            continue
        _, rate, price = step
        held = portfolio.qty(SYMBOL)
        amount = portfolio.apply_funding(SYMBOL, rate, price)
        if held and abs(held) > 1e-9:
            assert amount == pytest.approx(-rate * held * price)
            paid.append(amount)
        else:
            assert amount is None
    portfolio.mark(SYMBOL, mark)
    tol = 1e-6 * max(1.0, portfolio.fill_count * 5_000)
    assert portfolio.funding == pytest.approx(math.fsum(paid), abs=tol)
    assert portfolio.cash == pytest.approx(
        1_000_000 + portfolio.realized_pnl - portfolio.fees + portfolio.funding, abs=tol
    )
    assert portfolio.equity() == pytest.approx(
        1_000_000
        + portfolio.realized_pnl
        + portfolio.unrealized_pnl()
        - portfolio.fees
        + portfolio.funding,
        abs=tol,
    )
    open_trip = portfolio.position(SYMBOL).trip_funding if portfolio.open_positions() else 0.0
    assert math.fsum(t.funding for t in portfolio.trips) + open_trip == pytest.approx(
        portfolio.funding, abs=tol
    )


def test_cli_backtest_settles_funding_on_the_strategys_positions(tmp_path):
    """sma_cross on the XRP perpetual's 5-minute candles with the funding file: the ``funding``
    metric equals the funding re-derived from the reported trades (quantity held across each
    funding time × rate × the open of the bar at that time)."""
    out = CliRunner().invoke(
        _backtest_cli(),
        [
            *("--data", str(CANDLES_5M), "--symbol", "XRP_USDT", "--strategy", "sma_cross"),
            *("--param", "fast=24", "--param", "slow=96", "--fee", "0.0004"),
            *("--market-type", "swap", "--funding", str(FUNDING_FILE), "--json"),
            *("--store", f"sqlite:///{tmp_path}/x.db"),
        ],
    )
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    metrics, trades = body["metrics"], body["trades"]
    assert metrics["open_positions"] == 0
    expected = 0.0
    for ts, rate, price in HAND:
        for trade in trades:
            if trade["entry_ts"] <= ts < trade["exit_ts"]:
                sign = 1 if trade["direction"] == "long" else -1
                expected -= rate * sign * trade["qty"] * price
    held = [t for t in trades if any(t["entry_ts"] <= ts < t["exit_ts"] for ts, _, _ in HAND)]
    assert held, "the test needs trades open across funding times"
    assert metrics["funding"] == pytest.approx(expected, rel=1e-9)
    assert sum(t["funding"] for t in trades) == pytest.approx(expected, rel=1e-9)
    assert metrics["final_equity"] == pytest.approx(
        10_000 + sum(t["pnl"] for t in trades), rel=1e-9
    )
    spot = CliRunner().invoke(
        _backtest_cli(),
        [
            *("--data", str(CANDLES_5M), "--symbol", "XRP_USDT", "--strategy", "sma_cross"),
            *("--funding", str(FUNDING_FILE), "--store", f"sqlite:///{tmp_path}/x.db"),
        ],
    )
    assert spot.exit_code == 2 and "--market-type swap" in spot.output


def _backtest_cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(backtest_command)
    return app

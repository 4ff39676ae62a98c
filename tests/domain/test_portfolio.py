"""Portfolio accounting: the identities hold after any sequence of fills (hypothesis), and a few
cases worked by hand (spot, a perpetual short, a flip, liquidation price)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.domain.portfolio import SPOT, SWAP, Portfolio
from papertape.domain.records import Fill

SYMBOLS = ("BTC_USDT", "ETH_USDT")

fill_steps = st.lists(
    st.tuples(
        st.sampled_from(SYMBOLS),
        st.sampled_from(("buy", "sell")),
        st.floats(0.001, 5, allow_nan=False),  # qty
        st.floats(10, 1000, allow_nan=False),  # price
        st.sampled_from((0.0, 0.0002, 0.001)),  # fee rate
    ),
    min_size=1,
    max_size=40,
)


def _play(market_type: str, steps) -> tuple[Portfolio, list[Fill]]:
    portfolio = Portfolio(1_000_000.0, market_type, 1 if market_type == SPOT else 5)
    fills = []
    for i, (symbol, side, qty, price, rate) in enumerate(steps):
        if market_type == SPOT and side == "sell":
            qty = min(qty, portfolio.qty(symbol))
            if qty <= 1e-9:
                continue
        fill = Fill("s", f"f{i}", f"o{i}", i, symbol, side, qty, price, qty * price * rate, "taker")
        portfolio.apply_fill(fill)
        fills.append(fill)
    return portfolio, fills


def _check_identities(portfolio: Portfolio, fills: list[Fill], marks: dict[str, float]) -> None:
    for symbol, mark in marks.items():
        portfolio.mark(symbol, mark)
    initial = portfolio.initial_cash
    fees = math.fsum(f.fee for f in fills)
    tol = 1e-6 * max(1.0, sum(f.qty * f.price for f in fills))
    # positions are the signed sum of the fills
    for symbol in SYMBOLS:
        held = math.fsum(
            (1 if f.side == "buy" else -1) * f.qty for f in fills if f.symbol == symbol
        )
        assert portfolio.qty(symbol) == pytest.approx(held, abs=1e-9)
    assert portfolio.fees == pytest.approx(fees, abs=tol)
    # equity = initial + realized + unrealized - fees
    assert portfolio.equity() == pytest.approx(
        initial + portfolio.realized_pnl + portfolio.unrealized_pnl() - portfolio.fees, abs=tol
    )
    # total PnL from cash flows alone, independent of average-cost bookkeeping
    flows = -math.fsum((1 if f.side == "buy" else -1) * f.qty * f.price for f in fills)
    held_value = math.fsum(portfolio.qty(s) * marks[s] for s in SYMBOLS)
    assert portfolio.realized_pnl + portfolio.unrealized_pnl() == pytest.approx(
        flows + held_value, abs=tol
    )
    if portfolio.market_type == SPOT:
        assert portfolio.cash == pytest.approx(initial + flows - fees, abs=tol)
    else:
        assert portfolio.cash == pytest.approx(initial + portfolio.realized_pnl - fees, abs=tol)
    if not portfolio.open_positions():  # everything closed: trips account for all of it
        assert math.fsum(t.pnl for t in portfolio.trips) == pytest.approx(
            portfolio.realized_pnl - portfolio.fees, abs=tol
        )


@settings(max_examples=200, deadline=None)
@given(steps=fill_steps, mark=st.floats(10, 1000))
def test_spot_identities(steps, mark):
    portfolio, fills = _play(SPOT, steps)
    _check_identities(portfolio, fills, {s: mark for s in SYMBOLS})
    assert all(p.qty >= -1e-9 for p in portfolio.positions.values())


@settings(max_examples=200, deadline=None)
@given(steps=fill_steps, mark=st.floats(10, 1000))
def test_swap_identities(steps, mark):
    portfolio, fills = _play(SWAP, steps)
    _check_identities(portfolio, fills, {s: mark for s in SYMBOLS})


@settings(max_examples=100, deadline=None)
@given(steps=fill_steps)
def test_closing_everything_leaves_only_realized(steps):
    portfolio, fills = _play(SWAP, steps)
    for i, symbol in enumerate(SYMBOLS):
        held = portfolio.qty(symbol)
        if held:
            fill = Fill(
                "s",
                f"x{i}",
                f"x{i}",
                999,
                symbol,
                "sell" if held > 0 else "buy",
                abs(held),
                500.0,
                0.0,
                "taker",
            )
            portfolio.apply_fill(fill)
            fills.append(fill)
    assert not portfolio.open_positions()
    _check_identities(portfolio, fills, {s: 500.0 for s in SYMBOLS})


def test_spot_round_trip_by_hand():
    p = Portfolio(1_000.0)
    p.apply_fill(Fill("s", "f1", "o1", 1, "BTC_USDT", "buy", 2, 100, 0.2, "taker"))
    assert p.cash == pytest.approx(1_000 - 200 - 0.2)
    p.apply_fill(Fill("s", "f2", "o2", 2, "BTC_USDT", "buy", 2, 110, 0.22, "taker"))
    assert p.position("BTC_USDT").avg_price == pytest.approx(105)
    _, trip = p.apply_fill(Fill("s", "f3", "o3", 3, "BTC_USDT", "sell", 4, 120, 0.48, "taker"))
    assert p.realized_pnl == pytest.approx(60)  # (120 - 105) * 4
    assert trip.pnl == pytest.approx(60 - 0.9) and trip.entry_price == pytest.approx(105)
    assert trip.direction == "long" and trip.qty == 4
    assert p.cash == pytest.approx(1_000 + 60 - 0.9)
    with pytest.raises(ValueError):
        p.apply_fill(Fill("s", "f4", "o4", 4, "BTC_USDT", "sell", 1, 120, 0, "taker"))


def test_perp_short_flip_and_liquidation_price():
    p = Portfolio(1_000.0, SWAP, leverage=10)
    p.apply_fill(Fill("s", "f1", "o1", 1, "BTC_USDT", "sell", 1, 1_000, 0.0, "taker"))
    p.mark("BTC_USDT", 900)
    assert p.equity() == pytest.approx(1_100)
    # short 1 @ 1000 with 1000 cash, first tier (notional < 50,000: mmr 0.4 %, no maintenance
    # amount): liquidated where 1000 - (P - 1000) = 0.004 P
    assert p.liquidation_price("BTC_USDT") == pytest.approx(2_000 / 1.004)
    _, trip = p.apply_fill(Fill("s", "f2", "o2", 2, "BTC_USDT", "buy", 3, 900, 0.0, "taker"))
    assert trip.pnl == pytest.approx(100) and trip.direction == "short"
    assert p.qty("BTC_USDT") == pytest.approx(2) and p.position("BTC_USDT").avg_price == 900
    assert p.cash == pytest.approx(1_100)
    # long 2 @ 900 with 1100: 1100 + 2 (P - 900) = 0.004 * 2 P
    assert p.liquidation_price("BTC_USDT") == pytest.approx((1_800 - 1_100) / (2 - 0.008))


def test_buying_power():
    spot = Portfolio(1_010.0)
    assert spot.max_open_qty("X_USDT", 1, 100.0, 0.01) == pytest.approx(10)
    assert spot.max_open_qty("X_USDT", -1, 100.0, 0.01) == 0
    perp = Portfolio(1_000.0, SWAP, leverage=5)
    # margin qty*100/5 + fee qty*100*0.001 = 1000
    assert perp.max_open_qty("X_USDT", -1, 100.0, 0.001) == pytest.approx(1_000 / 20.1)

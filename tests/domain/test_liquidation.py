"""Liquidation by exchange rules (``papertape.domain.liquidation``): Binance's BTCUSDT brackets,
liquidation prices worked by hand in several brackets, and — for any position, wallet, gap and
fee — a liquidated position never costs more than its wallet plus the liquidation fee."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from papertape.domain.config import SessionConfig
from papertape.domain.liquidation import (
    BANKRUPTCY,
    DEFAULT_TIERS,
    LIQUIDATION,
    bankruptcy_price,
    liquidation_price,
    maintenance_margin,
    max_notional,
    settle,
    tier_for,
    tiers_from_ccxt,
)
from papertape.domain.portfolio import SWAP, Portfolio
from papertape.domain.records import Fill


def test_default_tiers_carry_binance_maintenance_amounts():
    """The ``cum`` Binance sends for BTCUSDT's brackets, derived from floors and rates alone."""
    assert [t.maintenance_amount for t in DEFAULT_TIERS[:7]] == pytest.approx(
        [0, 50, 950, 11_450, 131_450, 481_450, 2_981_450]
    )
    # continuous at a floor: 50,000 × 0.4 % = 50,000 × 0.5 % − 50 = 200
    assert maintenance_margin(DEFAULT_TIERS, 50_000) == pytest.approx(200)
    assert tier_for(DEFAULT_TIERS, 49_999).mmr == 0.004
    assert tier_for(DEFAULT_TIERS, 50_000).mmr == 0.005
    assert tier_for(DEFAULT_TIERS, 1e12).mmr == 0.5  # beyond the table: the last bracket


def test_first_bracket_long():
    """Long 0.5 at 60,000 (notional 30,000) on a 3,000 wallet: tier 1 (0.4 %, cum 0).
    LP = (3,000 + 0 − 0.5 × 60,000) / (0.5 × 0.004 − 0.5) = −27,000 / −0.498 = 54,216.87;
    BP = 60,000 − 3,000 / 0.5 = 54,000."""
    assert liquidation_price(0.5, 60_000, 3_000, DEFAULT_TIERS) == pytest.approx(27_000 / 0.498)
    assert bankruptcy_price(0.5, 60_000, 3_000) == pytest.approx(54_000)


def test_second_bracket_long():
    """Long 5 at 60,000 (notional 300,000) on 30,000: tier 2 (0.5 %, cum 50).
    LP = (30,000 + 50 − 300,000) / (5 × 0.005 − 5) = −269,950 / −4.975 = 54,261.31, a notional
    of 271,307, inside [50,000, 600,000)."""
    assert liquidation_price(5, 60_000, 30_000, DEFAULT_TIERS) == pytest.approx(269_950 / 4.975)


def test_third_bracket_short():
    """Short 20 at 60,000 (notional 1.2 M) on 60,000: tier 3 (0.65 %, cum 950), side −1.
    LP = (60,000 + 950 + 20 × 60,000) / (20 × 0.0065 + 20) = 1,260,950 / 20.13 = 62,640.34;
    BP = 60,000 − 60,000 / −20 = 63,000."""
    assert liquidation_price(-20, 60_000, 60_000, DEFAULT_TIERS) == pytest.approx(1_260_950 / 20.13)
    assert bankruptcy_price(-20, 60_000, 60_000) == pytest.approx(63_000)


def test_the_bracket_is_the_one_at_the_liquidation_price():
    """Long 0.9 at 60,000: notional 54,000 is tier 2 at entry, but at the liquidation price it
    is tier 1. Tier 2's formula gives (5,400 + 50 − 54,000) / (0.0045 − 0.9) = 54,215.52, a
    notional of 48,794 outside tier 2; tier 1's gives −48,600 / −0.8964 = 54,216.87 (48,795)."""
    assert liquidation_price(0.9, 60_000, 5_400, DEFAULT_TIERS) == pytest.approx(48_600 / 0.8964)


def test_a_fully_paid_long_is_never_liquidated():
    assert liquidation_price(1, 60_000, 60_000, DEFAULT_TIERS) is None
    assert bankruptcy_price(1, 60_000, 60_000) == 0


def test_tiers_from_ccxt_rows():
    """ccxt's ``fetch_leverage_tiers`` shape (the first two BTCUSDT rows, out of order): the
    maintenance amount from ``info['cum']`` when given, derived otherwise."""
    rows = [
        {
            "tier": 2.0,
            "currency": "USDT",
            "minNotional": 50_000.0,
            "maxNotional": 600_000.0,
            "maintenanceMarginRate": 0.005,
            "maxLeverage": 100.0,
            "info": {"cum": "50.0"},
        },
        {
            "tier": 1.0,
            "minNotional": 0.0,
            "maxNotional": 50_000.0,
            "maintenanceMarginRate": 0.004,
            "maxLeverage": 125.0,
        },
    ]
    tiers = tiers_from_ccxt(rows)
    assert [(t.mmr, t.maintenance_amount) for t in tiers] == [(0.004, 0.0), (0.005, 50.0)]
    assert tiers_from_ccxt([{**r, "info": None} for r in rows]) == tiers
    open_ended = tiers_from_ccxt([{"maintenanceMarginRate": 0.01, "maxNotional": None}])
    assert open_ended[0].max_notional == math.inf
    with pytest.raises(ValueError, match="does not start"):
        tiers_from_ccxt([rows[1], {**rows[0], "minNotional": 60_000.0}])


positions = st.tuples(
    st.sampled_from([1, -1]),
    st.floats(0.001, 500),  # size
    st.floats(100, 200_000),  # entry
    st.floats(1, 125),  # leverage
    st.floats(0, 0.05),  # liquidation fee rate
    st.sampled_from([BANKRUPTCY, LIQUIDATION]),
)


@given(positions)
def test_an_isolated_position_never_loses_more_than_its_margin_and_the_fee(case):
    """Isolated margin: the wallet is the position's margin, entry notional / leverage. Settled
    at either price (neither depends on where the market went: a gap past them is the
    insurance fund's), the wallet ends at −fee or above."""
    side, size, entry, leverage, rate, close_at = case
    qty = side * size
    wallet = size * entry / leverage
    done = settle(qty, entry, wallet, wallet, DEFAULT_TIERS, close_at, rate)
    after = wallet + qty * (done.price - entry) - done.fee
    assert after >= -done.fee - 1e-9 * size * entry
    if close_at == BANKRUPTCY and done.price > 0:
        assert after == pytest.approx(-done.fee, abs=1e-9 * size * entry)


@given(positions)
def test_a_liquidated_account_ends_at_minus_the_fee_or_above(case):
    """The same through the portfolio: one position is the account's only one (its wallet is
    the cash), the mark gaps 20 % past its liquidation price, it is closed as settled."""
    side, size, entry, leverage, rate, close_at = case
    cash = size * entry / leverage
    p = Portfolio(cash, SWAP, leverage=leverage)
    p.apply_fill(
        Fill(
            "s", "f1", "o1", 1, "BTC_USDT", "buy" if side > 0 else "sell", size, entry, 0.0, "taker"
        )
    )
    liq = p.liquidation_price("BTC_USDT")
    if liq is not None:
        p.mark("BTC_USDT", liq * (1 - side * 0.2))
    done = p.liquidation_settlement("BTC_USDT", close_at, rate)
    assert done is not None
    close = "sell" if side > 0 else "buy"
    p.apply_fill(Fill("s", "f2", "o2", 2, "BTC_USDT", close, size, done.price, done.fee, "taker"))
    assert not p.open_positions()
    assert p.equity() >= -done.fee - 1e-9 * size * entry


def _session(**fields):
    body = {"mode": "paper", "symbols": ["BTC/USDT"], "market": {"market_type": "swap"}}
    return SessionConfig.model_validate({**body, **fields})


def test_session_margin_rules():
    """A session brings its market's brackets in ccxt's shape (keyed by any spelling of the
    symbol), its liquidation fee and close price; what cannot apply is refused."""
    row = {"minNotional": 0, "maxNotional": None, "maintenanceMarginRate": 0.01}
    config = _session(
        margin={
            "tiers": {"BTC/USDT": [row]},
            "liquidation_fee": 0.01,
            "liquidation_close": "liquidation",
        }
    )
    assert config.margin.margin_tiers()["BTC_USDT"][0].mmr == 0.01
    assert config.margin.liquidation_close == "liquidation"
    assert _session().margin.liquidation_fee == 0.0125
    with pytest.raises(ValidationError, match="need market_type 'swap'"):
        _session(market={"market_type": "spot"}, margin={"liquidation_fee": 0.01})
    with pytest.raises(ValidationError, match="not traded"):
        _session(margin={"tiers": {"ETH_USDT": [row]}})
    with pytest.raises(ValidationError, match="first bracket starts at notional 0"):
        _session(margin={"tiers": {"BTC_USDT": [{**row, "minNotional": 10}]}})
    with pytest.raises(ValidationError):
        _session(margin={"liquidation_close": "mark"})


def test_brackets_cap_the_position_at_a_leverage():
    """Binance's BTCUSDT: 125× only in the first bracket (up to 50,000 of notional), 100× up to
    600,000, 20× up to 100 M. With 10,000 at 125× the margin would allow 1.25 M of notional,
    the brackets 50,000: one BTC at 50,000, and half of one once half is held."""
    assert max_notional(DEFAULT_TIERS, 125) == 50_000
    assert max_notional(DEFAULT_TIERS, 100) == 600_000
    assert max_notional(DEFAULT_TIERS, 20) == 100_000_000
    one = tiers_from_ccxt([{"maintenanceMarginRate": 0.05, "maxNotional": None}])
    assert max_notional(one, 20) == math.inf and max_notional(one, 21) == 0  # 1 / 5 %
    p = Portfolio(10_000, SWAP, leverage=125)
    assert p.max_open_qty("BTC_USDT", 1, 50_000, 0.0) == pytest.approx(1.0)
    p.apply_fill(Fill("s", "f1", "o1", 1, "BTC_USDT", "buy", 0.5, 50_000, 0.0, "taker"))
    assert p.max_open_qty("BTC_USDT", 1, 50_000, 0.0) == pytest.approx(0.5)

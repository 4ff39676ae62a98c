"""The sweep's vectorised fast path gives exactly the event engine's metrics for the built-ins it
takes (``sma_cross``, ``rsi_reversion``, ``breakout``), on the shared candles and on generated
prices, and every configuration it is not proven on runs on the event engine instead."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.domain.config import StrategySpec
from papertape.domain.grid import parse_grid
from papertape.domain.market import Candle, Trade
from papertape.domain.numbers import finite
from papertape.engine.core import StrategyPlan
from papertape.market.importers import read_market_file
from papertape.research.data import DataSpec
from papertape.research.executors import InProcess
from papertape.research.fastpath import refusal
from papertape.research.sweep import Sweep, SweepSpec
from papertape.research.trials import TrialData, TrialSettings, backtest
from papertape.sessions.strategy_catalog import plan_for
from tests.conftest import shared_file

BTC_1M = "btc-perp_1m_2022-01.csv.gz"  # 45,031 candles
SETTINGS = TrialSettings("BTC_USDT")


@cache
def shared_candles(name: str) -> list[Any]:
    return read_market_file(shared_file(name), symbol="BTC_USDT").rows


def sma_cross(**params: Any) -> StrategyPlan:
    return plan_for(StrategySpec(name="sma_cross", params=params))


def rsi_reversion(**params: Any) -> StrategyPlan:
    return plan_for(StrategySpec(name="rsi_reversion", params=params))


def breakout(**params: Any) -> StrategyPlan:
    return plan_for(StrategySpec(name="breakout", params=params))


def event_metrics(rows: list[Any], plan: StrategyPlan, s: TrialSettings) -> dict[str, Any]:
    metrics: dict[str, Any] = finite(backtest(rows, plan, s).metrics)
    return metrics


def assert_same(rows: list[Any], plan: StrategyPlan, s: TrialSettings = SETTINGS) -> dict:
    """The fast path takes the trial and its metrics are the event engine's, number for
    number (the same floats, not merely close ones)."""
    fast = TrialData(rows).run(plan, s, None)
    assert fast.engine == "vectorised"
    expected = event_metrics(rows, plan, s)
    assert list(fast.metrics) == list(expected)
    assert fast.metrics["trades"] == expected["trades"]
    assert fast.metrics["final_equity"] == pytest.approx(expected["final_equity"], rel=1e-9)
    assert fast.metrics == expected
    return fast.metrics


@pytest.mark.parametrize(
    "fast,slow", [(5, 30), (10, 30), (25, 110), (50, 210), (1, 2), (45, 50), (200, 1_000)]
)
def test_sma_cross_on_the_shared_one_minute_candles(fast: int, slow: int) -> None:
    metrics = assert_same(shared_candles(BTC_1M), sma_cross(fast=fast, slow=slow))
    assert metrics["trades"] > 0


@pytest.mark.parametrize(
    "name,symbol",
    [
        ("freqtrade-unittest_btc_1m_2017-11.json.gz", "BTC_USDT"),  # long flat stretches
        ("binance-futures_xrpusdt_5m_2021-11.csv", "XRP_USDT"),
        ("xrp-usdt-perp_1h_2021-11.csv", "XRP_USDT"),
    ],
)
@pytest.mark.parametrize("fast,slow", [(3, 8), (10, 30)])
def test_sma_cross_on_other_shared_candles(name: str, symbol: str, fast: int, slow: int) -> None:
    rows = read_market_file(shared_file(name), symbol=symbol).rows
    assert_same(rows, sma_cross(fast=fast, slow=slow), TrialSettings(symbol))


@pytest.mark.parametrize(
    "period,oversold,overbought", [(14, 30, 70), (2, 10, 90), (30, 45, 55), (7, 20, 60)]
)
def test_rsi_reversion_on_the_shared_one_minute_candles(
    period: int, oversold: float, overbought: float
) -> None:
    plan = rsi_reversion(period=period, oversold=oversold, overbought=overbought)
    assert assert_same(shared_candles(BTC_1M), plan)["trades"] > 0


def test_rsi_reversion_on_flat_stretches() -> None:
    rows = read_market_file(
        shared_file("freqtrade-unittest_btc_1m_2017-11.json.gz"), symbol="BTC_USDT"
    ).rows
    assert_same(rows, rsi_reversion(period=5, oversold=35, overbought=65))


def stop_fills(rows: list[Any], plan: StrategyPlan) -> int:
    """How many of the event engine's fills were breakout's stop-loss."""
    record = backtest(rows, plan, SETTINGS).engine.record
    reasons = {o.order_id: o.reason for o in record.orders}
    return sum(1 for f in record.fills if reasons[f.order_id] == "stop_loss")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"lookback": 10, "surge": 2.0},
        {"lookback": 5, "surge": 1.5, "stop_loss_pct": 0.3, "exit_ema": 30},
        {"lookback": 50, "surge": 4.0, "fraction": 0.5},
        {"lookback": 2, "surge": 1.01, "stop_loss_pct": 0.05, "exit_ema": 2},
    ],
)
def test_breakout_on_the_shared_one_minute_candles(params: dict[str, Any]) -> None:
    metrics = assert_same(shared_candles(BTC_1M), breakout(**params))
    assert metrics["trades"] > 0


def test_breakout_stops_fill_inside_bars_and_on_gaps() -> None:
    rows = shared_candles(BTC_1M)[:10_000]
    plan = breakout(lookback=5, surge=1.5, stop_loss_pct=0.1, exit_ema=50)
    assert stop_fills(rows, plan) > 20  # the stop, not the exit EMA, ends most trades here
    assert_same(rows, plan)


@pytest.mark.parametrize(
    "name,symbol",
    [
        ("freqtrade-unittest_btc_1m_2017-11.json.gz", "BTC_USDT"),
        ("binance-futures_xrpusdt_5m_2021-11.csv", "XRP_USDT"),
        ("xrp-usdt-perp_1h_2021-11.csv", "XRP_USDT"),
    ],
)
@pytest.mark.parametrize("params", [{}, {"lookback": 5, "surge": 1.5, "stop_loss_pct": 1.0}])
def test_breakout_on_other_shared_candles(name: str, symbol: str, params: dict[str, Any]) -> None:
    rows = read_market_file(shared_file(name), symbol=symbol).rows
    assert_same(rows, breakout(**params), TrialSettings(symbol))


def test_fees_cash_and_a_fraction_of_the_buying_power() -> None:
    s = TrialSettings("BTC_USDT", cash=1_234.5, taker=0.00075, maker=0.0002)
    metrics = assert_same(
        shared_candles(BTC_1M)[:8_000], sma_cross(fast=7, slow=40, fraction=0.3), s
    )
    assert metrics["trades"] > 0


def test_no_trades() -> None:
    rows = shared_candles(BTC_1M)[:400]
    metrics = assert_same(rows, sma_cross(fast=100, slow=500))  # never warm
    assert metrics["trades"] == metrics["fills"] == 0
    assert metrics["final_equity"] == SETTINGS.cash


def fill_bars(rows: list[Any], plan: StrategyPlan) -> list[int]:
    """The bars whose opens filled the strategy's orders (buy, sell, buy, ...)."""
    run = backtest(rows, plan, SETTINGS)
    index = {r.ts: i for i, r in enumerate(rows)}
    return [index[f.ts] for f in run.engine.record.fills]


def test_a_position_open_at_the_end_and_orders_at_the_edges() -> None:
    rows = shared_candles(BTC_1M)[:3_000]
    plan = sma_cross(fast=10, slow=30)
    bought, sold = fill_bars(rows, plan)[10:12]
    assert sold - bought > 2
    # held at the end (the exit decided on the last bar, never filled); bought on the last bar's
    # open; the entry decided on the last bar (never filled)
    for end, held in ((sold, 1), (bought + 1, 1), (bought, 0)):
        metrics = assert_same(rows[:end], plan)
        assert metrics["open_positions"] == held
        assert metrics["fills"] == 10 + held


def test_a_sweep_runs_its_trials_on_the_fast_path_and_refuses_fast_above_slow(
    candles_file: Path,
) -> None:
    spec = SweepSpec(tuple(parse_grid(["fast=10:30:10", "slow=20:40:10"])), objective="sharpe")
    data = DataSpec("BTC_USDT", file=str(candles_file))
    with InProcess(data, SETTINGS) as executor:
        result = Sweep(spec, lambda p: sma_cross(**p), executor).run()
        rows = executor.data.rows
    assert [t.params for t in result.skipped] == [
        {"fast": 20, "slow": 20},
        {"fast": 30, "slow": 20},
        {"fast": 30, "slow": 30},
    ]
    assert len(result.ran) == 6
    for trial in result.ran:
        assert trial.engine == "vectorised"
        assert trial.as_json()["engine"] == "vectorised"
        assert trial.metrics == event_metrics(rows, sma_cross(**trial.params), SETTINGS)


def test_a_time_window_is_evaluated_on_its_own_rows(candles_file: Path) -> None:
    data = DataSpec("BTC_USDT", file=str(candles_file))
    plan = sma_cross(fast=5, slow=20)
    with InProcess(data, SETTINGS) as executor:
        rows = executor.data.rows
        window = (rows[500].ts, rows[2_500].ts)
        (_, windowed), (_, whole) = (
            next(iter(executor.map_unordered([(0, plan)], w))) for w in (window, None)
        )
    assert windowed.engine == whole.engine == "vectorised"
    assert windowed.metrics == event_metrics(rows[500:2_500], plan, SETTINGS)
    assert whole.metrics == event_metrics(rows, plan, SETTINGS)
    assert windowed.metrics != whole.metrics


def candles(prices: list[tuple[float, float]], start: int = 1_700_000_000_000_000) -> list:
    return [
        Candle(start + i * 60_000_000, "BTC_USDT", 60, o, max(o, c), min(o, c), c, 1.0)
        for i, (o, c) in enumerate(prices)
    ]


# whole-number prices on a narrow range: equal averages, exact zero differences and ties
price = st.integers(min_value=90, max_value=110).map(float) | st.floats(
    min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False
)


@settings(max_examples=80, deadline=None)
@given(
    prices=st.lists(st.tuples(price, price), min_size=1, max_size=300),
    fast=st.integers(min_value=1, max_value=12),
    extra=st.integers(min_value=1, max_value=30),
    fee=st.sampled_from([0.0, 0.001, 0.0025]),
    fraction=st.sampled_from([1.0, 0.5]),
)
def test_generated_prices_give_the_engines_metrics(
    prices: list[tuple[float, float]], fast: int, extra: int, fee: float, fraction: float
) -> None:
    s = TrialSettings("BTC_USDT", cash=10_000.0, taker=fee, maker=fee)
    assert_same(candles(prices), sma_cross(fast=fast, slow=fast + extra, fraction=fraction), s)


@settings(max_examples=60, deadline=None)
@given(
    prices=st.lists(st.tuples(price, price), min_size=1, max_size=300),
    period=st.integers(min_value=2, max_value=20),
    oversold=st.integers(min_value=5, max_value=50),
    width=st.integers(min_value=1, max_value=45),
    fraction=st.sampled_from([1.0, 0.5]),
)
def test_generated_prices_give_the_engines_metrics_for_rsi_reversion(
    prices: list[tuple[float, float]], period: int, oversold: int, width: int, fraction: float
) -> None:
    plan = rsi_reversion(
        period=period, oversold=oversold, overbought=oversold + width, fraction=fraction
    )
    assert_same(candles(prices), plan)


def walk(steps: list[tuple[int, float, float, float]]) -> list:
    """Candles of a walk on whole prices from (step, wick above, wick below, volume): each bar
    opens at the previous close; whole prices and wicks make ties with the highest high, stops
    touched exactly and gaps through them common."""
    start, close, candles = 1_700_000_000_000_000, 100.0, []
    for i, (step, up, down, volume) in enumerate(steps):
        opened, close = close, max(1.0, close + step)
        high, low = max(opened, close) + up, max(0.5, min(opened, close) - down)
        candles.append(
            Candle(start + i * 60_000_000, "BTC_USDT", 60, opened, high, low, close, volume)
        )
    return candles


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=-4, max_value=4),
            st.sampled_from([0.0, 0.0, 1.0, 2.5]),
            st.sampled_from([0.0, 0.0, 1.0, 3.0, 8.0]),
            st.sampled_from([0.0, 1.0, 1.0, 1.0, 2.0, 10.0]),
        ),
        min_size=10,
        max_size=400,
    ),
    lookback=st.integers(min_value=2, max_value=8),
    surge=st.sampled_from([1.01, 1.5, 3.0]),
    exit_ema=st.integers(min_value=2, max_value=20),
    stop_loss_pct=st.sampled_from([0.5, 2.0, 5.0, 30.0]),
    fee=st.sampled_from([0.0, 0.001]),
    fraction=st.sampled_from([1.0, 0.5]),
)
def test_generated_bars_give_the_engines_metrics_for_breakout(
    steps: list[tuple[int, float, float, float]],
    lookback: int,
    surge: float,
    exit_ema: int,
    stop_loss_pct: float,
    fee: float,
    fraction: float,
) -> None:
    """Volumes with zeros (an infinite or undefined surge) and spikes, stops inside bars and
    gaps through them."""
    plan = breakout(
        lookback=lookback,
        surge=surge,
        exit_ema=exit_ema,
        stop_loss_pct=stop_loss_pct,
        fraction=fraction,
    )
    s = TrialSettings("BTC_USDT", cash=10_000.0, taker=fee, maker=fee)
    assert_same(walk(steps), plan, s)


@pytest.mark.parametrize(
    "plan,s",
    [
        (sma_cross(fast=5, slow=20), TrialSettings("BTC_USDT", slippage_bps=2.0)),
        (sma_cross(fast=5, slow=20), TrialSettings("BTC_USDT", bar_fill="close")),
        (sma_cross(fast=5, slow=20), TrialSettings("BTC_USDT", market_type="swap")),
        (
            sma_cross(fast=5, slow=20),
            TrialSettings("BTC_USDT", market_type="swap", leverage=3.0),
        ),
        (
            sma_cross(fast=5, slow=20, allow_short=True),
            TrialSettings("BTC_USDT", market_type="swap"),
        ),
        (rsi_reversion(), TrialSettings("BTC_USDT", slippage_bps=2.0)),
        (breakout(), TrialSettings("BTC_USDT", slippage_bps=2.0)),
        (breakout(), TrialSettings("BTC_USDT", bar_fill="close")),
    ],
)
def test_configurations_it_is_not_proven_on_run_on_the_event_engine(
    plan: StrategyPlan, s: TrialSettings
) -> None:
    assert refusal(plan, s) is not None
    rows = shared_candles(BTC_1M)[:2_000]
    outcome = TrialData(rows).run(plan, s, None)
    assert outcome.engine == "event"
    assert outcome.metrics == event_metrics(rows, plan, s)


def test_data_it_is_not_proven_on_runs_on_the_event_engine() -> None:
    rows = shared_candles(BTC_1M)[:2_000]
    plan = sma_cross(fast=5, slow=20)
    assert refusal(plan, SETTINGS) is None
    trades = [Trade(r.ts, r.symbol, r.close, 1.0, "buy") for r in rows]
    close_together = [r._replace(ts=rows[0].ts + i * 5_000_000) for i, r in enumerate(rows)]
    longer_bars = sma_cross(fast=5, slow=20, bar_interval=300)
    for data, p in ((trades, plan), (close_together, plan), (rows, longer_bars)):
        outcome = TrialData(data).run(p, SETTINGS, None)
        assert outcome.engine == "event"
        assert outcome.metrics == event_metrics(data, p, SETTINGS)

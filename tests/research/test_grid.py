"""Grids as the CLI writes them, and the objectives trials are ranked by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papertape.domain.errors import ValidationFailed
from papertape.domain.grid import combinations, parse_axis, parse_grid
from papertape.research.objectives import calmar, score


def test_a_range_is_inclusive_in_steps() -> None:
    assert parse_axis("fast=5:50:5").values == tuple(range(5, 51, 5))
    assert parse_axis("slow=30:210:20").values == tuple(range(30, 211, 20))
    assert parse_axis("x=1:10:4").values == (1, 5, 9)  # 10 is not on a step


def test_a_decimal_range_has_no_float_drift() -> None:
    assert parse_axis("stop=0.1:0.5:0.1").values == (0.1, 0.2, 0.3, 0.4, 0.5)


def test_a_list_keeps_its_values_and_types() -> None:
    assert parse_axis("fast=5,10,20").values == (5, 10, 20)
    assert parse_axis("allow_short=true,false").values == (True, False)
    assert parse_axis("mode=all_in").values == ("all_in",)


@pytest.mark.parametrize(
    "text", ["fast", "fast=", "=1:2:1", "fast=1:2", "fast=1:2:0", "fast=5:1:1", "fast=a:b:c"]
)
def test_bad_grids_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_axis(text)


def test_a_repeated_name_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="fast"):
        parse_grid(["fast=1,2", "fast=3"])


@given(st.integers(-1_000, 1_000), st.integers(0, 500), st.integers(1, 50))
def test_ranges_match_python_range(low: int, span: int, step: int) -> None:
    axis = parse_axis(f"p={low}:{low + span}:{step}")
    assert axis.values == tuple(range(low, low + span + 1, step))


def test_combinations_vary_the_first_axis_slowest() -> None:
    axes = parse_grid(["fast=1,2", "slow=10:30:10"])
    assert combinations(axes) == [{"fast": f, "slow": s} for f in (1, 2) for s in (10, 20, 30)]


def test_min_trades_and_undefined_metrics_leave_no_score() -> None:
    metrics = {"sharpe": 1.5, "trades": 4, "total_return_pct": 3.0}
    assert score(metrics, "sharpe") == 1.5
    assert score(metrics, "sharpe", min_trades=5) is None
    assert score({**metrics, "sharpe": None}, "sharpe") is None
    assert score(metrics, "return", min_trades=4) == 3.0


def test_calmar_is_annual_return_over_drawdown() -> None:
    year = 365 * 86_400 * 1_000_000
    metrics = {
        "start_ts": 0,
        "end_ts": year // 2,
        "initial_equity": 100.0,
        "final_equity": 110.0,
        "max_drawdown_pct": 5.0,
    }
    assert calmar(metrics) == pytest.approx((1.1**2 - 1) * 100 / 5.0)
    assert calmar({**metrics, "max_drawdown_pct": 0.0}) is None

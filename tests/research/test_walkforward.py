"""Walk-forward optimisation: windows, the best training trial run on each test window, and the
stitched out-of-sample run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papertape.domain.errors import ValidationFailed
from papertape.domain.grid import parse_grid
from papertape.research.data import DataSpec, load_rows
from papertape.research.executors import make_executor
from papertape.research.sweep import Sweep, SweepSpec
from papertape.research.trials import TrialSettings, backtest, window_rows
from papertape.research.walkforward import WalkForward, parse_walk_forward, walk_forward
from tests.research.test_search import build
from tests.research.test_sweep_cli import sweep_json

HOUR = 3_600_000_000
DAY = 24 * HOUR


def test_the_option_reads_durations_and_the_mode() -> None:
    assert parse_walk_forward("train=14d,test=7d") == WalkForward(
        14 * DAY, 7 * DAY, "rolling", "train=14d,test=7d"
    )
    assert parse_walk_forward("train=12h,test=30m,anchored").mode == "anchored"
    assert parse_walk_forward("train=2w,test=1d,mode=anchored").train == 14 * DAY
    for bad in ("train=14d", "train=14x,test=7d", "train=0d,test=1d", "train=1d,test=1d,mode=x"):
        with pytest.raises(ValidationFailed):
            parse_walk_forward(bad)


@given(
    st.integers(1, 50),
    st.integers(1, 50),
    st.integers(1, 400),
    st.sampled_from(["rolling", "anchored"]),
)
def test_test_windows_tile_the_data_after_the_first_training_window(
    train: int, test: int, span: int, mode: str
) -> None:
    plan = WalkForward(train * HOUR, test * HOUR, mode)  # type: ignore[arg-type]
    windows = plan.windows(0, span * HOUR)
    if train >= span:
        assert windows == []
        return
    tests = [t for _, t in windows]
    assert tests[0][0] == train * HOUR and tests[-1][1] == span * HOUR
    assert all(a[1] == b[0] for a, b in zip(tests, tests[1:], strict=False))  # contiguous
    for (train_start, train_end), (test_start, _) in windows:
        assert train_end == test_start  # the test part follows its training part
        assert train_start == (0 if mode == "anchored" else train_end - train * HOUR)


def test_each_window_runs_its_best_training_trial_out_of_sample(candles_file: Path) -> None:
    spec = SweepSpec(tuple(parse_grid(["fast=5:20:5", "slow=30,60"])), objective="return")
    data = DataSpec("BTC_USDT", file=str(candles_file))
    settings = TrialSettings("BTC_USDT")
    rows = load_rows(data)
    plan = parse_walk_forward("train=1d,test=12h")
    with make_executor(data, settings, 2) as executor:
        result = walk_forward(plan, spec, build, executor, rows, settings)  # type: ignore[arg-type]
    assert len(result.windows) == 4  # 4,000 minutes: 1 day of training, then 4 half days
    cash = settings.cash
    for window in result.windows:
        # the best trial is the one a plain sweep of the training rows finds
        with make_executor(data, settings, 1) as alone:
            expected = Sweep(spec, build, alone, window=window.train).run().best  # type: ignore[arg-type]
        assert window.best is not None and expected is not None
        assert window.best.params == expected.params
        assert window.best.metrics == expected.metrics
        # ... and it ran on the test rows with the equity the previous test part ended with
        test_rows = window_rows(rows, window.test)
        run = backtest(test_rows, build(window.best.params), TrialSettings("BTC_USDT", cash=cash))  # type: ignore[arg-type]
        assert window.test_metrics == run.metrics
        cash = run.metrics["final_equity"]
    assert result.metrics is not None
    assert result.metrics["final_equity"] == pytest.approx(cash, rel=1e-12)
    assert result.metrics["trades"] == sum(w.test_metrics["trades"] for w in result.windows)  # type: ignore[index]
    report = result.as_json()
    assert report["out_of_sample"]["equity"][-1][1] == pytest.approx(cash, rel=1e-12)
    assert report["in_sample"]["mean_score"] == pytest.approx(
        sum(w.best.score for w in result.windows) / 4  # type: ignore[union-attr,misc]
    )


def test_the_cli_prints_the_walk_forward_report(candles_file: Path) -> None:
    out = sweep_json(
        candles_file,
        *("--walk-forward", "train=1d,test=12h,anchored", "--objective", "return"),
        grid=["--grid", "fast=5,10", "--grid", "slow=30"],
    )
    assert set(out) == {"walk_forward", "windows", "in_sample", "out_of_sample", "seconds"}
    assert out["walk_forward"]["mode"] == "anchored"
    assert all(
        w["train"]["start_ts"] == out["windows"][0]["train"]["start_ts"] for w in out["windows"]
    )
    assert out["out_of_sample"]["metrics"]["trades"] > 0

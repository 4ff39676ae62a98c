"""``papertape sweep`` as a user runs it: every trial's metrics are ``papertape backtest``'s for
the same parameters, refused sets are listed as skipped, and the pool, one core and a Ray cluster
all give the same trials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import papertape, run_together

GRID = ["--grid", "fast=5:25:10", "--grid", "slow=15:35:10"]  # 3 x 3, fast >= slow refused


def sweep_json(candles: Path, *extra: str, grid: list[str] = GRID) -> dict[str, Any]:
    done = papertape(
        "sweep", "--data", str(candles), "--symbol", "BTC_USDT", "--strategy", "sma_cross",
        *grid, "--json", *extra,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def pooled(candles_file: Path) -> dict[str, Any]:
    return sweep_json(candles_file, "--workers", "2", "--objective", "return")


def test_the_output_has_the_documented_shape(pooled: dict[str, Any]) -> None:
    assert set(pooled) == {"trials", "skipped", "best", "seconds"}
    assert [t["params"] for t in pooled["trials"]] == [
        {"fast": f, "slow": s} for f in (5, 15, 25) for s in (15, 25, 35) if f < s
    ]
    assert [s["params"] for s in pooled["skipped"]] == [
        {"fast": 15, "slow": 15},
        {"fast": 25, "slow": 15},
        {"fast": 25, "slow": 25},
    ]
    assert all("slow must be larger than fast" in s["error"] for s in pooled["skipped"])
    assert {t["engine"] for t in pooled["trials"]} == {"vectorised"}  # sma_cross's fast path
    best = max(pooled["trials"], key=lambda t: t["metrics"]["total_return_pct"])
    assert pooled["best"] == best
    assert pooled["seconds"] > 0


def test_each_trial_is_exactly_the_backtest_of_its_parameters(
    pooled: dict[str, Any], candles_file: Path
) -> None:
    picked = [pooled["trials"][0], pooled["trials"][-1]]
    runs = run_together(
        *(
            [
                "backtest", "--data", str(candles_file), "--symbol", "BTC_USDT",
                "--strategy", "sma_cross", "--json",
                *(a for k, v in t["params"].items() for a in ("--param", f"{k}={v}")),
            ]
            for t in picked
        )
    )  # fmt: skip
    for trial, run in zip(picked, runs, strict=True):
        assert run.returncode == 0, run.stderr
        expected = json.loads(run.stdout)["metrics"]
        assert trial["metrics"].keys() == expected.keys()
        assert trial["metrics"]["trades"] == expected["trades"] > 0
        assert trial["metrics"]["final_equity"] == pytest.approx(expected["final_equity"], rel=1e-9)
        assert trial["metrics"] == expected


def test_one_worker_gives_the_same_trials(pooled: dict[str, Any], candles_file: Path) -> None:
    alone = sweep_json(candles_file, "--workers", "1", "--objective", "return")
    assert alone["trials"] == pooled["trials"]
    assert alone["skipped"] == pooled["skipped"]


def test_a_min_trades_constraint_excludes_thin_trials(candles_file: Path) -> None:
    strict = sweep_json(candles_file, "--workers", "1", "--min-trades", "100000")
    assert strict["best"] is None
    assert len(strict["trials"]) == 6


def test_bad_input_exits_2_with_its_code(candles_file: Path) -> None:
    done = papertape(
        "sweep", "--data", str(candles_file), "--symbol", "BTC_USDT", "--strategy",
        "sma_cross", "--grid", "fast=1:2", "--json",
    )  # fmt: skip
    assert done.returncode == 2
    assert "validation_error" in done.stderr
    done = papertape(
        "sweep", "--data", str(candles_file), "--symbol", "BTC_USDT", "--strategy",
        "no_such", "--grid", "fast=1,2", "--json",
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown_strategy" in done.stderr


def test_trials_run_on_a_local_ray_cluster(pooled: dict[str, Any], candles_file: Path) -> None:
    """The Ray path on a private local Ray instance with 2 CPUs: the same trials."""
    on_ray = sweep_json(
        candles_file, "--ray-address", "local", "--workers", "2", "--objective", "return"
    )
    assert on_ray["trials"] == pooled["trials"]
    assert on_ray["best"] == pooled["best"]

"""Optuna random and Bayesian (TPE) searches: a budget of trials, seeded and reproducible
whatever the number of workers, with the same trial records as a grid."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertape.domain.config import StrategySpec
from papertape.domain.errors import ValidationFailed
from papertape.domain.grid import parse_grid
from papertape.research.data import DataSpec
from papertape.research.executors import make_executor
from papertape.research.sweep import Sweep, SweepResult, SweepSpec
from papertape.research.trials import TrialSettings
from papertape.sessions.strategy_catalog import plan_for
from tests.research.test_sweep_cli import sweep_json

GRID = ["fast=2:30:2", "slow=20:80:10"]


def build(params: dict) -> object:
    return plan_for(StrategySpec(name="sma_cross", params=params))


def search(candles: Path, search: str, seed: int, workers: int, budget: int = 12) -> SweepResult:
    spec = SweepSpec(
        tuple(parse_grid(GRID)), objective="return", search=search, budget=budget, seed=seed
    )
    data = DataSpec("BTC_USDT", file=str(candles))
    with make_executor(data, TrialSettings("BTC_USDT"), workers) as executor:
        return Sweep(spec, build, executor).run()  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["random", "tpe"])
def test_a_seeded_search_is_reproducible_on_any_number_of_workers(
    candles_file: Path, method: str
) -> None:
    alone = search(candles_file, method, seed=7, workers=1)
    pooled = search(candles_file, method, seed=7, workers=2)
    assert alone.as_json()["trials"] == pooled.as_json()["trials"]
    assert alone.as_json()["skipped"] == pooled.as_json()["skipped"]
    assert len(alone.trials) == 12  # the budget, refused sets included
    for trial in alone.trials:
        assert trial.params["fast"] in range(2, 31, 2)
        assert trial.params["slow"] in range(20, 81, 10)
    other = search(candles_file, method, seed=8, workers=1)
    assert [t.params for t in other.trials] != [t.params for t in alone.trials]


def test_tpe_concentrates_on_better_trials_than_its_random_start(candles_file: Path) -> None:
    """After its random start-up trials TPE proposes near the best ones: its later trials score
    better on average than random search's on the same budget."""
    budget = 40
    tpe = search(candles_file, "tpe", seed=3, workers=2, budget=budget)
    rnd = search(candles_file, "random", seed=3, workers=2, budget=budget)

    def late_mean(result: SweepResult) -> float:
        late = [t.score for t in result.trials if t.number >= 24 and t.score is not None]
        return sum(late) / len(late)

    assert late_mean(tpe) > late_mean(rnd)


def test_a_search_needs_a_budget() -> None:
    with pytest.raises(ValidationFailed, match="budget"):
        SweepSpec(tuple(parse_grid(GRID)), search="tpe")


def test_the_cli_search_prints_the_same_records(candles_file: Path) -> None:
    out = sweep_json(
        candles_file,
        *("--search", "tpe", "--trials", "10", "--seed", "5", "--objective", "return"),
        grid=[a for g in GRID for a in ("--grid", g)],
    )
    assert set(out) == {"trials", "skipped", "best", "seconds"}
    assert len(out["trials"]) + len(out["skipped"]) == 10
    again = search(candles_file, "tpe", seed=5, workers=1, budget=10)
    assert out["trials"] == [t.as_json() for t in again.ran]


@pytest.mark.parametrize("method", ["grid", "tpe"])
def test_a_resumed_search_reruns_nothing_and_ends_as_if_uninterrupted(
    candles_file: Path, method: str
) -> None:
    """What a resumed sweep session does: the trials recorded before the crash are handed back
    (``done``), the search re-proposes the same sets, runs only the others and ends with the same
    trials as a run that was never interrupted."""
    spec = SweepSpec(tuple(parse_grid(GRID)), objective="return", search=method, budget=20, seed=11)
    data = DataSpec("BTC_USDT", file=str(candles_file))
    with make_executor(data, TrialSettings("BTC_USDT"), 1) as executor:
        whole = Sweep(spec, build, executor).run()  # type: ignore[arg-type]
        recorded = {t.number: t for t in whole.trials if t.number < 9}
        ran: list[int] = []
        resumed = Sweep(
            spec, build, executor, done=recorded, on_trial=lambda t: ran.append(t.number)
        ).run()  # type: ignore[arg-type]
    assert sorted(ran) == sorted(t.number for t in whole.trials if t.number >= 9)
    assert resumed.as_json()["trials"] == whole.as_json()["trials"]
    assert resumed.as_json()["skipped"] == whole.as_json()["skipped"]

"""A sweep: which parameter sets to try (a grid, or an Optuna random/TPE search), the trials'
records, and the ranking.

Trials are numbered in the order the search proposes them; a sweep given the records of trials
it already ran (a resumed session) re-proposes the same sets and uses those records instead of
running them again. Searches are reproducible: an Optuna search asks for trials in rounds of a
fixed size and reports each round's results in trial order, so the same seed proposes the same
trials whatever the number of workers or the order in which trials finish.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any, Literal

from papertape.domain.errors import InvalidStrategyParams, ValidationFailed
from papertape.domain.grid import Axis, combinations
from papertape.engine.core import StrategyPlan
from papertape.research.executors import TrialExecutor
from papertape.research.objectives import check_objective, score
from papertape.research.trials import Outcome, Window

Search = Literal["grid", "random", "tpe"]
SEARCHES: tuple[str, ...] = ("grid", "random", "tpe")
ROUND = 8  # trials an Optuna search proposes before it hears back


@dataclass(frozen=True, slots=True)
class Trial:
    """One parameter set's result: metrics (as ``papertape backtest --json``), or the reason the
    strategy refused the parameters. ``engine`` says what computed the metrics: the vectorised
    fast path or the event engine (``None`` for a trial recorded before that was kept)."""

    number: int
    params: dict[str, Any]
    metrics: dict[str, Any] | None = None
    error: str | None = None
    score: float | None = None
    engine: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.metrics is None:
            return {"params": self.params, "error": self.error}
        if self.engine is None:
            return {"params": self.params, "metrics": self.metrics}
        return {"params": self.params, "metrics": self.metrics, "engine": self.engine}


@dataclass(frozen=True, slots=True)
class SweepSpec:
    axes: tuple[Axis, ...]
    objective: str = "sharpe"
    min_trades: int = 0
    search: Search = "grid"
    budget: int | None = None  # trials of a random/TPE search
    seed: int | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)  # parameters every trial shares

    def __post_init__(self) -> None:
        check_objective(self.objective)
        if not self.axes:
            raise ValidationFailed(
                "a sweep needs at least one --grid parameter",
                details=[{"field": "grid", "message": "no parameter to sweep"}],
            )
        if self.search not in SEARCHES:
            raise ValidationFailed(
                f"unknown search {self.search!r} (known: {', '.join(SEARCHES)})",
                details=[{"field": "search", "message": "unknown search"}],
            )
        if self.search != "grid" and not self.budget:
            raise ValidationFailed(
                f"a {self.search} search needs a budget of trials (--trials N, sweep.trials)",
                details=[{"field": "trials", "message": "a budget is needed"}],
            )

    @property
    def total(self) -> int:
        if self.search == "grid":
            total = 1
            for axis in self.axes:
                total *= len(axis.values)
            return total
        return self.budget or 0


@dataclass(slots=True)
class SweepResult:
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ran(self) -> list[Trial]:
        return sorted((t for t in self.trials if t.metrics is not None), key=lambda t: t.number)

    @property
    def skipped(self) -> list[Trial]:
        return sorted((t for t in self.trials if t.metrics is None), key=lambda t: t.number)

    @property
    def best(self) -> Trial | None:
        return best_of(self.trials)

    def as_json(self) -> dict[str, Any]:
        """The documented output of ``papertape sweep --json``."""
        best = self.best
        return {
            "trials": [t.as_json() for t in self.ran],
            "skipped": [t.as_json() for t in self.skipped],
            "best": best.as_json() if best is not None else None,
            "seconds": self.seconds,
        }


def best_of(trials: Sequence[Trial]) -> Trial | None:
    scored = [t for t in trials if t.score is not None]
    return max(scored, key=lambda t: (t.score, -t.number)) if scored else None


PlanFor = Callable[[dict[str, Any]], StrategyPlan]


class Sweep:
    """Runs a ``SweepSpec`` on an executor. ``plan_for`` turns a parameter set into a validated
    plan (raising ``ValidationFailed`` when the strategy refuses it); ``done`` are the records of
    trials run before (by number); ``on_trial`` hears of each new record as it arrives; ``window``
    limits the trials to the rows of a time window (walk-forward training)."""

    def __init__(
        self,
        spec: SweepSpec,
        plan_for: PlanFor,
        executor: TrialExecutor,
        *,
        done: Mapping[int, Trial] | None = None,
        on_trial: Callable[[Trial], None] | None = None,
        window: Window | None = None,
    ):
        self.spec = spec
        self.plan_for = plan_for
        self.executor = executor
        self.done = dict(done or {})
        self.on_trial = on_trial
        self.window = window
        self.result = SweepResult(list(self.done.values()))
        self.stopped = False

    def stop(self) -> None:
        """Stop proposing and running trials (from any thread): ``run`` returns soon after with
        the trials finished so far; a trial still running in a worker is dropped."""
        self.stopped = True
        self.executor.close()

    def run(self) -> SweepResult:
        began = time.perf_counter()
        if self.spec.search == "grid":
            self._round(list(enumerate(combinations(self.spec.axes))))
        else:
            self._optuna()
        self.result.seconds = time.perf_counter() - began
        return self.result

    def _round(self, proposed: Sequence[tuple[int, dict[str, Any]]]) -> list[Trial]:
        """Run the proposed trials not already done; the round's records in trial order."""
        records: dict[int, Trial] = {n: self.done[n] for n, _ in proposed if n in self.done}
        jobs: list[tuple[int, StrategyPlan]] = []
        params_of = {n: {**self.spec.fixed, **swept} for n, swept in proposed}
        for number, _ in proposed:
            if number in records:
                continue
            params = params_of[number]
            try:
                jobs.append((number, self.plan_for(params)))
            except InvalidStrategyParams as exc:
                records[number] = self._record(Trial(number, params, error=exc.message))
        for number, (metrics, engine) in self._execute(jobs):
            trial = Trial(
                number,
                params_of[number],
                metrics,
                score=score(metrics, self.spec.objective, self.spec.min_trades),
                engine=engine,
            )
            records[number] = self._record(trial)
        return [records[n] for n, _ in proposed if n in records]

    def _execute(self, jobs: list[tuple[int, StrategyPlan]]) -> Iterator[tuple[int, Outcome]]:
        if not jobs or self.stopped:
            return
        try:
            for result in self.executor.map_unordered(jobs, self.window):
                if self.stopped:
                    return
                yield result
        except CancelledError:
            if not self.stopped:
                raise

    def _record(self, trial: Trial) -> Trial:
        self.done[trial.number] = trial
        self.result.trials.append(trial)
        if self.on_trial is not None:
            self.on_trial(trial)
        return trial

    def _optuna(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler: optuna.samplers.BaseSampler = (
            optuna.samplers.RandomSampler(seed=self.spec.seed)
            if self.spec.search == "random"
            else optuna.samplers.TPESampler(seed=self.spec.seed)
        )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        distributions = {a.name: _distribution(a) for a in self.spec.axes}
        budget = self.spec.budget or 0
        number = 0
        while number < budget and not self.stopped:
            asked = [
                study.ask(fixed_distributions=distributions)
                for _ in range(min(ROUND, budget - number))
            ]
            proposed = [(number + i, dict(t.params)) for i, t in enumerate(asked)]
            records = {t.number: t for t in self._round(proposed)}
            for n, optuna_trial in enumerate(asked, start=number):
                trial = records.get(n)
                if trial is None:  # stopped before it ran
                    return
                if trial.score is None:
                    study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(optuna_trial, trial.score)
            number += len(asked)


def _distribution(axis: Axis) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if not axis.is_range:
        return CategoricalDistribution(list(axis.values))
    assert axis.low is not None and axis.high is not None and axis.step is not None
    if axis.is_int:
        return IntDistribution(int(axis.low), int(axis.values[-1]), step=int(axis.step))
    return FloatDistribution(axis.low, float(axis.values[-1]), step=axis.step)

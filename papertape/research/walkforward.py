"""Walk-forward optimisation: on each window, sweep the training part, run the best training
trial on the test part that follows it, and stitch the test parts into one out-of-sample run.

Windows are ``rolling`` (the training part slides by the test length) or ``anchored`` (training
always starts at the data's start and grows). The last test part may be shorter than the others
(it ends with the data). The stitched run carries each test part's final equity into the next
as its starting cash; a position still open at a test part's end is valued at its last price.
In-sample figures are the best training trials'; comparing them with the out-of-sample ones
shows how much of the optimum was fitted to noise.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from papertape.domain.errors import ValidationFailed
from papertape.domain.market import MICROS
from papertape.domain.metrics import compute as compute_metrics
from papertape.domain.numbers import finite
from papertape.domain.portfolio import RoundTrip
from papertape.research.data import MarketRows, time_span
from papertape.research.executors import TrialExecutor
from papertape.research.objectives import score
from papertape.research.sweep import PlanFor, Sweep, SweepSpec, Trial
from papertape.research.trials import TrialSettings, backtest, window_rows

UNITS = {"m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}
EQUITY_POINTS = 2_000  # points of the stitched equity curve in the output


@dataclass(frozen=True, slots=True)
class WalkForward:
    train: int  # µs
    test: int  # µs
    mode: Literal["rolling", "anchored"] = "rolling"
    text: str = ""

    def windows(self, start: int, end: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """``((train_start, train_end), (test_start, test_end))`` over ``[start, end)``."""
        result = []
        train_end = start + self.train
        while train_end < end:
            train_start = start if self.mode == "anchored" else train_end - self.train
            result.append(((train_start, train_end), (train_end, min(train_end + self.test, end))))
            train_end += self.test
        return result


def _duration(text: str, whole: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not match or int(match.group(1)) == 0:
        raise _refuse(whole, f"{text!r} is not a duration like 30m, 12h, 14d or 2w")
    return int(match.group(1)) * UNITS[match.group(2)] * MICROS


def _refuse(text: str, why: str) -> ValidationFailed:
    return ValidationFailed(
        f"--walk-forward {text!r}: {why}",
        details=[{"field": "walk_forward", "message": why}],
    )


def parse_walk_forward(text: str) -> WalkForward:
    """``train=14d,test=7d`` (rolling), with ``,anchored`` (or ``mode=anchored``) to anchor."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep and key in ("rolling", "anchored"):
            key, value = "mode", key
        fields[key] = value.strip()
    unknown = set(fields) - {"train", "test", "mode"}
    if unknown or "train" not in fields or "test" not in fields:
        raise _refuse(text, "write train=14d,test=7d[,anchored]")
    mode = fields.get("mode", "rolling")
    if mode not in ("rolling", "anchored"):
        raise _refuse(text, "mode is rolling or anchored")
    return WalkForward(
        _duration(fields["train"], text),
        _duration(fields["test"], text),
        mode,  # type: ignore[arg-type]
        text,
    )


@dataclass(slots=True)
class WindowResult:
    train: tuple[int, int]
    test: tuple[int, int]
    best: Trial | None
    trials: int
    test_metrics: dict[str, Any] | None = None
    test_score: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "train": {"start_ts": self.train[0], "end_ts": self.train[1]},
            "test": {"start_ts": self.test[0], "end_ts": self.test[1]},
            "trials": self.trials,
            "best": None if self.best is None else self.best.as_json(),
            "in_sample_score": None if self.best is None else self.best.score,
            "test_metrics": self.test_metrics,
            "test_score": self.test_score,
        }


@dataclass(slots=True)
class WalkForwardResult:
    plan: WalkForward
    objective: str
    windows: list[WindowResult] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    equity: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        scored = [w for w in self.windows if w.best is not None]
        in_sample = [w.best.score for w in scored if w.best and w.best.score is not None]
        in_return = [
            w.best.metrics["total_return_pct"] for w in scored if w.best and w.best.metrics
        ]
        report: dict[str, Any] = finite(
            {
                "walk_forward": {
                    "train_us": self.plan.train,
                    "test_us": self.plan.test,
                    "mode": self.plan.mode,
                    "objective": self.objective,
                },
                "windows": [w.as_json() for w in self.windows],
                "in_sample": {
                    "mean_score": sum(in_sample) / len(in_sample) if in_sample else None,
                    "mean_return_pct": sum(in_return) / len(in_return) if in_return else None,
                },
                "out_of_sample": {
                    "metrics": self.metrics,
                    "score": self.metrics_score(),
                    "equity": [list(p) for p in _thin(self.equity, EQUITY_POINTS)],
                },
                "seconds": self.seconds,
            }
        )
        return report

    def metrics_score(self) -> float | None:
        return None if self.metrics is None else score(self.metrics, self.objective)


def _thin(points: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    if len(points) <= limit:
        return points
    step = len(points) / limit
    picked = [points[math.floor(i * step)] for i in range(limit - 1)]
    return [*picked, points[-1]]


def walk_forward(
    plan: WalkForward,
    spec: SweepSpec,
    plans: PlanFor,
    executor: TrialExecutor,
    rows: MarketRows,
    settings: TrialSettings,
    on_window: Callable[[WindowResult], None] | None = None,
) -> WalkForwardResult:
    """Run the walk-forward ``plan`` with the sweep ``spec`` on ``rows`` (time-ordered; the test
    backtests run here, the training sweeps on ``executor``)."""
    began = time.perf_counter()
    windows = plan.windows(*time_span(rows))
    if not windows:
        raise ValidationFailed(
            f"the data spans less than one training window ({plan.text})",
            details=[{"field": "walk_forward", "message": "no complete training window"}],
        )
    result = WalkForwardResult(plan, spec.objective)
    cash = settings.cash
    points: list[tuple[int, float]] = []
    trips: list[RoundTrip] = []
    fees = 0.0
    for train, test in windows:
        sweep = Sweep(spec, plans, executor, window=train).run()
        window = WindowResult(train, test, sweep.best, len(sweep.trials))
        test_rows = window_rows(rows, test)
        if sweep.best is not None and test_rows:
            run = backtest(test_rows, plans(sweep.best.params), _with_cash(settings, cash))
            window.test_metrics = finite(run.metrics)
            window.test_score = score(run.metrics, spec.objective)
            points.extend(run.engine.equity_curve)
            trips.extend(run.engine.portfolio.trips)
            fees += run.engine.portfolio.fees
            cash = run.metrics["final_equity"]
        result.windows.append(window)
        if on_window is not None:
            on_window(window)
    if points:
        result.metrics = finite(
            compute_metrics(initial=settings.cash, points=points, trips=trips, fees=fees)
        )
    result.equity = points
    result.seconds = time.perf_counter() - began
    return result


def _with_cash(settings: TrialSettings, cash: float) -> TrialSettings:
    return replace(settings, cash=cash)

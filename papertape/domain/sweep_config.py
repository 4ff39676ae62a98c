"""The ``sweep`` part of a session config (``mode: "sweep"``): which parameters to sweep and how
to rank the trials. The strategy is the session's one strategy (its ``params`` are fixed for
every trial), the data its replay dataset, the symbol its one symbol."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from papertape.domain.errors import ValidationFailed
from papertape.domain.grid import MAX_AXIS, Axis, parse_axis

MAX_TRIALS = 100_000

# the objectives papertape.research.objectives computes (it checks that the two agree)
Objective = Literal["return", "sharpe", "sortino", "calmar", "profit_factor", "win_rate"]


class SweepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grid: dict[str, str | list[Any]] = Field(
        min_length=1,
        max_length=10,
        description='per parameter "low:high:step" (inclusive) or a list of values, e.g. '
        '{"fast": "5:50:5", "slow": [30, 60, 90]}',
        examples=[{"fast": "5:50:5", "slow": "30:210:20"}],
    )
    objective: Objective = Field("sharpe", description="what ranks the trials (maximised)")
    min_trades: int = Field(0, ge=0, description="trials with fewer trades cannot be the best")
    search: Literal["grid", "random", "tpe"] = Field(
        "grid", description="every set of the grid, or an Optuna search of `trials` sets"
    )
    trials: int | None = Field(None, ge=1, le=MAX_TRIALS, description="random/tpe budget")
    seed: int | None = Field(
        None, ge=0, le=2**32 - 1, description="random/tpe seed (chosen and kept when omitted)"
    )
    workers: int | None = Field(
        None,
        ge=1,
        le=256,
        description="cores to use (all by default); helper processes start only when they pay",
    )

    def axes(self) -> tuple[Axis, ...]:
        return tuple(
            parse_axis(f"{name}={spec}") if isinstance(spec, str) else Axis(name, tuple(spec))
            for name, spec in self.grid.items()
        )

    @property
    def total(self) -> int:
        """How many trials the sweep runs: the whole grid, or the search's budget."""
        if self.search != "grid":
            return self.trials or 0
        total = 1
        for axis in self.axes():
            total *= len(axis.values)
        return total

    @model_validator(mode="after")
    def _checked(self) -> SweepConfig:
        try:
            axes = self.axes()
        except ValidationFailed as exc:
            raise ValueError(exc.message) from None
        if any(not a.values or len(a.values) > MAX_AXIS for a in axes):
            raise ValueError("every swept parameter needs 1 to 100000 values")
        if self.total > MAX_TRIALS:
            raise ValueError(f"{self.total} trials; at most {MAX_TRIALS} per sweep")
        if self.search != "grid" and self.seed is None:
            self.seed = secrets.randbits(32)  # kept in the config: a resumed search re-proposes
        return self

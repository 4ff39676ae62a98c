"""What a sweep ranks its trials by. Every objective is maximised; a trial with fewer closed
trades than ``min_trades`` (or whose objective is undefined, e.g. a Sharpe ratio without returns)
has no score and cannot be the best."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, get_args

from papertape.domain.errors import ValidationFailed
from papertape.domain.market import MICROS
from papertape.domain.sweep_config import Objective

YEAR = 365 * 86_400 * MICROS


def calmar(metrics: dict[str, Any]) -> float | None:
    """Annualised (compound) return over the maximum drawdown, both in percent."""
    start, end = metrics.get("start_ts"), metrics.get("end_ts")
    initial, final = metrics.get("initial_equity"), metrics.get("final_equity")
    drawdown = metrics.get("max_drawdown_pct")
    if start is None or end is None or end <= start or not initial or final is None or not drawdown:
        return None
    if final <= 0:
        return -100.0 / drawdown
    annual = (final / initial) ** (YEAR / (end - start)) - 1
    return annual * 100 / drawdown if math.isfinite(annual) else None


def _metric(key: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda metrics: metrics.get(key)


OBJECTIVES: dict[str, Callable[[dict[str, Any]], float | None]] = {
    "return": _metric("total_return_pct"),
    "sharpe": _metric("sharpe"),
    "sortino": _metric("sortino"),
    "calmar": calmar,
    "profit_factor": _metric("profit_factor"),
    "win_rate": _metric("win_rate_pct"),
}
# the session config's ``objective`` choices (papertape.domain.sweep_config) are these
assert set(get_args(Objective)) == set(OBJECTIVES)


def check_objective(name: str) -> str:
    if name not in OBJECTIVES:
        raise ValidationFailed(
            f"unknown objective {name!r} (known: {', '.join(OBJECTIVES)})",
            details=[{"field": "objective", "message": f"unknown objective {name!r}"}],
        )
    return name


def score(metrics: dict[str, Any], objective: str, min_trades: int = 0) -> float | None:
    if metrics.get("trades", 0) < min_trades:
        return None
    value = OBJECTIVES[objective](metrics)
    if value is None or not math.isfinite(value):
        return None
    return float(value)

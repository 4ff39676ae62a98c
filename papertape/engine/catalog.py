"""The strategies a session can run, with their parameter schemas.

``validate_strategies`` runs at session start (a bad name or parameter is a ``422`` before the
session exists); ``list_strategies`` backs ``GET /strategies``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from papertape.domain.errors import UnknownStrategy
from papertape.sessions.config import StrategySpec

_STRATEGIES: dict[str, Any] = {}


def list_strategies() -> list[dict[str, Any]]:
    return []


def validate_strategies(specs: Sequence[StrategySpec]) -> list[StrategySpec]:
    for spec in specs:
        if spec.name not in _STRATEGIES:
            raise UnknownStrategy(
                f"unknown strategy {spec.name!r}",
                details=[{"field": "strategies", "message": f"unknown strategy {spec.name!r}"}],
            )
    return list(specs)

"""The strategy side of a sweep: one strategy name, looked up once (a saved strategy in the
store), turned into a validated plan for each parameter set the sweep proposes."""

from __future__ import annotations

from typing import Any

from papertape.domain.config import StrategySpec
from papertape.engine.core import StrategyPlan
from papertape.research.sweep import PlanFor
from papertape.sessions.strategy_catalog import RULE_EXAMPLES, STRATEGY_CLASSES, plan_for


def needs_store(name: str) -> bool:
    """A strategy that is neither built in nor an example is a saved one."""
    return name not in STRATEGY_CLASSES and name not in RULE_EXAMPLES


async def sweep_plans(store: Any, name: str) -> PlanFor:
    """``params → StrategyPlan`` for the strategy ``name``. An unknown name raises
    ``UnknownStrategy`` now; parameters the strategy refuses raise ``InvalidStrategyParams``
    per set (a sweep lists those as skipped)."""
    saved = await store.get_strategy(name) if needs_store(name) and store is not None else None
    if needs_store(name) and saved is None:
        plan_for(StrategySpec(name=name), None)  # raises UnknownStrategy with the known names

    def build(params: dict[str, Any]) -> StrategyPlan:
        return plan_for(StrategySpec(name=name, params=params), saved)

    return build

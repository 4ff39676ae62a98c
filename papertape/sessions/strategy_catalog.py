"""The strategies a session can run, with their parameter schemas.

A strategy spec names one of:
- a built-in class (``sma_cross``, ``rsi_reversion``, ``breakout``, ``rules``) — ``params`` are its
  typed parameters;
- a rule example (``ema_trend``, ...) — a ``rules`` definition; ``params`` override its fields;
- a strategy a user saved (``POST /strategies``) — its stored base and parameters, overridden by
  ``params`` the same way.

``validate_strategies`` (sync: built-ins and examples) and ``resolve_strategies`` (async: also
saved strategies, through the store) run at session start, so a bad name or parameter is a
``422`` before the session exists; ``list_strategies`` backs ``GET /strategies``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from papertape.domain.config import StrategySpec
from papertape.domain.errors import InvalidStrategyParams, UnknownStrategy, ValidationFailed
from papertape.domain.rules import RuleStrategy
from papertape.domain.strategy import ParamConflict, Strategy
from papertape.engine.core import StrategyPlan
from papertape.store.base import StrategyStore
from papertape.strategies.builtin import BUILTINS
from papertape.strategies.examples import RULE_EXAMPLES

_CLASSES: tuple[type[Strategy[Any]], ...] = (*BUILTINS, RuleStrategy)
STRATEGY_CLASSES: dict[str, type[Strategy[Any]]] = {cls.name: cls for cls in _CLASSES}


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(["params", *(str(p) for p in loc)])


def _param_error(error: Any) -> dict[str, str]:
    """One pydantic error as ``{field, message}``; a ``ParamConflict`` names the parameter to
    change instead of the whole ``params`` object."""
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ParamConflict):
        return {"field": _field((*error["loc"], cause.field)), "message": str(cause)}
    return {"field": _field(error["loc"]), "message": error["msg"]}


def build_plan(name: str, base: str, params: dict[str, Any]) -> StrategyPlan:
    """Validate ``params`` for the class ``base``; ``name`` is how the strategy reports."""
    cls = STRATEGY_CLASSES.get(base)
    if cls is None:
        raise _unknown(name)
    try:
        model = cls.Params.model_validate(params)
    except ValidationError as exc:
        details = [_param_error(e) for e in exc.errors(include_url=False)]
        raise InvalidStrategyParams(
            f"invalid parameters for strategy {name!r}: "
            + "; ".join(f"{d['field']}: {d['message']}" for d in details),
            details=details,
        ) from None
    return StrategyPlan(cls, model, name)


def _unknown(name: str) -> UnknownStrategy:
    known = ", ".join(sorted([*STRATEGY_CLASSES, *RULE_EXAMPLES]))
    return UnknownStrategy(
        f"unknown strategy {name!r} (known: {known}, or a saved strategy's name)",
        details=[{"field": "strategies", "message": f"unknown strategy {name!r}"}],
    )


def plan_for(spec: StrategySpec, saved: Any = None) -> StrategyPlan:
    """The runnable plan of ``spec``; ``saved`` is the ``SavedStrategy`` it names, if any."""
    if spec.name in STRATEGY_CLASSES:
        return build_plan(spec.name, spec.name, spec.params)
    if spec.name in RULE_EXAMPLES:
        definition = {**RULE_EXAMPLES[spec.name]["definition"], **spec.params}
        return build_plan(spec.name, RuleStrategy.name, definition)
    if saved is not None:
        return build_plan(spec.name, saved.base, {**saved.params, **spec.params})
    raise _unknown(spec.name)


def validate_strategies(specs: Sequence[StrategySpec]) -> list[StrategySpec]:
    """Check built-in and example specs (raises ``UnknownStrategy`` for any other name)."""
    for spec in specs:
        plan_for(spec)
    return list(specs)


async def resolve_strategies(
    store: StrategyStore | None, specs: Sequence[StrategySpec], market_type: str | None = None
) -> list[StrategyPlan]:
    """Every spec's plan, looking saved strategies up in ``store``. With ``market_type="spot"``
    a strategy whose parameters let it go short is refused."""
    plans = []
    for index, spec in enumerate(specs):
        saved = None
        if (
            spec.name not in STRATEGY_CLASSES
            and spec.name not in RULE_EXAMPLES
            and store is not None
        ):
            saved = await store.get_strategy(spec.name)
        try:
            plan = plan_for(spec, saved)
        except ValidationFailed as exc:
            raise _located(exc, index) from None
        if market_type == "spot" and plan.cls.can_short(plan.params):
            raise InvalidStrategyParams(
                f"strategy {spec.name!r} can go short, which spot trading cannot: set "
                "market.market_type to 'swap' or change its parameters",
                details=[
                    {
                        "field": f"strategies.{index}.params",
                        "message": "shorts need market_type swap",
                    }
                ],
            )
        plans.append(plan)
    return plans


def strategy_param_errors(body: Any) -> list[dict[str, Any]]:
    """The parameter errors of the built-in and example strategies in a raw start request, so
    a request refused for other fields reports these in the same answer (all errors at once,
    not one round trip each). Saved strategies need the store and are checked at start."""
    raw = body.get("strategies") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        return []
    details: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("params", {}), dict):
            continue
        name = item.get("name")
        if not isinstance(name, str) or (
            name not in STRATEGY_CLASSES and name not in RULE_EXAMPLES
        ):
            continue
        try:
            plan_for(StrategySpec(name=name, params=item.get("params", {})))
        except ValidationFailed as exc:
            details.extend(_located(exc, index).details or [])
    return details


def _located(error: ValidationFailed, index: int) -> ValidationFailed:
    """The same error with its fields named by their place in the start request's body
    (``strategies.1.params.fast``, ``strategies.0.name``), so a form can show it on the field."""
    prefix = f"strategies.{index}"
    details = [
        {
            **item,
            "field": f"{prefix}.name"
            if item.get("field") == "strategies"
            else f"{prefix}.{item.get('field')}",
        }
        for item in (error.details or [])
    ]
    return type(error)(error.message, session_id=error.session_id, details=details)


def list_strategies(saved: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Built-ins with their parameter JSON schemas, the rule examples and the saved
    strategies (``saved``: ``SavedStrategy`` rows)."""
    result: list[dict[str, Any]] = []
    for name, cls in STRATEGY_CLASSES.items():
        result.append(
            {
                "name": name,
                "kind": "builtin",
                "base": name,
                "description": cls.description,
                "params_schema": cls.Params.model_json_schema(),
            }
        )
    for name, example in RULE_EXAMPLES.items():
        result.append(
            {
                "name": name,
                "kind": "example",
                "base": RuleStrategy.name,
                "description": example["description"],
                "params": example["definition"],
            }
        )
    for row in saved:
        result.append(
            {
                "name": row.name,
                "kind": "saved",
                "base": row.base,
                "description": row.description,
                "params": row.params,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
            }
        )
    return result


def check_saveable(name: str, base: str, params: dict[str, Any]) -> StrategyPlan:
    """Validate a strategy a user wants to save (``POST /strategies``)."""
    if name in STRATEGY_CLASSES or name in RULE_EXAMPLES:
        raise InvalidStrategyParams(
            f"{name!r} is a built-in strategy's name: choose another",
            details=[{"field": "name", "message": "reserved by a built-in"}],
        )
    if base in RULE_EXAMPLES:
        params = {**RULE_EXAMPLES[base]["definition"], **params}
        base = RuleStrategy.name
    return build_plan(name, base, params)

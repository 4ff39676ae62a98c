"""Parameter grids as the CLI writes them: ``fast=5:50:5`` (5 to 50 inclusive, step 5) or
``fast=5,10,20`` (a list), and the cartesian product of several."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from papertape.domain.errors import ValidationFailed

MAX_AXIS = 100_000  # values per parameter: a typo in a step must not allocate gigabytes


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept parameter. ``low``/``high``/``step`` are kept for a range (Optuna searches
    sample it); a list has ``values`` only."""

    name: str
    values: tuple[Any, ...]
    low: float | None = None
    high: float | None = None
    step: float | None = None

    @property
    def is_range(self) -> bool:
        return self.step is not None

    @property
    def is_int(self) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in self.values)

    def as_json(self) -> dict[str, Any]:
        if self.is_range:
            return {"name": self.name, "low": self.low, "high": self.high, "step": self.step}
        return {"name": self.name, "values": list(self.values)}


def _refuse(text: str, why: str) -> ValidationFailed:
    return ValidationFailed(
        f"grid {text!r}: {why}", details=[{"field": "grid", "message": f"{text}: {why}"}]
    )


def _number(text: str, whole: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _refuse(whole, f"{text!r} is not a number") from None
    if not value.is_finite():
        raise _refuse(whole, f"{text!r} is not a finite number")
    return value


def _plain(value: Decimal, integral: bool) -> int | float:
    return int(value) if integral else float(value)


def _range(name: str, spec: str, whole: str) -> Axis:
    parts = spec.split(":")
    if len(parts) != 3:
        raise _refuse(whole, "a range is low:high:step")
    low, high, step = (_number(p, whole) for p in parts)
    if step <= 0:
        raise _refuse(whole, "the step must be positive")
    if high < low:
        raise _refuse(whole, "high is below low")
    count = int((high - low) / step) + 1
    if count > MAX_AXIS:
        raise _refuse(whole, f"{count} values; at most {MAX_AXIS} per parameter")
    integral = all(v == v.to_integral_value() and "." not in str(v) for v in (low, high, step))
    values = tuple(_plain(low + i * step, integral) for i in range(count))
    return Axis(name, values, float(low), float(high), float(step))


def _item(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


def parse_axis(text: str) -> Axis:
    """``name=low:high:step`` (inclusive), ``name=a,b,c`` or ``name=value``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise _refuse(text, "write name=low:high:step or name=a,b,c")
    if ":" in spec:
        return _range(name, spec, text)
    values = tuple(_item(v) for v in spec.split(","))
    if any(v == "" for v in values):
        raise _refuse(text, "an empty value in the list")
    return Axis(name, values)


def parse_grid(texts: Sequence[str]) -> list[Axis]:
    axes = [parse_axis(t) for t in texts]
    names = [a.name for a in axes]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationFailed(
            f"the grid names {', '.join(repeated)} more than once",
            details=[{"field": "grid", "message": f"repeated: {', '.join(repeated)}"}],
        )
    return axes


def combinations(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every parameter set of the grid, the first axis varying slowest."""
    return [
        dict(zip([a.name for a in axes], combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]

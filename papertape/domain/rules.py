"""Declarative rule strategies: the JSON the dashboard's strategy builder edits.

    {
      "indicators": {"fast": {"type": "ema", "period": 12}, "slow": {"type": "ema", "period": 26},
                     "rsi": {"type": "rsi", "period": 14}},
      "entry": {"all": [{"left": "fast", "op": "crosses_above", "right": "slow"},
                        {"not": {"left": "rsi", "op": ">", "right": 70}}]},
      "exit": {"any": [{"left": "fast", "op": "crosses_below", "right": "slow"}]},
      "direction": "long",
      "sizing": {"mode": "all_in"},
      "stop_loss_pct": 2, "take_profit_pct": 5, "trailing_stop_pct": 1.5,
      "cooldown_bars": 3, "bar_interval": 60
    }

Every field is enforced: conditions are evaluated on each closed bar (``all`` = AND, ``any`` =
OR, ``not``); operands are indicator names (``"macd.signal"`` for a second output), bar fields
(``open high low close volume``) or numbers; ``crosses_above`` means below-or-equal on the
previous bar and above on this one. The entry fires only when flat and out of cooldown; the exit
closes at market. Stop-loss and take-profit are real orders on the venue (a reduce-only stop and
a reduce-only limit, one cancelling the other); a trailing stop moves the stop up (down for a
short) after each bar. ``cooldown_bars`` bars must close after an exit before the next entry.
A field the engine cannot enforce is rejected at validation (unknown fields included).
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import ConfigDict, Field, model_validator

from papertape.domain.config import ClosedModel
from papertape.domain.indicators import INDICATORS, Indicator
from papertape.domain.market import BAR_FIELDS, BookSnapshot, Candle
from papertape.domain.orders import BUY, MARKET, SELL, Order
from papertape.domain.records import Fill
from papertape.domain.strategy import ParamConflict, Strategy, StrategyParams

COMPARISONS = (">", "<", ">=", "<=")
CROSSES = ("crosses_above", "crosses_below")
SINGLE_INPUTS = (("close",), ("volume",), ("close", "ts"))  # fed one bar field (and the time)


class IndicatorSpec(ClosedModel):
    type: Literal[tuple(INDICATORS)]  # type: ignore[valid-type]
    period: int | None = Field(None, ge=1, le=10_000)
    fast: int | None = Field(None, ge=1, le=10_000)
    slow: int | None = Field(None, ge=2, le=10_000)
    signal: int | None = Field(None, ge=1, le=10_000)
    k: float | None = Field(None, gt=0, le=10)
    levels: int | None = Field(None, ge=1, le=100)
    source: Literal["open", "high", "low", "close", "volume"] | None = Field(
        None,
        description="the bar field fed to a single-input indicator (default: close, or "
        "volume for volume_surge)",
    )

    @model_validator(mode="after")
    def _only_its_parameters(self) -> IndicatorSpec:
        cls, accepted = INDICATORS[self.type]
        for name in ("period", "fast", "slow", "signal", "k", "levels"):
            if getattr(self, name) is not None and name not in accepted:
                raise ValueError(f"a {self.type} indicator has no {name!r} parameter")
        if self.source is not None and cls.inputs not in SINGLE_INPUTS:
            raise ValueError(
                f"a {self.type} indicator takes no 'source': it reads {', '.join(cls.inputs)}"
            )
        return self

    @property
    def field(self) -> str:
        """The bar field a single-input indicator is fed."""
        return self.source or INDICATORS[self.type][0].inputs[0]

    def build(self) -> Indicator:
        cls, accepted = INDICATORS[self.type]
        kwargs = {n: getattr(self, n) for n in accepted if getattr(self, n) is not None}
        return cls(**kwargs)


Operand = Union[str, float]  # noqa: UP007  (pydantic schema reads clearer this way)


class Condition(ClosedModel):
    left: Operand
    op: Literal[">", "<", ">=", "<=", "crosses_above", "crosses_below"]
    right: Operand


class AllOf(ClosedModel):
    all: list[Node] = Field(min_length=1)


class AnyOf(ClosedModel):
    any: list[Node] = Field(min_length=1)


class NotOf(ClosedModel):
    not_: Node = Field(alias="not")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Node = Union[Condition, AllOf, AnyOf, NotOf]  # noqa: UP007
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


class Sizing(ClosedModel):
    mode: Literal["all_in", "fraction", "qty", "notional"] = "all_in"
    value: float | None = Field(
        None, gt=0, description="fraction (0-1], base qty, or quote notional, by mode"
    )

    @model_validator(mode="after")
    def _value_by_mode(self) -> Sizing:
        if self.mode == "all_in" and self.value is not None:
            raise ValueError("all_in sizing takes no value")
        if self.mode != "all_in" and self.value is None:
            raise ValueError(f"{self.mode} sizing needs a value")
        if self.mode == "fraction" and self.value is not None and self.value > 1:
            raise ValueError("a fraction is at most 1")
        return self


class RuleParams(StrategyParams):
    indicators: dict[str, IndicatorSpec] = Field(default_factory=dict)
    entry: Node
    exit: Node | None = None
    direction: Literal["long", "short"] = "long"
    sizing: Sizing = Field(default_factory=Sizing)
    stop_loss_pct: float | None = Field(None, gt=0, lt=100)
    take_profit_pct: float | None = Field(None, gt=0, le=10_000)
    trailing_stop_pct: float | None = Field(None, gt=0, lt=100)
    cooldown_bars: int = Field(0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _operands_exist(self) -> RuleParams:
        for name in self.indicators:
            if name in BAR_FIELDS or "." in name or not name:
                raise ValueError(f"indicator name {name!r} is reserved or malformed")
        rules = [("entry", self.entry)] + ([("exit", self.exit)] if self.exit else [])
        for root, node in rules:
            for path, condition in _located_conditions(node, root):
                for side in ("left", "right"):
                    problem = self._operand_problem(getattr(condition, side))
                    if problem:  # on the operand to change: entry.all.0.left
                        raise ParamConflict(f"{path}.{side}", problem)
        if self.exit is None and not (
            self.stop_loss_pct or self.take_profit_pct or self.trailing_stop_pct
        ):
            raise ValueError(
                "a rule strategy needs an exit rule or a stop-loss/take-profit/"
                "trailing stop, or it never leaves a position"
            )
        return self

    def _operand_problem(self, operand: Operand) -> str | None:
        if isinstance(operand, (int, float)) or operand in BAR_FIELDS:
            return None
        name, _, output = operand.partition(".")
        spec = self.indicators.get(name)
        if spec is None:
            return (
                f"operand {operand!r} is neither a defined indicator, a bar field "
                f"({', '.join(BAR_FIELDS)}) nor a number"
            )
        outputs = INDICATORS[spec.type][0].outputs
        if output and output not in outputs:
            return f"{spec.type} {name!r} has no output {output!r} (it has {', '.join(outputs)})"
        return None


def _located_conditions(node: Node, path: str) -> list[tuple[str, Condition]]:
    """Every condition under ``node`` with its path in the definition (``entry.all.1.not``)."""
    if isinstance(node, Condition):
        return [(path, node)]
    if isinstance(node, NotOf):
        return _located_conditions(node.not_, f"{path}.not")
    key, children = ("all", node.all) if isinstance(node, AllOf) else ("any", node.any)
    return [
        found
        for i, child in enumerate(children)
        for found in _located_conditions(child, f"{path}.{key}.{i}")
    ]


# indicators in the price's own units, drawn over the candles (RSI, MACD… are not)
PRICE_OVERLAYS = ("sma", "ema", "bollinger")


class RuleStrategy(Strategy[RuleParams]):
    name = "rules"
    description = (
        "A declarative strategy: entry/exit conditions over indicators (AND/OR/NOT), "
        "direction, sizing, stop-loss, take-profit, trailing stop and cooldown."
    )
    Params = RuleParams

    @classmethod
    def can_short(cls, params: RuleParams) -> bool:
        return params.direction == "short"

    @classmethod
    def chart_indicators(cls, params: RuleParams) -> dict[str, tuple[Indicator, str]]:
        return {
            name: (spec.build(), spec.field)
            for name, spec in params.indicators.items()
            if spec.type in PRICE_OVERLAYS
        }

    def on_start(self) -> None:
        p = self.params
        self.indicators = {name: spec.build() for name, spec in p.indicators.items()}
        self.sources = {name: spec.field for name, spec in p.indicators.items()}
        self.values: dict[str, float | None] = {}
        self.previous: dict[str, float | None] = {}
        self.cooldown = 0
        self.protect_stop: Order | None = None
        self.take_profit: Order | None = None
        self.extreme: float | None = None  # best price since entry, for the trailing stop

    # --- data -----------------------------------------------------------------------------
    def on_book(self, book: BookSnapshot) -> None:
        for indicator in self.indicators.values():
            if indicator.inputs == ("book",):
                indicator.update(book.bids, book.asks)

    def _update(self, bar: Candle) -> None:
        for name, indicator in self.indicators.items():
            inputs = indicator.inputs
            if inputs == ("close",) or inputs == ("volume",):
                indicator.update(getattr(bar, self.sources[name]))
            elif inputs == ("high", "low", "close"):
                indicator.update(bar.high, bar.low, bar.close)
            elif inputs == ("typical", "volume"):
                indicator.update((bar.high + bar.low + bar.close) / 3, bar.volume)
            elif inputs == ("close", "ts"):
                indicator.update(getattr(bar, self.sources[name]), bar.ts)
            # book indicators update from on_book
        self.previous = self.values
        self.values = {field: getattr(bar, field) for field in BAR_FIELDS}
        for name, indicator in self.indicators.items():
            for output in indicator.outputs:
                key = name if output == "value" else f"{name}.{output}"
                self.values[key] = indicator.output(output)

    def _operand(self, operand: Operand, values: dict[str, float | None]) -> float | None:
        if isinstance(operand, (int, float)):
            return float(operand)
        return values.get(operand)

    def _holds(self, node: Node) -> bool:
        if isinstance(node, Condition):
            left, right = (
                self._operand(node.left, self.values),
                self._operand(node.right, self.values),
            )
            if left is None or right is None:
                return False  # warming up: nothing is true yet
            op = node.op
            if op in CROSSES:
                before_left = self._operand(node.left, self.previous)
                before_right = self._operand(node.right, self.previous)
                if before_left is None or before_right is None:
                    return False
                if op == "crosses_above":
                    return before_left <= before_right and left > right
                return before_left >= before_right and left < right
            return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[
                op
            ]
        if isinstance(node, AllOf):
            return all(self._holds(n) for n in node.all)
        if isinstance(node, AnyOf):
            return any(self._holds(n) for n in node.any)
        return not self._holds(node.not_)

    # --- decisions ------------------------------------------------------------------------
    def on_bar(self, bar: Candle) -> None:
        self._update(bar)
        p = self.params
        held = self.position
        if held:
            self._trail(bar, held)
            if p.exit is not None and self._holds(p.exit):
                self.close(reason="rule_exit")
            return
        if self.cooldown > 0:
            self.cooldown -= 1
            return
        if self._holds(p.entry):
            side = BUY if p.direction == "long" else SELL
            mode, value = p.sizing.mode, p.sizing.value
            if mode == "all_in" or value is None:  # only all_in has no value (validated)
                self._order(side, MARKET, None, reason="rule_entry")
            elif mode == "fraction":
                self._order(side, MARKET, None, fraction=value, reason="rule_entry")
            elif mode == "qty":
                self._order(side, MARKET, value, reason="rule_entry")
            else:
                self._order(side, MARKET, value / bar.close, reason="rule_entry")

    def _trail(self, bar: Candle, held: float) -> None:
        p = self.params
        if not p.trailing_stop_pct or self.protect_stop is None:
            return
        long = held > 0
        best = bar.high if long else bar.low
        self.extreme = (
            best
            if self.extreme is None
            else (max(self.extreme, best) if long else min(self.extreme, best))
        )
        trail = (
            self.extreme * (1 - p.trailing_stop_pct / 100)
            if long
            else self.extreme * (1 + p.trailing_stop_pct / 100)
        )
        current = self.protect_stop.stop_price
        assert current is not None  # a stop order has its stop price
        if (trail > current) if long else (trail < current):
            self.broker.modify_stop(self.protect_stop, trail)

    def on_fill(self, fill: Fill, order: Order) -> None:
        held = self.position
        if held == 0:  # out: cancel the other leg, start the cooldown
            for leg in (self.protect_stop, self.take_profit):
                if leg is not None and leg.is_live:
                    self.cancel(leg)
            self.protect_stop = self.take_profit = None
            self.extreme = None
            self.cooldown = self.params.cooldown_bars
            return
        if order.reduce_only:
            return
        self._protect(held)

    def _protect(self, held: float) -> None:
        """Place (or resize, after a partial entry) the stop-loss and take-profit legs."""
        p = self.params
        entry = self.entry_price
        assert entry is not None  # called while a position is held
        long = held > 0
        exit_side = SELL if long else BUY
        for leg in (self.protect_stop, self.take_profit):
            if leg is not None and leg.is_live:
                self.cancel(leg)
        self.protect_stop = self.take_profit = None
        stops = []
        if p.stop_loss_pct:
            stops.append(
                entry * (1 - p.stop_loss_pct / 100) if long else entry * (1 + p.stop_loss_pct / 100)
            )
        if p.trailing_stop_pct:
            self.extreme = entry
            stops.append(
                entry * (1 - p.trailing_stop_pct / 100)
                if long
                else entry * (1 + p.trailing_stop_pct / 100)
            )
        if stops:
            level = max(stops) if long else min(stops)
            self.protect_stop = self.stop(
                exit_side, None, level, reduce_only=True, reason="stop_loss"
            )
        if p.take_profit_pct:
            level = (
                entry * (1 + p.take_profit_pct / 100)
                if long
                else entry * (1 - p.take_profit_pct / 100)
            )
            self.take_profit = self.limit(
                exit_side, None, level, reduce_only=True, reason="take_profit"
            )

    def state(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if k not in BAR_FIELDS}

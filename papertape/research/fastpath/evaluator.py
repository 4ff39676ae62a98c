"""Which trials the fast path takes, and a worker's caches: the candles of the current window
as arrays and each moving average computed on them."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Protocol

import numpy as np

from papertape.engine.core import StrategyPlan
from papertape.research.fastpath.account import run_signals
from papertape.research.fastpath.bars import Bars, bars_of
from papertape.research.fastpath.indicators import sma
from papertape.research.fastpath.sma_cross import crossings
from papertape.strategies.builtin import SmaCross


class Settings(Protocol):
    """What the fast path reads of ``papertape.research.trials.TrialSettings``."""

    @property
    def symbol(self) -> str: ...
    @property
    def cash(self) -> float: ...
    @property
    def taker(self) -> float: ...
    @property
    def slippage_bps(self) -> float: ...
    @property
    def market_type(self) -> str: ...
    @property
    def leverage(self) -> float: ...
    @property
    def bar_fill(self) -> str: ...


def refusal(plan: StrategyPlan, settings: Settings) -> str | None:
    """Why the fast path does not take this trial (``None``: it does, if the data suits it too,
    see ``bars_of``). Deliberately narrow: exactly the configurations it is proven on; every
    other strategy, venue setting or market runs on the event engine."""
    if plan.cls is not SmaCross:
        return f"strategy {plan.cls.name} has no fast path"
    params = plan.params
    assert isinstance(params, SmaCross.Params)
    if params.allow_short:
        return "short selling"
    if settings.market_type != "spot" or settings.leverage != 1:
        return "perpetuals and leverage (margin, liquidation, funding)"
    if settings.bar_fill != "next_open":
        return f"bar_fill {settings.bar_fill}"
    if settings.slippage_bps:
        return "slippage"
    return None


class FastPath:
    """One worker's vectorised evaluator for one dataset (one instance per dataset: its caches
    are keyed by the window only). The arrays and averages are kept for one window at a time (a
    sweep runs its trials window by window)."""

    def __init__(self) -> None:
        self._rows: tuple[Hashable, str] | None = None
        self._bars: Bars | None = None
        self._sma: dict[int, np.ndarray] = {}

    def metrics(
        self, rows: Sequence[Any], key: Hashable, plan: StrategyPlan, settings: Settings
    ) -> dict[str, Any] | None:
        """The trial's metrics on ``rows`` (which ``key`` names: the dataset's time window), or
        ``None`` when the fast path does not take it (the caller then runs the event engine)."""
        if refusal(plan, settings) is not None:
            return None
        bars = self._bars_for(rows, key, settings.symbol)
        params = plan.params
        assert isinstance(params, SmaCross.Params)
        if bars is None or params.bar_interval > bars.interval:
            return None  # not candles it can take, or bars built from several candles
        decisions = crossings(self._average(bars, params.fast), self._average(bars, params.slow))
        return run_signals(
            bars, decisions, cash=settings.cash, taker=settings.taker, fraction=params.fraction
        )

    def _bars_for(self, rows: Sequence[Any], key: Hashable, symbol: str) -> Bars | None:
        if self._rows != (key, symbol):
            self._rows, self._bars, self._sma = (key, symbol), bars_of(rows, symbol), {}
        return self._bars

    def _average(self, bars: Bars, period: int) -> np.ndarray:
        average = self._sma.get(period)
        if average is None:
            average = self._sma[period] = sma(bars, period)
        return average

"""Which trials the fast path takes, and a worker's caches: the candles of the current window
as arrays and each indicator (per kind and period) computed on them."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Protocol

import numpy as np

from papertape.engine.core import StrategyPlan
from papertape.research.fastpath.account import run_signals
from papertape.research.fastpath.bars import Bars, bars_of
from papertape.research.fastpath.breakout import run_breakout
from papertape.research.fastpath.decisions import crossings, reversions
from papertape.research.fastpath.indicators import ema, highest, rsi, sma, volume_surge
from papertape.strategies.builtin import Breakout, RsiReversion, SmaCross

STRATEGIES = (SmaCross, RsiReversion, Breakout)  # the strategies the fast path is proven on
INDICATORS = {"sma": sma, "rsi": rsi, "ema": ema, "surge": volume_surge, "highest": highest}


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
    if plan.cls.can_short(plan.params):
        return "short selling"
    if plan.cls not in STRATEGIES:
        return f"strategy {plan.cls.name} has no fast path"
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
        self._indicators: dict[tuple[str, int], np.ndarray] = {}

    def takes(
        self, rows: Sequence[Any], key: Hashable, plan: StrategyPlan, settings: Settings
    ) -> bool:
        """Whether ``metrics`` computes this trial (without computing it)."""
        return self._bars_taking(rows, key, plan, settings) is not None

    def metrics(
        self, rows: Sequence[Any], key: Hashable, plan: StrategyPlan, settings: Settings
    ) -> dict[str, Any] | None:
        """The trial's metrics on ``rows`` (which ``key`` names: the dataset's time window), or
        ``None`` when the fast path does not take it (the caller then runs the event engine)."""
        bars = self._bars_taking(rows, key, plan, settings)
        if bars is None:
            return None
        params = plan.params
        if isinstance(params, Breakout.Params):
            with np.errstate(invalid="ignore"):  # NaN (warming up) compares false
                enters = (self._indicator(bars, "surge", params.lookback) >= params.surge) & (
                    bars.close > self._indicator(bars, "highest", params.lookback)
                )
                exits = bars.close < self._indicator(bars, "ema", params.exit_ema)
            return run_breakout(
                bars,
                enters,
                exits,
                stop_loss_pct=params.stop_loss_pct,
                cash=settings.cash,
                taker=settings.taker,
                fraction=params.fraction,
            )
        if isinstance(params, SmaCross.Params):
            fast, slow = (
                self._indicator(bars, "sma", params.fast),
                self._indicator(bars, "sma", params.slow),
            )
            decisions = crossings(fast, slow)
        else:
            assert isinstance(params, RsiReversion.Params)
            values = self._indicator(bars, "rsi", params.period)
            decisions = reversions(values, params.oversold, params.overbought)
        return run_signals(
            bars, decisions, cash=settings.cash, taker=settings.taker, fraction=params.fraction
        )

    def _bars_taking(
        self, rows: Sequence[Any], key: Hashable, plan: StrategyPlan, settings: Settings
    ) -> Bars | None:
        if refusal(plan, settings) is not None:
            return None
        bars = self._bars_for(rows, key, settings.symbol)
        if bars is None or plan.params.bar_interval > bars.interval:
            return None  # not candles it can take, or bars built from several candles
        return bars

    def _bars_for(self, rows: Sequence[Any], key: Hashable, symbol: str) -> Bars | None:
        if self._rows != (key, symbol):
            self._rows, self._bars, self._indicators = (key, symbol), bars_of(rows, symbol), {}
        return self._bars

    def _indicator(self, bars: Bars, kind: str, period: int) -> np.ndarray:
        values = self._indicators.get((kind, period))
        if values is None:
            values = self._indicators[kind, period] = INDICATORS[kind](bars, period)
        return values

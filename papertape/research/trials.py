"""One trial: ``run_backtest`` with one parameter set, exactly as ``papertape backtest`` runs it,
or the vectorised fast path (``papertape.research.fastpath``) where it gives the same metrics.

Workers keep their dataset in ``_DATA`` (decoded once by ``init_worker``, with the fast path's
caches), so a trial ships only its strategy plan and gets back its metrics and which engine ran
it."""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from papertape.domain.liquidation import BANKRUPTCY, DEFAULT_LIQUIDATION_FEE, Tiers
from papertape.domain.numbers import finite
from papertape.domain.trade_columns import TradeColumns
from papertape.engine.backtest import BacktestResult, run_backtest
from papertape.engine.core import StrategyPlan
from papertape.research.data import DataSpec, MarketRows, load_rows
from papertape.research.fastpath import FastPath


@dataclass(frozen=True, slots=True)
class TrialSettings:
    """What every trial of a sweep shares (the options of ``papertape backtest``)."""

    symbol: str
    cash: float = 10_000.0
    taker: float = 0.001
    maker: float = 0.001
    slippage_bps: float = 0.0
    market_type: str = "spot"
    leverage: float = 1.0
    bar_fill: str = "next_open"
    margin_tiers: Mapping[str, Tiers] = field(default_factory=dict)
    liquidation_fee: float = DEFAULT_LIQUIDATION_FEE
    liquidation_close: str = BANKRUPTCY


def backtest(rows: MarketRows, plan: StrategyPlan, settings: TrialSettings) -> BacktestResult:
    return run_backtest(
        rows,
        [settings.symbol],
        [plan],
        cash=settings.cash,
        taker=settings.taker,
        maker=settings.maker,
        market_type=settings.market_type,
        leverage=settings.leverage,
        slippage_bps=settings.slippage_bps,
        bar_fill=settings.bar_fill,
        margin_tiers=settings.margin_tiers,
        liquidation_fee=settings.liquidation_fee,
        liquidation_close=settings.liquidation_close,
    )


Window = tuple[int | None, int | None]  # [start, end) in µs; None: open


Engine = Literal["vectorised", "event"]


class Outcome(NamedTuple):
    """A trial's metrics (``papertape backtest --json``'s for the same parameters) and the engine
    that computed them."""

    metrics: dict[str, Any]
    engine: Engine


@dataclass(slots=True)
class TrialData:
    """A dataset's rows as a worker holds them, with the fast path's caches for them."""

    rows: MarketRows
    fast: FastPath = field(default_factory=FastPath)

    def engine_for(
        self, plan: StrategyPlan, settings: TrialSettings, window: Window | None
    ) -> Engine:
        """The engine ``run`` will use for the trial, without running it."""
        rows = window_rows(self.rows, window)
        if isinstance(rows, TradeColumns) or not self.fast.takes(rows, window, plan, settings):
            return "event"
        return "vectorised"

    def run(self, plan: StrategyPlan, settings: TrialSettings, window: Window | None) -> Outcome:
        """The trial on the rows inside ``window``: on the fast path when it takes the trial,
        else on the event engine."""
        rows = window_rows(self.rows, window)
        if not isinstance(rows, TradeColumns):  # the fast path takes candles
            metrics = self.fast.metrics(rows, window, plan, settings)
            if metrics is not None:
                return Outcome(finite(metrics), "vectorised")
        return Outcome(finite(backtest(rows, plan, settings).metrics), "event")


def window_rows(rows: MarketRows, window: Window | None) -> MarketRows:
    """The rows (in time order) inside ``window``, without copying them when it is open (nor
    ever, for trade columns)."""
    if window is None or window == (None, None):
        return rows
    start, end = window
    if isinstance(rows, TradeColumns):
        return rows.between(start, end)
    lo = 0 if start is None else bisect_left(rows, start, key=_ts)
    hi = len(rows) if end is None else bisect_left(rows, end, key=_ts)
    return rows[lo:hi]


def _ts(row: Any) -> int:
    ts: int = row.ts
    return ts


_DATA: dict[DataSpec, TrialData] = {}
PARENT_CHECK = 1.0  # seconds between a worker's looks at its parent


def init_worker(spec: DataSpec, parent: int | None = None) -> None:
    """A pool worker's initializer: decode the dataset once for every trial it will run. With
    ``parent`` (a pid), the worker exits when that process is gone: a pool's workers block on a
    queue whose other end they hold themselves, so they would outlive a killed server."""
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    _DATA[spec] = TrialData(load_rows(spec))


def _exit_with(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)


def worker_data(spec: DataSpec) -> TrialData:
    data = _DATA.get(spec)
    if data is None:
        data = _DATA[spec] = TrialData(load_rows(spec))
    return data


def run_in_worker(
    spec: DataSpec, plan: StrategyPlan, settings: TrialSettings, window: Window | None = None
) -> Outcome:
    return worker_data(spec).run(plan, settings, window)

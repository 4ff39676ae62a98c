"""A long-only spot account trading market orders at the next bar's open, as the engine runs it
for a strategy that decides on closed candles: the fills through the real ``Portfolio``, the
equity curve the engine samples, and the metrics ``papertape backtest --json`` prints."""

from __future__ import annotations

from typing import Any

import numpy as np

from papertape.domain.metrics import (
    account_metrics,
    ratios,
    resample_period,
    summarise,
)
from papertape.domain.orders import BUY, QTY_EPSILON, SELL, Side
from papertape.domain.portfolio import SPOT, Portfolio
from papertape.domain.records import Fill
from papertape.research.fastpath.bars import Bars

ENTER, EXIT = 1, -1


class Account:
    """A long-only spot account on ``bars``, filled as the paper venue fills: the fills through
    the real ``Portfolio`` (its sizing, fees and round trips), at a bar's time, the taker fee."""

    def __init__(self, bars: Bars, cash: float, taker: float):
        self.bars, self.cash, self.taker = bars, cash, taker
        self.portfolio = Portfolio(cash, SPOT)
        self.position = self.portfolio.position(bars.symbol)
        self.fill_bars: list[int] = []
        self.cash_after: list[float] = []
        self.qty_after: list[float] = []
        self.entries: list[int] = []

    @property
    def held(self) -> bool:
        return self.position.qty > 0

    def enter(self, j: int, fraction: float) -> bool:
        """Buy with ``fraction`` of the buying power at bar ``j``'s open; ``False`` when the venue
        would reject the order (too little cash)."""
        symbol, price, portfolio = self.bars.symbol, float(self.bars.open[j]), self.portfolio
        # the venue sizes a qty=None order at its fill, then caps it to what is fillable
        qty = portfolio.max_open_qty(symbol, 1, price, self.taker) * fraction
        if qty <= QTY_EPSILON:
            return False  # rejected: insufficient funds
        qty = portfolio.fillable(symbol, 1, qty, price, self.taker)
        if qty <= QTY_EPSILON:
            return False
        self.entries.append(j)
        self._fill(j, BUY, qty, price)
        return True

    def exit(self, j: int, price: float) -> None:
        """Sell the whole long at ``price`` on bar ``j``."""
        self._fill(j, SELL, abs(self.position.qty), price)

    def _fill(self, j: int, side: Side, qty: float, price: float) -> None:
        fee = qty * price * self.taker
        self.portfolio.apply_fill(
            Fill(
                "", "", "", self.bars.ts[j], self.bars.symbol, side.value, qty, price, fee, "taker"
            )
        )
        self.fill_bars.append(j)
        self.cash_after.append(self.portfolio.cash)
        self.qty_after.append(self.position.qty)

    def metrics(self) -> dict[str, Any]:
        """``papertape backtest --json``'s metrics of the run so far, ended on the last bar."""
        bars, portfolio, position = self.bars, self.portfolio, self.position
        if position.qty:
            position.mark = bars.closes[
                -1
            ]  # the engine's stop() marks what is held at the last close
        equity = _equity(
            bars, self.cash, self.fill_bars, self.cash_after, self.qty_after, self.entries
        )
        metrics = summarise(
            initial=self.cash,
            final=float(equity[-1]),
            drawdown_pct=_max_drawdown_pct(self.cash, equity),
            sharpe_and_sortino=_ratios(bars.times, equity),
            span=(bars.ts[0], bars.ts[-1]),
            trips=portfolio.trips,
            fees=portfolio.fees,
            open_since=[p.trip_start for p in portfolio.open_positions()],
        )
        metrics.update(account_metrics(portfolio))
        return metrics


def run_signals(
    bars: Bars,
    decisions: list[tuple[int, int]],
    *,
    cash: float,
    taker: float,
    fraction: float = 1.0,
) -> dict[str, Any]:
    """The metrics of a run whose strategy, on closing bar ``i``, buys with ``fraction`` of its
    cash when flat (``(i, ENTER)``) or closes its long (``(i, EXIT)``); ``decisions`` in bar
    order. Each order fills at bar ``i + 1``'s open (none is left after the last bar)."""
    account = Account(bars, cash, taker)
    last = len(bars) - 1
    for bar, want in decisions:
        if bar >= last:
            break
        if want == ENTER:
            if not account.held:
                account.enter(bar + 1, fraction)
        elif account.held:
            account.exit(bar + 1, float(bars.open[bar + 1]))
    return account.metrics()


def _equity(
    bars: Bars,
    initial: float,
    fill_bars: list[int],
    cash_after: list[float],
    qty_after: list[float],
    entries: list[int],
) -> np.ndarray:
    """The engine's equity point of each bar: ``cash + qty × mark`` after the bar. The mark is
    the bar's close, except on a bar whose open filled an entry: the fill's forced sample (at
    the bar's time, so the bar takes no other) values the new position at the previous close,
    the last price the engine had seen. The last bar is re-sampled at its close by ``stop()``."""
    n = len(bars)
    step = np.searchsorted(np.array(fill_bars, dtype=np.int64), np.arange(n), side="right") - 1
    cash = np.array([initial, *cash_after])[step + 1]  # before the first fill: the initial cash
    qty = np.array([0.0, *qty_after])[step + 1]
    mark = bars.close.copy()
    if entries:
        at = np.array(entries, dtype=np.int64)
        mark[at] = bars.close[at - 1]
    mark[-1] = bars.close[-1]
    equity: np.ndarray = cash + qty * mark
    return equity


def _max_drawdown_pct(initial: float, equity: np.ndarray) -> float:
    """``metrics.max_drawdown_pct([initial, *equity])``, element for element."""
    values = np.concatenate(([initial], equity))
    peak = np.maximum.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        drops = np.where(peak > 0, (peak - values) / peak, 0.0)
    return max(0.0, float(drops.max())) * 100


def _ratios(times: np.ndarray, equity: np.ndarray) -> tuple[float | None, float | None]:
    """``metrics.sharpe_sortino`` of the curve: the last equity of each resampling bucket
    (carried over empty ones), then the same ``ratios``."""
    if len(times) < 2:
        return None, None
    period = resample_period(int(times[-1] - times[0]))
    buckets = times // period
    every = np.arange(buckets[0], buckets[-1] + 1)
    last = np.searchsorted(buckets, every, side="right") - 1
    return ratios(equity[last].tolist(), period)

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
from papertape.domain.orders import BUY, QTY_EPSILON, SELL
from papertape.domain.portfolio import SPOT, Portfolio
from papertape.domain.records import Fill
from papertape.research.fastpath.bars import Bars

ENTER, EXIT = 1, -1


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
    portfolio = Portfolio(cash, SPOT)
    symbol, ts, opens = bars.symbol, bars.ts, bars.open
    position = portfolio.position(symbol)
    last = len(ts) - 1
    fill_bars: list[int] = []
    cash_after: list[float] = []
    qty_after: list[float] = []
    entries: list[int] = []
    for bar, want in decisions:
        if bar >= last:
            break
        j = bar + 1
        price = float(opens[j])
        if want == ENTER:
            if position.qty > 0:
                continue
            # the venue sizes a qty=None order at its fill, then caps it to what is fillable
            qty = portfolio.max_open_qty(symbol, 1, price, taker) * fraction
            if qty <= QTY_EPSILON:
                continue  # rejected: insufficient funds
            qty = portfolio.fillable(symbol, 1, qty, price, taker)
            if qty <= QTY_EPSILON:
                continue
            side = BUY
            entries.append(j)
        else:
            if not position.qty > 0:
                continue
            qty, side = abs(position.qty), SELL
        fee = qty * price * taker
        portfolio.apply_fill(Fill("", "", "", ts[j], symbol, side.value, qty, price, fee, "taker"))
        fill_bars.append(j)
        cash_after.append(portfolio.cash)
        qty_after.append(position.qty)
    if position.qty:
        position.mark = bars.closes[-1]  # the engine's stop() marks what is held at the last close
    equity = _equity(bars, cash, fill_bars, cash_after, qty_after, entries)
    metrics = summarise(
        initial=cash,
        final=float(equity[-1]),
        drawdown_pct=_max_drawdown_pct(cash, equity),
        sharpe_and_sortino=_ratios(bars.times, equity),
        span=(ts[0], ts[-1]),
        trips=portfolio.trips,
        fees=portfolio.fees,
        open_since=[p.trip_start for p in portfolio.open_positions()],
    )
    metrics.update(account_metrics(portfolio))
    return metrics


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

"""``breakout`` (``papertape.strategies.builtin.Breakout``) over arrays: its entries and exits
decided on bar closes like the other built-ins, and its stop-loss, which the paper venue fills
inside a bar.

The run alternates between flat and long, as the strategy does by looking at its position:

* flat, it buys on the close of a bar whose volume surge reaches ``surge`` and whose close is
  above the highest high of the ``lookback`` bars before it; the order fills at the next open
  (or is rejected for want of cash, and the strategy is flat on that bar again);
* the entry's fill places a reduce-only sell stop at ``entry × (1 − stop_loss_pct / 100)``; the
  venue sees it from the next bar on and, on each bar, checks stops before the strategy hears of
  the bar: on the first bar whose low reaches the stop it fills at ``min(open, stop)``, and the
  strategy is flat on that same bar's close;
* long, the strategy closes on the close of a bar below the exit EMA; on the next bar the venue
  checks the stop first (a gap through it fills the stop at ``min(open, stop)``), else the close
  fills at the open. Either way the position is gone before the strategy sees that bar.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

import numpy as np

from papertape.research.fastpath.account import Account
from papertape.research.fastpath.bars import Bars


def run_breakout(
    bars: Bars,
    enters: np.ndarray,
    exits: np.ndarray,
    *,
    stop_loss_pct: float,
    cash: float,
    taker: float,
    fraction: float = 1.0,
) -> dict[str, Any]:
    """The run's metrics; ``enters`` / ``exits``: per bar, whether a flat / long strategy would
    buy / close on its close."""
    account = Account(bars, cash, taker)
    last = len(bars) - 1
    entry_bars = np.flatnonzero(enters).tolist()
    exit_bars = np.flatnonzero(exits).tolist()
    flat_from = 0  # the first bar whose close a flat strategy sees
    while True:
        decided = _first(entry_bars, flat_from)
        if decided is None or decided >= last:
            break
        entered = decided + 1
        if not account.enter(entered, fraction):
            flat_from = entered
            continue
        stop = account.position.avg_price * (1 - stop_loss_pct / 100)
        closing = _first(exit_bars, entered)
        watched = last if closing is None else closing  # bars the stop can fill on first
        hits = np.flatnonzero(bars.low[entered + 1 : watched + 1] <= stop)
        if hits.size:
            flat_from = entered + 1 + int(hits[0])
            account.exit(flat_from, min(float(bars.open[flat_from]), stop))
            continue
        if closing is None or closing >= last:
            break  # held to the end
        flat_from = closing + 1
        opened = float(bars.open[flat_from])
        account.exit(flat_from, min(opened, stop) if bars.low[flat_from] <= stop else opened)
    return account.metrics()


def _first(bars: list[int], start: int) -> int | None:
    at = bisect_left(bars, start)
    return bars[at] if at < len(bars) else None

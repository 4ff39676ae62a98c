"""The decisions of the built-in strategies the fast path takes, over arrays: on which bars'
close each would buy when flat (``ENTER``) or close its long (``EXIT``)."""

from __future__ import annotations

import numpy as np

from papertape.research.fastpath.account import ENTER, EXIT


def crossings(fast: np.ndarray, slow: np.ndarray) -> list[tuple[int, int]]:
    """The bars on whose close ``SmaCross.on_bar`` acts: ``ENTER`` where the difference of the
    averages goes from strictly below zero to strictly above, ``EXIT`` the other way (NaN, the
    warm-up, compares false: no crossing until both averages exist on two bars in a row)."""
    diff = fast - slow
    before, now = diff[:-1], diff[1:]
    up = np.flatnonzero((before < 0) & (now > 0)) + 1
    down = np.flatnonzero((before > 0) & (now < 0)) + 1
    bars = np.concatenate((up, down))
    wants = np.concatenate((np.full(len(up), ENTER), np.full(len(down), EXIT)))
    order = np.argsort(bars, kind="stable")
    return list(zip(bars[order].tolist(), wants[order].tolist(), strict=True))


def reversions(rsi: np.ndarray, oversold: float, overbought: float) -> list[tuple[int, int]]:
    """``rsi_reversion`` (``RsiReversion.on_bar``): ``ENTER`` on every bar whose RSI is below
    ``oversold``, ``EXIT`` on every bar above ``overbought`` (the account ignores an entry while
    long and an exit while flat, as the strategy does by looking at its position)."""
    enter, exit_ = rsi < oversold, rsi > overbought
    bars = np.flatnonzero(enter | exit_)
    wants = np.where(enter[bars], ENTER, EXIT)
    return list(zip(bars.tolist(), wants.tolist(), strict=True))

"""``sma_cross`` (``papertape.strategies.builtin.SmaCross``, long only) over arrays."""

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

"""Candles as arrays, and the data the fast path can take: one symbol's candles of one interval,
in time order, far enough apart that the engine samples equity on each of them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from papertape.domain.market import MICROS, Candle
from papertape.engine.core import EngineConfig

# the engine samples equity once per this much data time (its default, which trials keep)
EQUITY_INTERVAL = EngineConfig(session_id="", symbols=()).equity_interval_us


@dataclass(frozen=True, slots=True)
class Bars:
    symbol: str
    interval: int  # seconds
    ts: list[int]  # µs, Python ints (fills and round trips carry them)
    times: np.ndarray  # the same, as an array
    open: np.ndarray
    close: np.ndarray
    closes: list[float]  # the closes as Python floats (math.fsum reads them)
    high: np.ndarray
    low: np.ndarray
    volumes: list[float]  # as Python floats, fed to the volume indicators one by one

    def __len__(self) -> int:
        return len(self.ts)


def bars_of(rows: Sequence[Any], symbol: str) -> Bars | None:
    """The rows as ``Bars``, or ``None`` when the fast path cannot reproduce the engine on them:
    anything but candles of ``symbol`` all of one interval; timestamps that do not advance by
    at least one equity interval's bucket each bar (the engine would then skip equity samples);
    prices that are not finite and positive."""
    if not rows or any(r.__class__ is not Candle for r in rows):
        return None
    first = rows[0]
    if any(r.symbol != symbol or r.interval != first.interval for r in rows):
        return None
    ts = [r.ts for r in rows]
    times = np.array(ts, dtype=np.int64)
    buckets = times // EQUITY_INTERVAL
    if np.any(np.diff(buckets) <= 0) or first.interval * MICROS < EQUITY_INTERVAL:
        return None
    opens = [r.open for r in rows]
    closes = [r.close for r in rows]
    if not all(math.isfinite(p) and p > 0 for p in (*opens, *closes)):
        return None
    return Bars(
        symbol,
        first.interval,
        ts,
        times,
        np.array(opens),
        np.array(closes),
        closes,
        np.array([r.high for r in rows]),
        np.array([r.low for r in rows]),
        [r.volume for r in rows],
    )

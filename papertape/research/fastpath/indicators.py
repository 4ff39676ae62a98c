"""Indicators over a whole array, bit-identical to ``papertape.domain.indicators``' incremental
ones fed the same values one at a time (NaN where those return ``None``)."""

from __future__ import annotations

import math

import numpy as np

from papertape.domain.indicators import Ema, Indicator, Rsi, VolumeSurge
from papertape.research.fastpath.bars import Bars


def sma(bars: Bars, period: int) -> np.ndarray:
    """``Sma(period)`` of the closes. The incremental SMA sets its running sum to the ``fsum`` of
    the window when the window first fills (bar ``period − 1``) and again every ``period`` bars
    after (each lap of its ring); in between it adds ``x − x_old``. So each lap is one row here:
    the anchor, then the lap's differences, accumulated left to right (``cumsum`` is that exact
    recurrence), divided by the period."""
    closes, values = bars.close, bars.closes
    n, p = len(values), period
    out = np.full(n, np.nan)
    valid = n - p + 1  # values at bars p − 1 … n − 1
    if valid <= 0:
        return out
    laps = -(-valid // p)
    flat = np.zeros(laps * p)
    flat[1:valid] = closes[p:] - closes[:-p]
    table = flat.reshape(laps, p)
    table[:, 0] = [math.fsum(values[k * p : (k + 1) * p]) for k in range(laps)]
    out[p - 1 :] = np.cumsum(table, axis=1).ravel()[:valid] / p
    return out


def rsi(bars: Bars, period: int) -> np.ndarray:
    """``Rsi(period)`` of the closes: Wilder's smoothing is a recurrence whose rounding numpy
    would not reproduce, so this is the indicator itself fed every close (once per period and
    window, shared by every trial that uses it)."""
    return _fed(Rsi(period), bars.closes)


def ema(bars: Bars, period: int) -> np.ndarray:
    """``Ema(period)`` of the closes: a recurrence too, so the indicator itself, like ``rsi``."""
    return _fed(Ema(period), bars.closes)


def volume_surge(bars: Bars, period: int) -> np.ndarray:
    """``VolumeSurge(period)`` of the volumes (the indicator itself, like ``rsi``)."""
    return _fed(VolumeSurge(period), bars.volumes)


def highest(bars: Bars, period: int) -> np.ndarray:
    """The highest high of the ``period`` bars before each bar (NaN until there are that many):
    ``max`` of a window, which is exact whatever the order."""
    out = np.full(len(bars), np.nan)
    if len(bars) > period:
        windows = np.lib.stride_tricks.sliding_window_view(bars.high[:-1], period)
        out[period:] = windows.max(axis=1)
    return out


def _fed(indicator: Indicator, values: list[float]) -> np.ndarray:
    out = [indicator.update(x) for x in values]
    return np.array([math.nan if v is None else v for v in out])

"""Incremental indicators: each update costs O(1), never a pass over the window.

Every indicator has ``update(...)`` (one new observation; returns the new value or ``None``
while warming up) and ``value`` (the latest value, ``None`` during warm-up).
Indicators with several outputs expose them as attributes (``Macd.signal``, ``Bollinger.upper``)
and through ``output(name)``, which the declarative rules use (``"macd.signal"``).

Conventions follow the usual published definitions: SMA and Bollinger (population standard
deviation) over the last ``period`` values; EMA with ``alpha = 2 / (period + 1)`` seeded with the
SMA of the first ``period`` values; RSI and ATR with Wilder's smoothing seeded with simple averages
(Wilder 1978, as TA-Lib does); MACD = EMA(fast) − EMA(slow), its signal an EMA of MACD.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any


class Indicator:
    value: float | None = None
    inputs: tuple[str, ...] = ("close",)  # what the rules feed it from a bar
    outputs: tuple[str, ...] = ("value",)
    # the outputs that are prices, drawn over a price chart (a band's width is a ratio, and
    # Bollinger's "value" repeats its middle band)
    price_outputs: tuple[str, ...] = ("value",)

    def output(self, name: str = "value") -> float | None:
        if name not in self.outputs:
            raise KeyError(name)
        return self.value if name == "value" else getattr(self, name)

    def update(self, *args: Any) -> float | None:
        """One new observation (the inputs each indicator names); the new value or ``None``."""
        raise NotImplementedError


class _Window:
    """A fixed-length ring with a running sum."""

    __slots__ = ("period", "items", "total")

    def __init__(self, period: int):
        self.period = period
        self.items: deque[float] = deque()
        self.total = 0.0

    def push(self, x: float) -> bool:
        """Add ``x``; True once the window is full."""
        items = self.items
        items.append(x)
        self.total += x
        if len(items) > self.period:
            self.total -= items.popleft()
        return len(items) == self.period


def _check_period(period: int, name: str = "period") -> int:
    if not isinstance(period, int) or period < 1:
        raise ValueError(f"{name} must be a positive integer")
    return period


class Sma(Indicator):
    __slots__ = ("period", "_ring", "_sum", "_i", "_count", "value")

    def __init__(self, period: int):
        self.period = _check_period(period)
        self._ring = [0.0] * period
        self._sum = 0.0
        self._i = 0
        self._count = 0
        self.value = None

    def update(self, x: float) -> float | None:
        i = self._i
        self._sum += x - self._ring[i]
        self._ring[i] = x
        self._i = i + 1 if i + 1 < self.period else 0
        if self._count < self.period:
            self._count += 1
            if self._count < self.period:
                return None
            self._sum = math.fsum(self._ring)  # start exact
        elif self._i == 0:
            self._sum = math.fsum(self._ring)  # re-anchor once per lap: no drift over long runs
        self.value = self._sum / self.period
        return self.value


class Ema(Indicator):
    __slots__ = ("period", "alpha", "_seed", "value")

    def __init__(self, period: int):
        self.period = _check_period(period)
        self.alpha = 2.0 / (period + 1)
        self._seed: list[float] = []
        self.value = None

    def update(self, x: float) -> float | None:
        value = self.value
        if value is None:
            self._seed.append(x)
            if len(self._seed) < self.period:
                return None
            self.value = math.fsum(self._seed) / self.period
            self._seed = []
            return self.value
        self.value = value + self.alpha * (x - value)
        return self.value


class Rsi(Indicator):
    """Wilder's RSI: 100 − 100 / (1 + avg gain / avg loss); 100 when there was no loss."""

    __slots__ = ("period", "_prev", "_gains", "_losses", "_n", "_avg_gain", "_avg_loss", "value")

    def __init__(self, period: int = 14):
        self.period = _check_period(period)
        self._prev: float | None = None
        self._gains = 0.0
        self._losses = 0.0
        self._n = 0
        self._avg_gain = 0.0
        self._avg_loss = 0.0
        self.value = None

    def update(self, x: float) -> float | None:
        prev = self._prev
        self._prev = x
        if prev is None:
            return None
        change = x - prev
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        n = self.period
        if self._n < n:
            self._n += 1
            self._gains += gain
            self._losses += loss
            if self._n < n:
                return None
            self._avg_gain, self._avg_loss = self._gains / n, self._losses / n
        else:
            self._avg_gain = (self._avg_gain * (n - 1) + gain) / n
            self._avg_loss = (self._avg_loss * (n - 1) + loss) / n
        if self._avg_loss == 0:
            self.value = 100.0 if self._avg_gain > 0 else 50.0
        else:
            self.value = 100.0 - 100.0 / (1.0 + self._avg_gain / self._avg_loss)
        return self.value


class Macd(Indicator):
    outputs = ("value", "signal", "histogram")
    __slots__ = ("_fast", "_slow", "_signal", "signal", "histogram", "value")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9):
        if fast >= slow:
            raise ValueError("MACD fast period must be shorter than slow")
        self._fast, self._slow, self._signal = Ema(fast), Ema(slow), Ema(signal)
        self.signal: float | None = None
        self.histogram: float | None = None
        self.value = None

    def update(self, x: float) -> float | None:
        fast, slow = self._fast.update(x), self._slow.update(x)
        if fast is None or slow is None:
            return None
        macd = fast - slow
        self.signal = self._signal.update(macd)
        if self.signal is None:
            return None  # ready once the signal line is
        self.histogram = macd - self.signal
        self.value = macd
        return macd


class Bollinger(Indicator):
    """Middle = SMA, upper/lower = middle ± ``k`` × population standard deviation.

    Running sums of ``x − shift`` and its square (``shift`` = a recent value, so the squares stay
    small and the variance does not lose digits), recomputed exactly once per lap of the window."""

    outputs = ("value", "upper", "lower", "middle", "width")
    price_outputs = ("upper", "middle", "lower")
    __slots__ = (
        "period",
        "k",
        "_ring",
        "_i",
        "_count",
        "_shift",
        "_s1",
        "_s2",
        "upper",
        "lower",
        "middle",
        "width",
        "value",
    )

    def __init__(self, period: int = 20, k: float = 2.0):
        self.period = _check_period(period)
        if k <= 0:
            raise ValueError("k must be positive")
        self.k = k
        self._ring = [0.0] * period
        self._i = self._count = 0
        self._shift = self._s1 = self._s2 = 0.0
        self.upper: float | None = None
        self.lower: float | None = None
        self.middle: float | None = None
        self.width: float | None = None
        self.value = None

    def update(self, x: float) -> float | None:
        n, i = self.period, self._i
        if self._count == 0:
            self._shift = x
        old = self._ring[i] - self._shift if self._count >= n else None
        self._ring[i] = x
        self._i = i + 1 if i + 1 < n else 0
        d = x - self._shift
        self._s1 += d
        self._s2 += d * d
        if old is not None:
            self._s1 -= old
            self._s2 -= old * old
        if self._count < n:
            self._count += 1
            if self._count < n:
                return None
        if self._i == 0:  # once per lap: re-anchor on the window's mean, recompute exactly
            self._shift = math.fsum(self._ring) / n
            self._s1 = math.fsum(v - self._shift for v in self._ring)
            self._s2 = math.fsum((v - self._shift) ** 2 for v in self._ring)
        mean_d = self._s1 / n
        std = math.sqrt(max(self._s2 / n - mean_d * mean_d, 0.0))
        mean = self._shift + mean_d
        self.middle = self.value = mean
        self.upper, self.lower = mean + self.k * std, mean - self.k * std
        self.width = (self.upper - self.lower) / mean if mean else 0.0
        return mean


class Atr(Indicator):
    """Average true range with Wilder's smoothing; ``update(high, low, close)``."""

    inputs = ("high", "low", "close")
    __slots__ = ("period", "_prev_close", "_n", "_sum", "value")

    def __init__(self, period: int = 14):
        self.period = _check_period(period)
        self._prev_close: float | None = None
        self._n = 0
        self._sum = 0.0
        self.value = None

    def update(self, high: float, low: float, close: float) -> float | None:
        prev = self._prev_close
        tr = high - low if prev is None else max(high - low, abs(high - prev), abs(low - prev))
        self._prev_close = close
        n = self.period
        if self._n < n:
            self._n += 1
            self._sum += tr
            if self._n < n:
                return None
            value = self._sum / n
        else:
            assert self.value is not None  # set when the warm-up ended
            value = (self.value * (n - 1) + tr) / n
        self.value = value
        return value


class Vwap(Indicator):
    """Volume-weighted average price, ``update(price, volume)``. Cumulative since the start, or
    over the last ``period`` observations when ``period`` is given."""

    inputs = ("typical", "volume")
    __slots__ = ("period", "_pv", "_v", "value")

    def __init__(self, period: int | None = None):
        self.period = None if period is None else _check_period(period)
        self._pv = _Window(period or 0)
        self._v = _Window(period or 0)
        self.value = None

    def update(self, price: float, volume: float) -> float | None:
        if self.period is None:
            self._pv.total += price * volume
            self._v.total += volume
        else:
            full = self._pv.push(price * volume)
            self._v.push(volume)
            if not full:
                return None
        if self._v.total > 0:
            self.value = self._pv.total / self._v.total
        return self.value


class VolumeSurge(Indicator):
    """The latest volume divided by the average of the ``period`` volumes before it (a
    pump detector: 3.0 = three times the usual volume)."""

    inputs = ("volume",)
    __slots__ = ("period", "_avg", "value")

    def __init__(self, period: int = 20):
        self.period = _check_period(period)
        self._avg = Sma(period)
        self.value = None

    def update(self, volume: float) -> float | None:
        baseline = self._avg.value
        if baseline is not None:
            self.value = volume / baseline if baseline > 0 else (math.inf if volume > 0 else 1.0)
        self._avg.update(volume)
        return self.value


class PriceVelocity(Indicator):
    """Relative price change per second over the last ``period`` observations:
    ``(p_now / p_then − 1) / seconds``; ``update(price, ts_us)``."""

    inputs = ("close", "ts")
    __slots__ = ("period", "_prices", "_times", "value")

    def __init__(self, period: int = 10):
        self.period = _check_period(period)
        self._prices: deque[float] = deque(maxlen=period + 1)
        self._times: deque[int] = deque(maxlen=period + 1)
        self.value = None

    def update(self, price: float, ts: int) -> float | None:
        self._prices.append(price)
        self._times.append(ts)
        if len(self._prices) <= self.period:
            return None
        seconds = (ts - self._times[0]) / 1_000_000
        then = self._prices[0]
        if seconds > 0 and then:
            self.value = (price / then - 1.0) / seconds
        return self.value


def book_imbalance(bids: Any, asks: Any, levels: int = 5) -> float | None:
    """(bid volume − ask volume) / (bid volume + ask volume) over the top ``levels``: +1 all
    bids, −1 all asks. ``None`` for an empty book."""
    bid_volume = sum(q for _, q in bids[:levels])
    ask_volume = sum(q for _, q in asks[:levels])
    total = bid_volume + ask_volume
    return None if total <= 0 else (bid_volume - ask_volume) / total


def spread_bps(bids: Any, asks: Any) -> float | None:
    """Best ask − best bid, in basis points of the mid price."""
    if not bids or not asks:
        return None
    bid, ask = bids[0][0], asks[0][0]
    mid = (bid + ask) / 2
    return None if mid <= 0 else (ask - bid) / mid * 10_000


class BookImbalance(Indicator):
    inputs = ("book",)
    __slots__ = ("levels", "value")

    def __init__(self, levels: int = 5):
        self.levels = _check_period(levels, "levels")
        self.value = None

    def update(self, bids: Any, asks: Any) -> float | None:
        self.value = book_imbalance(bids, asks, self.levels)
        return self.value


class Spread(Indicator):
    """The bid-ask spread in basis points."""

    inputs = ("book",)
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = None

    def update(self, bids: Any, asks: Any) -> float | None:
        self.value = spread_bps(bids, asks)
        return self.value


# name → (class, the parameter names the declarative rules accept)
INDICATORS: dict[str, tuple[type[Indicator], tuple[str, ...]]] = {
    "sma": (Sma, ("period",)),
    "ema": (Ema, ("period",)),
    "rsi": (Rsi, ("period",)),
    "macd": (Macd, ("fast", "slow", "signal")),
    "bollinger": (Bollinger, ("period", "k")),
    "atr": (Atr, ("period",)),
    "vwap": (Vwap, ("period",)),
    "volume_surge": (VolumeSurge, ("period",)),
    "price_velocity": (PriceVelocity, ("period",)),
    "book_imbalance": (BookImbalance, ("levels",)),
    "spread": (Spread, ()),
}

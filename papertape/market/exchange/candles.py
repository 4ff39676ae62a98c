"""Bars derived from trade prints, as they arrive. Pure: no I/O, no clock.

A bar is emitted only once it is closed, i.e. when the first trade of a later interval arrives;
intervals without trades produce no bar (nothing is invented). The first bar of each symbol is
never emitted: the recording began (or resumed after a restart) somewhere inside it, so it lacks
the prints before that moment (counted in ``partial``). A trade older than the bar being built
cannot change an emitted bar: it is counted in ``late`` and left out of the bars.
"""

from __future__ import annotations

from typing import Any

from papertape.domain.market import MICROS, Candle, Trade


class CandleBuilder:
    def __init__(self, interval_seconds: int):
        if interval_seconds <= 0:
            raise ValueError("a candle interval is a positive number of seconds")
        self.interval = interval_seconds
        self._span = interval_seconds * MICROS
        self._open: dict[str, list[Any]] = {}  # symbol → [start, open, high, low, close, volume]
        self._first: dict[str, int] = {}  # symbol → start of its first (partial) bar
        self.late = 0
        self.partial = 0

    def add(self, trade: Trade) -> Candle | None:
        """Fold ``trade`` in; return the bar it closed, if any."""
        start = trade.ts - trade.ts % self._span
        bar = self._open.get(trade.symbol)
        if bar is None:
            self._open[trade.symbol] = [
                start,
                trade.price,
                trade.price,
                trade.price,
                trade.price,
                trade.qty,
            ]
            self._first[trade.symbol] = start
            return None
        if start < bar[0]:
            self.late += 1
            return None
        if start == bar[0]:
            bar[2] = max(bar[2], trade.price)
            bar[3] = min(bar[3], trade.price)
            bar[4] = trade.price
            bar[5] += trade.qty
            return None
        closed = Candle(bar[0], trade.symbol, self.interval, bar[1], bar[2], bar[3], bar[4], bar[5])
        self._open[trade.symbol] = [
            start,
            trade.price,
            trade.price,
            trade.price,
            trade.price,
            trade.qty,
        ]
        if closed.ts == self._first[trade.symbol]:
            self.partial += 1
            return None
        return closed

"""A strategy's chart indicators over a replayed dataset, computed once and extended as the
replay advances.

A chart watching a 180k-bar backtest asks for its indicators every second or so. Computed from
the first bar at each ask, that read the whole dataset and ran every indicator over it again:
seconds of a core (and of the GIL the event loop needs) per tab and refresh. A dataset does not
change once imported, so the indicators' state after the bars already folded in is kept (per
dataset version, symbol, strategy and bar interval) and only the newer bars are read and folded.
The newest bar of a read may be partial (a replay's position cuts it): it is valued on a copy
and never folded in.
"""

from __future__ import annotations

import copy
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from papertape.domain.bar_columns import BarColumns
from papertape.domain.indicators import Indicator
from papertape.domain.market import MICROS

ChartIndicators = dict[str, tuple[Indicator, str]]  # name -> (indicator, the bar field it reads)


@dataclass
class _Line:
    """One output of one indicator: its points' bar opens (seconds) and values, oldest first;
    packed (16 bytes a point, not ~70 as Python ints and floats in lists): a cached 200k-bar
    Bollinger band is ~10 MB."""

    times: array[int] = field(default_factory=lambda: array("q"))
    values: array[float] = field(default_factory=lambda: array("d"))


class IndicatorProgress:
    """The indicators of one strategy on one symbol's bars, folded up to ``next_ts`` (the open of
    the first bar not folded in, µs). Thread-safe: tabs ask at once, each from its own thread."""

    def __init__(self, indicators: ChartIndicators, interval: int):
        self.indicators = indicators
        self.step = interval * MICROS
        self.next_ts = 0
        self.lines = {
            (name, output): _Line()
            for name, (indicator, _) in indicators.items()
            for output in indicator.price_outputs
        }
        self._lock = threading.Lock()

    def series(
        self, bars: BarColumns, start_us: int, end_us: int, every: int | None
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The points of the bars opening in ``[start_us, end_us)`` (``bars``: the ones opening
        in ``[next_ts as read, end_us)``, oldest first), at most one per ``every`` seconds (the
        last in each, as a chart of that interval draws them)."""
        with self._lock:
            fresh = bars.since(self.next_ts)
            if fresh.size > 1:  # every bar but the newest is whole
                self._fold(self.indicators, fresh[:-1], self.lines)
                self.next_ts = int(fresh.ts[-2]) + self.step
            # the newest, perhaps partial, bar: valued on a copy, and only if it is the one the
            # read ended on (a tab behind the others reads nothing new)
            tail = {key: _Line() for key in self.lines}
            if fresh.size:
                self._fold(copy.deepcopy(self.indicators), fresh[-1:], tail)
            last_whole = end_us - self.step  # a folded bar opening after this ends past end_us
            return {
                key: _points(
                    chain(
                        _span(line, start_us, last_whole, every),
                        _span(tail[key], start_us, end_us, every),
                    ),
                    every,
                )
                for key, line in self.lines.items()
            }

    @staticmethod
    def _fold(
        indicators: ChartIndicators, bars: BarColumns, lines: dict[tuple[str, str], _Line]
    ) -> None:
        """Feed ``bars`` to each indicator in turn (they are independent of each other), from
        plain lists: a value per bar out of NumPy would be a NumPy scalar, slower to add up."""
        times = (bars.ts // MICROS).tolist()
        for name, (indicator, source) in indicators.items():
            outputs = [(output, lines[(name, output)]) for output in indicator.price_outputs]
            update, output_of = indicator.update, indicator.output
            for time, x in zip(times, bars.field(source).tolist(), strict=True):
                update(x)
                for output, line in outputs:
                    value = output_of(output)
                    if value is not None:
                        line.times.append(time)
                        line.values.append(value)


def _span(
    line: _Line, start_us: int, last_us: int, every: int | None
) -> Iterator[tuple[int, float]]:
    """``line``'s points of the bars opening in ``[start_us, last_us]``; with ``every``, only
    the last in each ``every`` seconds (found by bisection: a month of 1m points drawn on 4h
    bars is 186 points, not 44,640 looked at)."""
    first = bisect_left(line.times, -(-start_us // MICROS))
    stop = bisect_left(line.times, last_us // MICROS + 1)
    if not every:
        yield from zip(line.times[first:stop], line.values[first:stop], strict=True)
        return
    at = first
    while at < stop:
        bucket_end = (line.times[at] // every + 1) * every
        at = bisect_left(line.times, bucket_end, at, stop)  # past the bucket's last point
        yield line.times[at - 1], line.values[at - 1]


def _points(pairs: Iterable[tuple[int, float]], every: int | None) -> list[dict[str, Any]]:
    """The points, at most one per ``every`` seconds: the last in each."""
    points: list[dict[str, Any]] = []
    for time, value in pairs:
        if every and points and points[-1]["time"] // every == time // every:
            points[-1] = {"time": time, "value": value}
        else:
            points.append({"time": time, "value": value})
    return points


class IndicatorCache:
    """The progress of the most recently charted ``size`` (dataset, symbol, strategy) series
    (~10 MB each for a 200k-bar dataset with a three-band indicator)."""

    def __init__(self, size: int = 16):
        self.size = size
        self._entries: OrderedDict[Hashable, IndicatorProgress] = OrderedDict()
        self._lock = threading.Lock()

    def progress(self, key: Hashable, make: Callable[[], IndicatorProgress]) -> IndicatorProgress:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                found = self._entries[key] = make()
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(key)
            return found

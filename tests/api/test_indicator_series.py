"""Indicators extended as a replay advances equal the indicators computed from the first bar at
every position the chart asks at, including the partial bar a position cuts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.api.indicator_series import IndicatorProgress
from papertape.domain.bar_columns import BarColumns
from papertape.domain.indicators import Bollinger, Sma
from papertape.domain.market import MICROS, Candle
from papertape.market.bars import resample_candles

MINUTE = 60 * MICROS
INTERVAL = 300  # the strategy's bars: five 1m bars, so a position can cut one


def minutes(closes: list[float]) -> list[Candle]:
    return [
        Candle(i * MINUTE, "BTC_USDT", 60, c, c + 1, c - 1, c, 1.0) for i, c in enumerate(closes)
    ]


def chart_indicators() -> dict[str, Any]:
    return {"fast": (Sma(3), "close"), "bb": (Bollinger(4, 2.0), "close")}


def bars_before(base: list[Candle], start: int, end: int) -> BarColumns:
    """What ``read_bar_columns`` answers: the strategy's bars opening in [start, end), built
    from the 1m bars before ``end`` (the last one partial when ``end`` cuts it)."""
    bars = resample_candles([c for c in base if c.ts < end], INTERVAL)
    return BarColumns.from_candles([b for b in bars if b.ts >= start])


def from_first_bar(base: list[Candle], end: int, start: int = 0) -> dict[Any, list[dict]]:
    """The route before the cache: every indicator run over every bar at each ask."""
    return IndicatorProgress(chart_indicators(), INTERVAL).series(
        bars_before(base, 0, end), start, end, None
    )


def extended(progress: IndicatorProgress, base: list[Candle], end: int, start: int = 0) -> Any:
    return progress.series(bars_before(base, progress.next_ts, end), start, end, None)


closes = st.lists(st.floats(100, 200, allow_nan=False), min_size=1, max_size=80)


@settings(max_examples=150, deadline=None)
@given(closes, st.lists(st.integers(0, 90), min_size=1, max_size=12), st.integers(0, 60))
def test_asks_at_advancing_positions_equal_a_computation_from_the_first_bar(
    prices: list[float], steps: list[int], chart_start: int
) -> None:
    base = minutes(prices)
    progress = IndicatorProgress(chart_indicators(), INTERVAL)
    position = 0
    for step in steps:  # a replay moves on (or not) between a chart's asks
        position += step
        end = position * MINUTE + 1
        start = chart_start * MINUTE
        assert extended(progress, base, end, start) == from_first_bar(base, end, start)


@settings(max_examples=100, deadline=None)
@given(closes, st.integers(1, 90), st.integers(1, 90))
def test_a_tab_behind_the_others_gets_the_whole_bars_before_its_position(
    prices: list[float], ahead: int, behind: int
) -> None:
    base = minutes(prices)
    progress = IndicatorProgress(chart_indicators(), INTERVAL)
    extended(progress, base, max(ahead, behind) * MINUTE + 1)
    end = min(ahead, behind) * MINUTE + 1
    got = extended(progress, base, end)
    # never a value from after its position: the bars that end by then, as computed from the
    # first bar; the bar its position cuts is drawn once it catches up
    whole = {
        key: [p for p in points if p["time"] * MICROS + INTERVAL * MICROS <= end]
        for key, points in from_first_bar(base, end).items()
    }
    cut = from_first_bar(base, end)
    assert all(got[key] in (whole[key], cut[key]) for key in cut)


def test_tabs_asking_at_once_fold_each_bar_once() -> None:
    base = minutes([100 + (i * 7919) % 53 for i in range(3000)])
    progress = IndicatorProgress(chart_indicators(), INTERVAL)
    ends = [(i * 97) * MINUTE + 1 for i in range(1, 31)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda end: extended(progress, base, end), ends))
    end = 3000 * MINUTE + 1
    assert extended(progress, base, end) == from_first_bar(base, end)


def test_every_keeps_the_last_point_of_each_chart_bar() -> None:
    base = minutes([100 + (i * 31) % 17 for i in range(600)])
    end = 600 * MINUTE + 1
    full = from_first_bar(base, end)
    hourly = IndicatorProgress(chart_indicators(), INTERVAL).series(
        bars_before(base, 0, end), 0, end, 3600
    )
    for key, points in full.items():
        last_per_hour: dict[int, dict] = {}
        for point in points:
            last_per_hour[point["time"] // 3600] = point
        assert hourly[key] == list(last_per_hour.values())
        assert len(hourly[key]) <= 600 * 60 // 3600 + 1


@settings(max_examples=100, deadline=None)
@given(closes)
def test_points_are_each_indicator_fed_bar_by_bar(prices: list[float]) -> None:
    """The columnar fold gives exactly what the domain's indicators give, fed one bar at a time
    (Bollinger's three bands included)."""
    base = minutes(prices)
    end = len(prices) * MINUTE + 1
    bars = resample_candles(base, INTERVAL)
    expected: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for name, (indicator, source) in chart_indicators().items():
        for output in indicator.price_outputs:
            expected[(name, output)] = []
        for bar in bars:
            indicator.update(getattr(bar, source))
            for output in indicator.price_outputs:
                value = indicator.output(output)
                if value is not None:
                    expected[(name, output)].append({"time": bar.ts // MICROS, "value": value})
    assert from_first_bar(base, end) == expected


def test_bar_columns_from_candles_and_their_views() -> None:
    base = minutes([100.0 + i for i in range(10)])
    bars = BarColumns.from_candles(base)
    assert bars.size == 10
    assert bars.close.tolist() == [c.close for c in base]
    assert bars.high.tolist() == [c.high for c in base]
    assert bars.since(base[4].ts).ts.tolist() == [c.ts for c in base[4:]]
    assert bars.since(base[4].ts + 1).size == 5
    assert bars.last(3).close.tolist() == [107.0, 108.0, 109.0]
    assert bars.last(30).size == 10
    assert bars.field("volume").tolist() == [1.0] * 10
    with pytest.raises(ValueError, match="no field"):
        bars.field("ts")
    with pytest.raises(ValueError, match="one length"):
        BarColumns(bars.ts, bars.open, bars.high, bars.low, bars.close[:-1], bars.volume)

"""Bars a chart asks for at a coarser interval than the stored ones: aggregated by the store
where it can (SQLite, in SQL) or in Python after reading the base bars (any store), they are the
same bars, on real 1m candles with a gap cut into them and windows that do not fall on bucket
edges."""

from __future__ import annotations

import pytest

from papertape.domain.market import MICROS
from papertape.market.bars import read_bars, resample_candles
from papertape.market.importers import read_market_file
from tests.support.data import MARKET_DATA

MONTH = MARKET_DATA / "btc-perp_1m_2022-01.csv.gz"


@pytest.fixture(scope="module")
def month_with_a_gap() -> list:
    rows = read_market_file(MONTH, symbol="BTC_USDT").rows
    return rows[:9_000] + rows[9_500:]  # 500 minutes missing: buckets with fewer bars, or none


@pytest.mark.parametrize("interval", [300, 3_600, 14_400, 86_400, 7 * 86_400])
async def test_bars_resampled_by_the_store_are_the_ones_python_makes(
    store, month_with_a_gap: list, interval: int
) -> None:
    await store.write_candles("month", month_with_a_gap)
    first, last = month_with_a_gap[0].ts, month_with_a_gap[-1].ts
    windows = [(0, last + 1), (first + 37 * 60 * MICROS, last - 3 * 3_600 * MICROS + 1)]
    for start, end in windows:
        stored = await store.read_candles("month", ["BTC_USDT"], start, end, 60)
        expected = resample_candles(stored, interval)
        bars, made_of = await read_bars(store, "month", "BTC_USDT", interval, start, end)
        assert made_of == "candles_60s"
        assert [b[:7] for b in bars] == [b[:7] for b in expected]  # ts ... close: exactly
        assert [b.volume for b in bars] == pytest.approx([b.volume for b in expected], rel=1e-12)
    natively = await store.read_resampled("month", "BTC_USDT", 0, last + 1, 60, interval)
    if store.__class__.__name__ == "SQLiteStore":  # aggregated in SQL, not by the fallback
        assert natively is not None
        assert [b[:7] for b in natively] == [
            b[:7] for b in resample_candles(month_with_a_gap, interval)
        ]
    assert await store.read_resampled("month", "ETH_USDT", 0, last + 1, 60, interval) in ([], None)

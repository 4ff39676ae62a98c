"""``read_bar_columns``: one symbol's stored bars of one interval as columns, the same bars in
the same order as ``read_candles`` gives them, on both stores."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from papertape.domain.bar_columns import BarColumns
from papertape.domain.market import BAR_FIELDS, MICROS, Candle

T0 = 1_700_000_000_000_000


def bars(symbol: str, interval: int, price: float, count: int = 50) -> list[Candle]:
    return [
        Candle(
            T0 + i * interval * MICROS,
            symbol,
            interval,
            price + i,
            price + i + 0.75,
            price + i - 0.5,
            price + i + 0.25,
            0.125 * (i + 1),
        )
        for i in range(count)
    ]


def as_lists(columns: BarColumns) -> list[list[object]]:
    return [columns.ts.tolist(), *(getattr(columns, name).tolist() for name in BAR_FIELDS)]


def rows_as_lists(rows: list[Candle]) -> list[list[object]]:
    return [[c.ts for c in rows], *([getattr(c, name) for c in rows] for name in BAR_FIELDS)]


def assert_typed(columns: BarColumns) -> None:
    assert columns.ts.dtype == np.int64
    assert all(getattr(columns, name).dtype == np.float64 for name in BAR_FIELDS)


async def test_columns_are_the_bars_read_candles_gives(store):
    minutes, hours = bars("BTC_USDT", 60, 40_000.0), bars("BTC_USDT", 3600, 41_000.0, count=5)
    await store.write_candles("ds1", minutes + hours + bars("ETH_USDT", 60, 2_000.0))
    await store.write_candles("ds2", bars("BTC_USDT", 60, 1.0, count=20))
    last = minutes[-1].ts
    windows = [
        (T0, last + 1),  # everything
        (minutes[10].ts, minutes[30].ts),  # start is in, end is out
        (last, last + 1),  # the last bar alone
        (T0 + 1, T0 + 60 * MICROS),  # between two bars: nothing
        (T0 - 10**9, T0),  # before the first: nothing
    ]
    for source in ("ds1", "ds2", "ds3"):
        for symbol in ("BTC_USDT", "ETH_USDT"):
            for interval in (60, 3600):
                for start, end in windows:
                    columns = await store.read_bar_columns(source, symbol, start, end, interval)
                    rows = await store.read_candles(source, [symbol], start, end, interval)
                    assert_typed(columns)
                    assert as_lists(columns) == rows_as_lists(rows), (source, symbol, interval)
    middle = await store.read_bar_columns("ds1", "BTC_USDT", minutes[10].ts, minutes[30].ts, 60)
    assert middle.size == 20
    assert middle.close.tolist() == [c.close for c in minutes[10:30]]
    hourly = await store.read_bar_columns("ds1", "BTC_USDT", T0, T0 + 10**12, 3600)
    assert hourly.close.tolist() == [c.close for c in hours]


async def test_quotes_and_backslashes_in_names(store):
    """QuestDB's export takes the names inside its SQL text: they must stay names."""
    source, symbol = "o'brien\\", "A'B"
    await store.write_candles(source, bars(symbol, 60, 5.0, count=6))
    await store.write_candles("o", bars(symbol, 60, 9.0, count=6))
    columns = await store.read_bar_columns(source, symbol, T0, T0 + 10**12, 60)
    assert columns.close.tolist() == [c.close for c in bars(symbol, 60, 5.0, count=6)]
    assert (await store.read_bar_columns(source, "A", T0, T0 + 10**12, 60)).size == 0


READ_IN_A_FRESH_PROCESS = """
import asyncio, sys
from papertape.domain.market import Candle, Trade
from papertape.store import store_for

async def main(url):
    store = store_for(url)
    await store.open()
    await store.write_candles("fresh", [Candle(T0 + i * 60_000_000, "BTC_USDT", 60, 1.0, 2.0,
                                               0.5, 1.5, 3.0) for i in range(100)])
    await store.write_trades("fresh", [Trade(T0 + i, "BTC_USDT", 1.0, 0.1, "buy", str(i))
                                       for i in range(100)])
    bars = await store.read_bar_columns("fresh", "BTC_USDT", T0, T0 + 10**12, 60)
    trades = await store.read_trade_columns("fresh", "BTC_USDT", T0, T0 + 10**12)
    reader = await store.trade_column_reader()  # on SQLite, ADBC's (the store closed)
    try:
        streamed = await reader.read_trade_columns("fresh", "BTC_USDT", T0, T0 + 10**12)
    finally:
        await reader.close()
    counts = (bars.size, len(trades), len(streamed))
    assert counts == (100, 100, 100), counts
    print("pandas imported" if "pandas" in sys.modules else "no pandas")

T0 = 1_700_000_000_000_000
asyncio.run(main(sys.argv[1]))
"""


def test_columnar_reads_do_not_import_pandas(store_url):
    """pyarrow's ``to_numpy``, the ADBC DB-API module and Arrow arrays built from Python values
    all import pandas: ~0.9 s holding the interpreter, paid by a server at its first chart."""
    done = subprocess.run(
        [sys.executable, "-c", READ_IN_A_FRESH_PROCESS, store_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "no pandas"

"""Imports read big files a chunk at a time and file exactly what a whole read would."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from papertape.domain.errors import InvalidDataFile
from papertape.market.dataset_import import import_dataset, stream_market_file
from papertape.market.importers import read_market_file
from papertape.store.sqlite import SQLiteStore
from tests.test_importers import DATA, REAL_FILES


@pytest.mark.parametrize(("name", "kind", "rows", "first_ts", "own_symbol"), REAL_FILES)
def test_chunks_hold_the_rows_a_whole_read_holds(name, kind, rows, first_ts, own_symbol):
    symbol = None if own_symbol else "X_USDT"
    whole = read_market_file(DATA / name, symbol=symbol)
    chunks = list(stream_market_file(DATA / name, symbol=symbol, chunk_rows=700))
    streamed = sorted((r for c in chunks for r in c.rows), key=lambda r: r.ts)
    assert streamed == whole.rows  # the whole read is stable-sorted too: same ties, same order
    assert {c.kind for c in chunks} == {kind}
    assert {c.interval for c in chunks} == {whole.interval}


@pytest.mark.parametrize(
    "name",
    [
        "btc-perp_1m_2022-01.csv.gz",  # gzip CSV
        "binance_btcusdt_trades_2021-01-08.parquet",
        "binance-futures_ethusdt_trades_2023-02-02.csv",
    ],
)
def test_csv_and_parquet_are_read_a_chunk_at_a_time(name):
    chunks = list(stream_market_file(DATA / name, symbol="X_USDT", chunk_rows=300))
    assert len(chunks) > 3
    assert max(len(c.rows) for c in chunks) <= 300


def test_json_and_depth_diffs_are_read_whole():
    for name in ("binance_xrpeth_trades.json.gz", "binance-futures_btcusdt_depth-update.csv"):
        chunks = list(stream_market_file(DATA / name, symbol="X_USDT", chunk_rows=1))
        assert len(chunks) == 1


def test_an_error_in_a_later_chunk_names_the_files_row(tmp_path):
    lines = ["timestamp,price,qty,side"]
    lines += [f"{1_700_000_000_000 + i},{100 + i % 7},0.5,buy" for i in range(2_500)]
    lines[2_001] = "1700000002000,-5,0.5,buy"  # row 2,001 of the data
    path = tmp_path / "trades.csv.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    with pytest.raises(InvalidDataFile) as caught:
        list(stream_market_file(path, symbol="BTC_USDT", chunk_rows=1_000))
    assert "row 2001" in caught.value.message and "trades.csv.gz" in caught.value.message


def test_a_streamed_import_files_the_same_dataset(tmp_path, monkeypatch):
    name = "btc-perp_1m_2022-01.csv.gz"
    monkeypatch.setattr("papertape.market.dataset_import.STREAM_ROWS", 4_000)

    async def imported() -> tuple[object, list[object]]:
        store = SQLiteStore(f"sqlite:///{tmp_path / 'p.db'}")
        await store.open()
        try:
            dataset = await import_dataset(store, DATA / name, "btc", symbol="BTC_USDT")
            rows = await store.read_candles("btc", ["BTC_USDT"], 0, 2**62)
            return dataset, rows
        finally:
            await store.close()

    chunks = []
    real = stream_market_file

    def counted(*args, **kwargs):
        for chunk in real(*args, **kwargs):
            chunks.append(len(chunk.rows))
            yield chunk

    monkeypatch.setattr("papertape.market.dataset_import.stream_market_file", counted)
    dataset, rows = asyncio.run(imported())
    assert len(chunks) == 12 and max(chunks) == 4_000  # 45,031 rows, 4,000 at a time
    whole = read_market_file(DATA / name, symbol="BTC_USDT")
    assert rows == whole.rows
    assert (dataset.rows, dataset.start_ts, dataset.end_ts, dataset.interval) == (
        45_031,
        whole.start_ts,
        whole.end_ts,
        60,
    )
    assert dataset.symbols == ("BTC_USDT",) and dataset.kind == "candles"


def test_a_header_only_file_has_no_rows(tmp_path):
    path = Path(tmp_path / "empty.csv")
    path.write_text("timestamp,price,qty\n")

    async def imported() -> None:
        store = SQLiteStore(f"sqlite:///{tmp_path / 'p.db'}")
        await store.open()
        try:
            await import_dataset(store, path, "e", symbol="BTC_USDT")
        finally:
            await store.close()

    with pytest.raises(InvalidDataFile, match="holds no rows"):
        asyncio.run(imported())

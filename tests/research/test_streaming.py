"""Datasets streamed from the store in chunks give exactly the backtest of the rows in memory."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from papertape.domain.market import Trade
from papertape.domain.numbers import finite
from papertape.domain.trade_columns import SIDES, TradeColumns
from papertape.engine.backtest import run_backtest, run_backtest_stream
from papertape.market.importers import read_market_file
from papertape.research.data import DataSpec, dataset_chunks, load_rows
from papertape.store import open_store
from tests.api.test_lifecycle_http import import_dataset
from tests.cli.test_cli import papertape
from tests.research.test_search import build
from tests.support.data import MARKET_DATA

PARAMS = {"fast": 10, "slow": 30}


def test_a_streamed_dataset_backtests_exactly_as_in_memory(
    any_store_url: str, candles_file: Path
) -> None:
    import_dataset(any_store_url, "btc_1m", candles_file, "BTC_USDT")
    rows = load_rows(DataSpec("BTC_USDT", file=str(candles_file)))
    total, chunks = dataset_chunks(any_store_url, "btc_1m", "BTC_USDT", target_rows=700)
    sizes: list[int] = []

    def counted():  # the chunks, remembering their sizes
        for chunk in chunks:
            sizes.append(len(chunk))
            yield chunk

    streamed = run_backtest_stream(counted(), ["BTC_USDT"], [build(PARAMS)])
    whole = run_backtest(rows, ["BTC_USDT"], [build(PARAMS)])
    assert total == sum(sizes) == len(rows)
    assert len(sizes) >= 5 and max(sizes) < 1_000  # really in chunks, none of them the whole
    assert streamed.metrics == whole.metrics
    assert streamed.trades == whole.trades

    cli = papertape(
        "backtest", "--dataset", "btc_1m", "--store", any_store_url, "--symbol", "BTC_USDT",
        "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30", "--json",
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["metrics"] == finite(whole.metrics)


def write_tape(store_url: str) -> list[Trade]:
    """Real trades (many share a millisecond) filed in reverse, beside another symbol's (a
    third of them, every side repainted "unknown"); returns the BTC tape."""
    tape = read_market_file(
        MARKET_DATA / "binance_btcusdt_trades_2021-01-08.parquet", symbol="BTC_USDT"
    ).rows
    eth = [t._replace(symbol="ETH_USDT", price=t.price / 30, side="unknown") for t in tape[::3]]

    async def write() -> None:
        store = await open_store(store_url)
        try:
            await store.write_trades("tape", tape[::-1])
            await store.write_trades("tape", eth)
        finally:
            await store.close()

    asyncio.run(write())
    return tape


def read_whole(store_url: str, symbol: str) -> list[Trade]:
    async def read() -> list[Trade]:
        store = await open_store(store_url)
        try:
            return await store.read_trades("tape", [symbol], 0, 2**62)
        finally:
            await store.close()

    return asyncio.run(read())


def test_streamed_trades_are_the_whole_read_row_for_row(any_store_url: str) -> None:
    """The chunks, joined, are exactly the rows of one whole read, in (ts, symbol, trade id)
    order, with their prices, quantities, sides and trade ids; as columns, the same prints
    without their ids."""
    tape = write_tape(any_store_url)
    whole = read_whole(any_store_url, "BTC_USDT")
    total, chunks = dataset_chunks(any_store_url, "tape", "BTC_USDT", target_rows=150)
    streamed = [list(chunk) for chunk in chunks]
    assert total == len(tape) + len(tape[::3])
    assert whole == sorted(tape, key=lambda t: (t.ts, t.symbol, t.trade_id))
    assert [t for chunk in streamed for t in chunk] == whole
    assert all(type(t) is Trade for chunk in streamed for t in chunk)
    assert len(streamed) >= 8 and max(map(len, streamed)) < len(whole) // 4

    for symbol, rows in (("BTC_USDT", whole), ("ETH_USDT", read_whole(any_store_url, "ETH_USDT"))):
        _, column_chunks = dataset_chunks(
            any_store_url, "tape", symbol, target_rows=150, columns=True
        )
        parts = list(column_chunks)
        assert all(isinstance(part, TradeColumns) and len(part) for part in parts)
        assert len(parts) >= 4
        assert [t for part in parts for t in part.rows()] == [t._replace(trade_id="") for t in rows]
        sides = {SIDES[int(code)] for part in parts for code in part.side}
        assert sides == ({"unknown"} if symbol == "ETH_USDT" else {"buy", "sell"})


def test_a_trades_dataset_backtests_and_sweeps_as_its_rows(any_store_url: str) -> None:
    """A dataset of trades is streamed as columns by ``backtest --dataset`` and held as columns
    by a sweep's workers: both give exactly the metrics of the rows' backtest."""
    tape = write_tape(any_store_url)
    rows = [t._replace(trade_id="") for t in read_whole(any_store_url, "BTC_USDT")]
    params = {"fast": 2, "slow": 5, "bar_interval": 1}
    expected = finite(run_backtest(rows, ["BTC_USDT"], [build(params)]).metrics)
    assert expected["trades"] >= 3

    spec = DataSpec("BTC_USDT", dataset="tape", store_url=any_store_url)
    held = load_rows(spec)
    assert isinstance(held, TradeColumns) and held.rows() == rows
    assert len(tape) == len(held)

    async def held_beside_an_open_store() -> object:
        """As a sweep session's worker loads it, its own store open on the same file (on
        SQLite the columns then come through ``sqlite3``, not the ADBC driver)."""
        store = await open_store(any_store_url)
        try:
            return await asyncio.to_thread(load_rows, spec)
        finally:
            await store.close()

    beside = asyncio.run(held_beside_an_open_store())
    assert isinstance(beside, TradeColumns) and beside.rows() == rows

    flags = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    source = ["--dataset", "tape", "--store", any_store_url, "--symbol", "BTC_USDT"]
    cli = papertape("backtest", *source, "--strategy", "sma_cross", *flags, "--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["metrics"] == expected

    grid = ["--grid", "fast=2,3", "--grid", "slow=5", "--grid", "bar_interval=1"]
    swept = papertape(
        "sweep", *source, "--strategy", "sma_cross", *grid, "--workers", "2", "--json"
    )
    assert swept.returncode == 0, swept.stderr
    trials = {t["params"]["fast"]: t for t in json.loads(swept.stdout)["trials"]}
    assert trials[2]["metrics"] == expected
    assert trials[2]["engine"] == "event"


def test_a_stream_left_early_ends_its_reads_and_thread(any_store_url: str) -> None:
    """A caller that stops after the first chunk (a backtest halted by its risk rules) leaves
    no read under way and no reader thread behind."""
    write_tape(any_store_url)
    _, chunks = dataset_chunks(any_store_url, "tape", "BTC_USDT", target_rows=100, columns=True)
    assert len(next(chunks)) > 0
    assert [t for t in threading.enumerate() if t.name.startswith("dataset-read-ahead")]
    chunks.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("dataset-read-ahead")]

"""``read_trade_columns``: one symbol's trades as columns, the same trades in the same order as
``read_trades`` gives them, on both stores."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import psycopg
import pytest

from papertape.domain.errors import StoreError, StoreUnavailable
from papertape.domain.market import Trade
from papertape.domain.trade_columns import SIDE_CODES, TradeColumns
from papertape.store.questdb import QuestDBSettings, QuestDBStore
from papertape.store.sqlite import SQLiteStore
from papertape.store.sqlite_arrow import ArrowTradeReader

T0 = 1_700_000_000_000_000
SIDES = ("buy", "sell", "unknown")


def tape(symbol: str, price: float, count: int = 60) -> list[Trade]:
    """Three trades per timestamp, their ids out of order as text (``ORDER BY trade_id`` shows)."""
    return [
        Trade(
            T0 + (i // 3) * 1000,
            symbol,
            price + i * 0.25,
            0.001 * (i + 1),
            SIDES[i % 3],
            str(i * 7 % 13),
        )
        for i in range(count)
    ]


def as_lists(columns: TradeColumns) -> tuple[list[object], ...]:
    return (
        columns.ts.tolist(),
        columns.price.tolist(),
        columns.qty.tolist(),
        columns.side.tolist(),
    )


def rows_as_lists(rows: list[Trade]) -> tuple[list[object], ...]:
    return (
        [t.ts for t in rows],
        [t.price for t in rows],
        [t.qty for t in rows],
        [SIDE_CODES[t.side] for t in rows],
    )


def assert_typed(columns: TradeColumns, symbol: str) -> None:
    assert columns.symbol == symbol
    assert (columns.ts.dtype, columns.price.dtype, columns.qty.dtype, columns.side.dtype) == (
        np.int64,
        np.float64,
        np.float64,
        np.int8,
    )


async def test_columns_are_the_trades_read_trades_gives(store):
    btc, eth = tape("BTC_USDT", 40_000.0), tape("ETH_USDT", 2_000.0)
    await store.write_trades("ds1", btc + eth)
    await store.write_trades("ds2", tape("BTC_USDT", 1.0, count=30))
    last = btc[-1].ts
    windows = [
        (T0, last + 1),  # everything
        (btc[9].ts, btc[30].ts),  # from three trades at one ts, to just before three more
        (last, last + 1),  # the last timestamp alone
        (T0 + 1, T0 + 1000),  # between two timestamps: nothing
        (T0 - 10_000, T0),  # before the first: nothing
    ]
    for source in ("ds1", "ds2"):
        for symbol in ("BTC_USDT", "ETH_USDT"):
            for start, end in windows:
                columns = await store.read_trade_columns(source, symbol, start, end)
                rows = await store.read_trades(source, [symbol], start, end)
                assert_typed(columns, symbol)
                assert as_lists(columns) == rows_as_lists(rows), (source, symbol, start, end)
    # the bounds: start is in, end is out
    middle = await store.read_trade_columns("ds1", "BTC_USDT", btc[9].ts, btc[30].ts)
    assert middle.ts.tolist() == [t.ts for t in btc if btc[9].ts <= t.ts < btc[30].ts]
    assert len(middle) == 21
    assert sorted(middle.side.tolist()) == [-1] * 7 + [0] * 7 + [1] * 7
    empty = await store.read_trade_columns("ds1", "BTC_USDT", T0 + 1, T0 + 1000)
    assert len(empty) == 0
    assert_typed(empty, "BTC_USDT")
    nothing = await store.read_trade_columns("ds3", "BTC_USDT", T0, last + 1)
    assert len(nothing) == 0
    assert_typed(nothing, "BTC_USDT")


async def test_columns_see_every_write_that_returned(store):
    trades = tape("BTC_USDT", 100.0)
    await store.write_trades("ds1", trades[:30])
    assert len(await store.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 10**9)) == 30
    await store.write_trades("ds1", trades[30:])
    again = await store.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 10**9)
    assert as_lists(again) == rows_as_lists(
        await store.read_trades("ds1", ["BTC_USDT"], T0, T0 + 10**9)
    )
    assert len(again) == 60


async def test_quotes_and_backslashes_in_names(store):
    """QuestDB's export takes the names inside its SQL text: they must stay names."""
    source, symbol = "o'brien\\", "A'B"
    await store.write_trades(source, tape(symbol, 5.0, count=6))
    await store.write_trades("o", tape(symbol, 9.0, count=6))
    columns = await store.read_trade_columns(source, symbol, T0, T0 + 10**9)
    rows = await store.read_trades(source, [symbol], T0, T0 + 10**9)
    assert len(columns) == 6
    assert as_lists(columns) == rows_as_lists(rows)
    assert len(await store.read_trade_columns(source, "A", T0, T0 + 10**9)) == 0


async def test_concurrent_reads_each_get_their_window(store):
    trades = tape("BTC_USDT", 100.0, count=300)
    await store.write_trades("ds1", trades)
    bounds = sorted({t.ts for t in trades})[::10] + [trades[-1].ts + 1]
    windows = list(zip(bounds, bounds[1:], strict=False))
    got = await asyncio.gather(
        *(store.read_trade_columns("ds1", "BTC_USDT", start, end) for start, end in windows)
    )
    for (start, end), columns in zip(windows, got, strict=True):
        assert columns.ts.tolist() == [t.ts for t in trades if start <= t.ts < end]


# ids of every kind at each timestamp: numbers of different lengths ("10" before "9"), with
# leading zeros, longer than a tie key holds (19 digits), and not numbers at all
ODD_IDS = ("9", "10", "0099", "1234567890123456789", "abc", "", "7f-1", "1" * 18, "12")


def odd_tape(symbol: str, stamps: int = 4) -> list[Trade]:
    return [
        Trade(T0 + t * 1000, symbol, 100.0 + t + i / 100, 0.01 * (i + 1), SIDES[i % 3], trade_id)
        for t in range(stamps)
        for i, trade_id in enumerate(ODD_IDS)
    ]


async def test_ties_of_ids_of_every_kind_come_in_trade_id_order(store):
    trades = odd_tape("BTC_USDT")
    await store.write_trades("ds1", trades)
    columns = await store.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 10**9)
    rows = await store.read_trades("ds1", ["BTC_USDT"], T0, T0 + 10**9)
    assert [t.trade_id for t in rows[: len(ODD_IDS)]] == sorted(ODD_IDS, key=str.encode)
    assert as_lists(columns) == rows_as_lists(rows)


async def test_questdb_orders_trades_written_before_tie_keys_by_their_ids(questdb_url):
    """Trades written before the store wrote tie keys (migration 10) have none: they and the
    keyed prints they share timestamps with are put in trade id order all the same."""
    store = QuestDBStore(questdb_url)
    await store.open()
    try:
        trades = odd_tape("ETH_USDT")
        old, new = trades[::2], trades[1::2]
        async with await psycopg.AsyncConnection.connect(
            QuestDBSettings.from_url(questdb_url).conninfo, autocommit=True
        ) as conn:
            for t in old:  # as the store wrote them before: no tie_key
                await conn.execute(
                    "INSERT INTO trades (ts, source, symbol, trade_id, price, qty, side) "
                    "VALUES (%s::timestamp, %s, %s, %s, %s, %s, %s)",
                    (t.ts, "old", t.symbol, t.trade_id, t.price, t.qty, t.side),
                )
        await store.write_trades("old", new)
        await store._await_applied("trades")  # the SQL inserts are another writer's
        keys = await store._query(
            "SELECT count(), count(tie_key) FROM trades WHERE source = 'old'", ()
        )
        assert keys == [
            (len(trades), len([t for t in new if t.trade_id.isdigit() and len(t.trade_id) <= 18]))
        ]
        columns = await store.read_trade_columns("old", "ETH_USDT", T0, T0 + 10**9)
        rows = await store.read_trades("old", ["ETH_USDT"], T0, T0 + 10**9)
        assert len(rows) == len(trades)
        assert as_lists(columns) == rows_as_lists(rows)
        # the next windows of these trades are exported with their ids at once
        assert store._unkeyed == {("old", "ETH_USDT")}
        again = await store.read_trade_columns("old", "ETH_USDT", T0 + 1000, T0 + 10**9)
        assert as_lists(again) == rows_as_lists(rows[len(ODD_IDS) :])
    finally:
        await store.close()


async def test_questdb_refuses_control_characters_and_non_integer_bounds(questdb_url):
    store = QuestDBStore(questdb_url)
    await store.open()
    try:
        with pytest.raises(ValueError, match="control character"):
            await store.read_trade_columns("ds1", "BTC\nUSDT", T0, T0 + 1)
        with pytest.raises(TypeError):
            await store.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 0.5)  # type: ignore[arg-type]
    finally:
        await store.close()


async def test_questdb_export_waits_while_other_clients_hold_every_export_place(questdb_url):
    """QuestDB counts a connection that asked for an export until it is closed: clients that
    keep theirs alive hold the server's few export places, and the store waits for one."""
    settings = QuestDBSettings.from_url(questdb_url)
    base_url = f"http://{settings.host}:{settings.http_port}"
    limit = httpx.get(
        f"{base_url}/exec",
        params={"query": "(SHOW PARAMETERS) WHERE property_path = 'http.export.connection.limit'"},
    ).json()["dataset"][0][2]
    store = QuestDBStore(questdb_url)
    await store.open()
    holders = [httpx.Client(base_url=base_url) for _ in range(int(limit))]
    try:
        await store.write_trades("ds1", tape("BTC_USDT", 1.0))
        for holder in holders:  # each keeps its connection, and with it an export place
            holder.get("/exp", params={"query": "SELECT 1", "fmt": "parquet"}).raise_for_status()
        read = asyncio.create_task(store.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 10**9))
        await asyncio.sleep(0.5)
        assert not read.done()
        for holder in holders:
            holder.close()
        assert len(await asyncio.wait_for(read, 10)) == 60
        with store.settings.http_client() as client, pytest.raises(StoreError, match="nope"):
            store._export(client, "SELECT nope FROM trades")
    finally:
        for holder in holders:
            holder.close()
        await store.close()


async def test_a_reading_process_reads_the_same_columns_through_its_column_reader(store):
    """What a streamed backtest's or a sweep worker's process reads with
    (``trade_column_reader``; on SQLite the ADBC driver, the store closed): the same prints in
    the same order as ``read_trades``."""
    trades = tape("BTC_USDT", 40_000.0) + odd_tape("ETH_USDT")
    await store.write_trades("ds1", trades)
    await store.write_trades("ds2", tape("BTC_USDT", 1.0, count=30))
    last = max(t.ts for t in trades)
    windows = [(T0, last + 1), (T0 + 3000, T0 + 10_000), (last, last + 1), (T0 + 1, T0 + 1000)]
    reads = [
        (s, sym, start, end)
        for s in ("ds1", "ds2", "ds3")
        for sym in ("BTC_USDT", "ETH_USDT")
        for start, end in windows
    ]
    expected = [rows_as_lists(await store.read_trades(s, [sym], a, b)) for s, sym, a, b in reads]
    reader = await store.trade_column_reader()
    try:
        for (source, symbol, start, end), rows in zip(reads, expected, strict=True):
            columns = await reader.read_trade_columns(source, symbol, start, end)
            assert_typed(columns, symbol)
            assert as_lists(columns) == rows, (source, symbol, start, end)
    finally:
        await reader.close()  # the store, or what replaced it (the fixture closes it again)


async def test_sqlite_column_reader_has_the_file_to_itself(tmp_path):
    """The ADBC driver links a SQLite library of its own: while it reads, nothing in this
    process may have the file open through ``sqlite3`` (the two break each other's locks)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = SQLiteStore(url)
    await store.open()
    await store.write_trades("ds1", tape("BTC_USDT", 1.0))
    reader = await store.trade_column_reader()
    try:
        assert isinstance(reader, ArrowTradeReader)
        with pytest.raises(StoreUnavailable, match="not open"):  # it closed the store
            await store.read_trades("ds1", ["BTC_USDT"], T0, T0 + 10**9)
        other = SQLiteStore(url)
        with pytest.raises(StoreUnavailable, match="open through adbc"):
            await other.open()
        await other.close()
        assert len(await reader.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 10**9)) == 60
    finally:
        await reader.close()
    again = SQLiteStore(url)  # once the reader is closed, sqlite3 may open the file again
    await again.open()
    try:
        assert len(await again.read_trades("ds1", ["BTC_USDT"], T0, T0 + 10**9)) == 60
    finally:
        await again.close()


async def test_sqlite_column_reader_is_the_store_while_sqlite3_has_the_file_elsewhere(tmp_path):
    """A sweep's session worker writes its trials through ``sqlite3`` while its sweep reads the
    dataset: the dataset is then read through ``sqlite3`` too, by the store itself."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    writer, store = SQLiteStore(url), SQLiteStore(url)
    await writer.open()
    await store.open()
    try:
        await writer.write_trades("ds1", tape("BTC_USDT", 1.0))
        reader = await store.trade_column_reader()
        assert reader is store
        columns = await reader.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 10**9)
        assert as_lists(columns) == rows_as_lists(
            await writer.read_trades("ds1", ["BTC_USDT"], T0, T0 + 10**9)
        )
        await writer.write_trades("ds1", tape("BTC_USDT", 1.0, count=90))  # writes go on
        assert len(await reader.read_trade_columns("ds1", "BTC_USDT", T0, T0 + 10**9)) == 90
    finally:
        await store.close()
        await writer.close()

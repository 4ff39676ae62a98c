"""A SQLite store's trades read as columns through the ADBC SQLite driver, which decodes the rows
into Arrow columns in C without holding the interpreter (``sqlite3`` builds a Python object per
value, holding it: a backtest streamed 1.3M prints a second so against 3.2M through ADBC,
``bench/big_replay.py``).

The driver links a SQLite library of its own, so a process may use it only while nothing in the
process has the file open through ``sqlite3`` (``sqlite_libraries`` says why): it serves the
processes that read a dataset and nothing else, a streamed backtest's and a sweep's workers,
once their store is closed (``SQLiteStore.trade_column_reader``).

It is driven through the driver manager's own interface, not its DB-API module: that module
imports ``pyarrow.dataset`` and with it pandas, ~0.9 s holding the interpreter. The query comes
with its values written in (``sql_text``): binding parameters would convert them to Arrow from
Python, which imports pandas too.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from papertape.domain.trade_columns import TradeColumns
from papertape.store import sqlite_libraries
from papertape.store.arrow_columns import SIDE_CODE_SQL, trade_columns
from papertape.store.sql_text import integer, literal

if TYPE_CHECKING:
    import pyarrow as pa


def trade_columns_sql(source: str, symbol: str, start: int, end: int) -> str:
    """The query of ``symbol``'s trades as ``trade_columns`` takes them, in ``read_trades``'
    order, with its values written in."""
    return (
        f"SELECT ts, price, qty, {SIDE_CODE_SQL} AS side FROM trades "
        f"WHERE source={literal(source)} AND symbol={literal(symbol)} "
        f"AND ts>={integer(start)} AND ts<{integer(end)} ORDER BY ts, symbol, trade_id"
    )


class ArrowTradeReader:
    """A read-only, autocommit ADBC connection to the store's file, set as the store's readers
    are: autocommit, so that no read transaction stays open between reads (one would keep
    seeing the database as it was, and hold back WAL checkpoints). One read at a time."""

    def __init__(self, path: Path):
        import adbc_driver_manager as adbc
        import adbc_driver_sqlite

        self.path = path
        self._lock = threading.Lock()
        self._open = True
        sqlite_libraries.opened(path, sqlite_libraries.ADBC)
        try:
            self._database = adbc_driver_sqlite.connect(str(path))
            try:
                self._conn = adbc.AdbcConnection(self._database)
                self._conn.set_autocommit(True)
                for pragma in ("query_only=ON", "busy_timeout=10000"):
                    self._execute(f"PRAGMA {pragma}")
            except BaseException:
                self._database.close()
                raise
        except BaseException:
            sqlite_libraries.closed(path, sqlite_libraries.ADBC)
            raise

    async def read_trade_columns(
        self, source: str, symbol: str, start: int, end: int
    ) -> TradeColumns:
        """``MarketDataStore.read_trade_columns``, on a thread of the loop's pool (the driver
        leaves the interpreter to others meanwhile)."""
        sql = trade_columns_sql(source, symbol, start, end)

        def read() -> TradeColumns:
            with self._lock:
                return trade_columns(symbol, self._table(sql))

        return await asyncio.to_thread(read)

    def _table(self, sql: str) -> pa.Table:
        import adbc_driver_manager as adbc
        import pyarrow as pa

        statement = adbc.AdbcStatement(self._conn)
        try:
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()
            reader = pa.RecordBatchReader.from_stream(stream)
            return pa.Table.from_batches(list(reader), schema=reader.schema)
        finally:
            statement.close()

    def _execute(self, sql: str) -> None:
        import adbc_driver_manager as adbc

        statement = adbc.AdbcStatement(self._conn)
        try:
            statement.set_sql_query(sql)
            statement.execute_update()
        finally:
            statement.close()

    async def close(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._open = False
            try:
                self._conn.close()
                self._database.close()
            finally:
                sqlite_libraries.closed(self.path, sqlite_libraries.ADBC)

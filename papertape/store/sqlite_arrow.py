"""A SQLite store's columnar reads: the ADBC SQLite driver decodes the rows into Arrow columns in
C without holding the interpreter (``sqlite3`` builds a Python object per value).

It is driven through the driver manager's own interface, not its DB-API module: that module
imports ``pyarrow.dataset`` and with it pandas, ~0.9 s holding the interpreter, which a server
would pay at its first chart. The queries come with their values written in (``sql_text``):
binding parameters would convert them to Arrow from Python, which imports pandas too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


class ArrowReader:
    """A read-only, autocommit connection to the store's file, set as the store's other readers
    are: autocommit, so that no read transaction stays open between reads (one would keep
    seeing the database as it was, and hold back WAL checkpoints). Used from one thread."""

    def __init__(self, path: Path):
        import adbc_driver_manager as adbc
        import adbc_driver_sqlite

        self._database = adbc_driver_sqlite.connect(str(path))
        self._conn = adbc.AdbcConnection(self._database)
        self._conn.set_autocommit(True)
        for pragma in ("query_only=ON", "busy_timeout=10000"):
            self._execute(f"PRAGMA {pragma}")

    def table(self, sql: str) -> pa.Table:
        """The result of ``sql`` as an Arrow table."""
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

    def close(self) -> None:
        self._conn.close()
        self._database.close()

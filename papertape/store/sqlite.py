"""The embedded store: one SQLite file in WAL mode, zero set-up.

Every write runs on one dedicated thread with one connection, so compare-and-set is a plain
transaction; reads run on three other connections and threads (market data, sessions' trading
records, and the rest), which see every write that has returned (WAL: read-your-writes). A session's creation and
its state changes are fsynced before they return: a session recorded by ``start`` survives a
crash or a power cut before the id is handed out (see ``_write``). The writes waiting together
are committed in one transaction and one fsync, each in a savepoint of its own
(``sqlite_thread``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from papertape.domain.bar_columns import BAR_COLUMNS, BarColumns
from papertape.domain.errors import SessionNotFound, StoreUnavailable
from papertape.domain.funding import FundingPayment, FundingRate
from papertape.domain.market import (
    BAR_FIELDS,
    MICROS,
    BookSnapshot,
    Candle,
    MarkPrice,
    StreamPosition,
    Trade,
)
from papertape.domain.records import (
    Dataset,
    EquityPoint,
    Fill,
    OrderRecord,
    PositionRecord,
    SavedStrategy,
)
from papertape.domain.session import Mode, NewEvent, Session, SessionEvent, SessionState
from papertape.domain.trade_columns import TRADE_COLUMNS, TradeColumns
from papertape.domain.trials import TrialRecord
from papertape.store import sqlite_libraries
from papertape.store.base import (
    Record,
    ResumeState,
    SessionFilter,
    SessionPage,
    StaleState,
    Store,
    TradeColumnReader,
    TradingCommit,
    encoded_row,
    session_filter_sql,
    thin_picks,
)
from papertape.store.bulk_rows import build_rows
from papertape.store.sqlite_arrow import ArrowTradeReader, trade_columns_sql
from papertape.store.sqlite_schema import MARKET_KINDS, MIGRATIONS
from papertape.store.sqlite_thread import StoreThread
from papertape.store.trial_rows import TRIAL_COLUMNS, trial_from_row, trial_row

T = TypeVar("T")

_SESSION_COLUMNS = (
    "session_id, mode, state, symbols, config, created_at, updated_at, started_at, ended_at, "
    "stop_reason, error_code, error_message, idempotency_key, last_seq, checkpoint"
)


def _session_row(s: Session) -> tuple[Any, ...]:
    return (
        s.session_id,
        s.mode.value,
        s.state.value,
        json.dumps(list(s.symbols)),
        json.dumps(s.config),
        s.created_at,
        s.updated_at,
        s.started_at,
        s.ended_at,
        s.stop_reason,
        s.error_code,
        s.error_message,
        s.idempotency_key,
        s.last_seq,
        json.dumps(s.checkpoint),
    )


def _session_from(row: sqlite3.Row) -> Session:
    return Session(
        session_id=row["session_id"],
        mode=Mode(row["mode"]),
        state=SessionState(row["state"]),
        symbols=tuple(json.loads(row["symbols"])),
        config=json.loads(row["config"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        stop_reason=row["stop_reason"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        idempotency_key=row["idempotency_key"],
        last_seq=row["last_seq"],
        checkpoint=json.loads(row["checkpoint"]),
    )


def path_from_url(url: str) -> Path:
    """``sqlite:///./var/papertape.db`` → ``./var/papertape.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a sqlite URL: {url!r} (expected sqlite:///PATH)")
    return Path(url[len(prefix) :])


class SQLiteStore(Store):
    # writers serialise on the database file (BEGIN IMMEDIATE, busy_timeout) and events are
    # numbered inside their transaction: a worker process may write its session's record
    writes_across_processes = True

    def __init__(self, url: str):
        self.url = url
        self.path = path_from_url(url)
        self._thread = StoreThread("sqlite-store")  # every write, one at a time
        # Reads run on connections and threads of their own, so that none waits behind the
        # writes (a backtest's big commits, a hundred sessions' checkpoints) and no write waits
        # behind a read: a session's state (its page, a stop's look at it) on one, market data
        # (a replay loading its dataset) on another, and the trading records and events a
        # session's page lists (100,000s of equity points after a long backtest) on a third, so
        # that a session's state never queues behind a big read (``/health``'s ping has its own). WAL: a reader sees
        # every transaction committed before its read began, so a write that returned is seen.
        self._reads = StoreThread("sqlite-reads")
        self._market = StoreThread("sqlite-market-reads")
        self._records = StoreThread("sqlite-record-reads")
        # ``/health``'s question (does the store answer?) waits behind no read at all
        self._ping = StoreThread("sqlite-ping")

    # plumbing --------------------------------------------------------------------------------
    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run the read ``fn`` on the reads' thread. ``fn`` must return plain values, never a
        cursor (``sqlite_thread.confined`` refuses one)."""
        self._check_open()
        return await self._reads.read(fn)

    async def _read_market(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self._check_open()
        return await self._market.read(fn)

    async def _read_records(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self._check_open()
        return await self._records.read(fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T], *, durable: bool = False) -> T:
        """Run ``fn`` inside a transaction: all of it is stored, or none of it. It returns once
        the transaction committed (with the other writes waiting at the same time: group
        commit, see ``sqlite_thread``).

        ``durable`` transactions (a session's creation and its state changes) are fsynced before
        they return, so they survive a power cut. The others (events, the trading record,
        market data) survive a crash of the process (WAL with ``synchronous=NORMAL``) and are
        fsynced at the next checkpoint: paying an fsync per fill would cap a backtest at a few
        hundred fills a second.
        """
        self._check_open()
        return await self._thread.write(fn, durable=durable)

    def _check_open(self) -> None:
        if self._thread.conn is None:
            raise StoreUnavailable(f"store {self.url} is not open")

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def connect() -> sqlite3.Connection:
            conn = _connect(self.path)
            try:
                _migrate(conn)
            except BaseException:
                conn.close()
                raise
            return conn

        try:
            await self._thread.open(connect)
            for reader in self._readers:
                await reader.open(lambda: _connect(self.path, read_only=True))
        except (sqlite3.Error, sqlite_libraries.OtherLibraryOpen) as exc:
            raise StoreUnavailable(f"cannot open {self.url}: {exc}") from exc

    async def open_reader(self) -> None:
        if not self.path.exists():
            raise StoreUnavailable(f"cannot open {self.url}: no such database")
        try:
            for thread in (self._thread, *self._readers):
                await thread.open(lambda: _connect(self.path, read_only=True))
        except (sqlite3.Error, sqlite_libraries.OtherLibraryOpen) as exc:
            raise StoreUnavailable(f"cannot open {self.url}: {exc}") from exc

    @property
    def _readers(self) -> tuple[StoreThread, ...]:
        return (self._reads, self._market, self._records, self._ping)

    async def close(self) -> None:
        for reader in self._readers:
            await reader.close()
        await self._thread.close()

    async def ping(self) -> bool:
        try:
            self._check_open()
            return await self._ping.read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except (sqlite3.Error, StoreUnavailable):
            return False

    # sessions --------------------------------------------------------------------------------
    async def create_session(self, session: Session, event: NewEvent) -> Session:
        def create(conn: sqlite3.Connection) -> Session:
            if session.idempotency_key is not None:
                existing = _select_session(conn, "idempotency_key = ?", session.idempotency_key)
                if existing is not None:
                    return existing
            conn.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                _session_row(session),
            )
            _append_events(conn, session.session_id, [event])
            stored = _select_session(conn, "session_id = ?", session.session_id)
            assert stored is not None
            return stored

        return await self._write(create, durable=True)

    async def update_session(
        self, session: Session, expected: SessionState, event: NewEvent | None
    ) -> Session:
        def update(conn: sqlite3.Connection) -> Session:
            current = _select_session(conn, "session_id = ?", session.session_id)
            if current is None:
                raise SessionNotFound(f"session {session.session_id} not found")
            if current.state is not expected:
                raise StaleState(current)
            conn.execute(
                "UPDATE sessions SET state=?, updated_at=?, started_at=?, ended_at=?, "
                "stop_reason=?, error_code=?, error_message=? WHERE session_id=?",
                (
                    session.state.value,
                    session.updated_at,
                    session.started_at,
                    session.ended_at,
                    session.stop_reason,
                    session.error_code,
                    session.error_message,
                    session.session_id,
                ),
            )
            if event is not None:
                _append_events(conn, session.session_id, [event])
            stored = _select_session(conn, "session_id = ?", session.session_id)
            assert stored is not None
            return stored

        return await self._write(update, durable=True)

    async def save_checkpoint(self, session_id: str, checkpoint: dict[str, Any]) -> None:
        text = json.dumps(checkpoint)
        await self._write(
            lambda c: _execute(
                c, "UPDATE sessions SET checkpoint=? WHERE session_id=?", (text, session_id)
            )
        )

    async def get_session(self, session_id: str) -> Session | None:
        return await self._run(lambda c: _select_session(c, "session_id = ?", session_id))

    async def find_session_by_key(self, idempotency_key: str) -> Session | None:
        return await self._run(lambda c: _select_session(c, "idempotency_key = ?", idempotency_key))

    async def list_sessions(self, query: SessionFilter) -> SessionPage:
        where, params = session_filter_sql(
            query, "?", "EXISTS (SELECT 1 FROM json_each(sessions.symbols) WHERE value = ?)"
        )

        def page(conn: sqlite3.Connection) -> SessionPage:
            total = conn.execute(f"SELECT count(*) FROM sessions {where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions {where} "
                "ORDER BY created_at DESC, session_id DESC LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            ).fetchall()
            return SessionPage([_session_from(r) for r in rows], total)

        return await self._run(page)

    async def unfinished_sessions(self) -> list[Session]:
        terminal = tuple(s.value for s in SessionState if s.terminal)

        def select(conn: sqlite3.Connection) -> list[Session]:
            rows = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE state NOT IN (?, ?, ?) "
                "ORDER BY created_at",
                terminal,
            ).fetchall()
            return [_session_from(r) for r in rows]

        return await self._run(select)

    # events ----------------------------------------------------------------------------------
    async def append_events(
        self, session_id: str, events: Sequence[NewEvent]
    ) -> list[SessionEvent]:
        if not events:
            return []
        return await self._write(lambda c: _append_events(c, session_id, events))

    async def list_events(
        self, session_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[SessionEvent]:
        def select(conn: sqlite3.Connection) -> list[SessionEvent]:
            rows = conn.execute(
                "SELECT seq, ts, kind, data FROM events WHERE session_id=? AND seq>? "
                "ORDER BY seq LIMIT ?",
                (session_id, after_seq, limit),
            ).fetchall()
            return [
                SessionEvent(session_id, r["seq"], r["ts"], r["kind"], json.loads(r["data"]))
                for r in rows
            ]

        return await self._read_records(select)  # a page of events is a record list

    # the trading record ----------------------------------------------------------------------
    async def commit(self, step: TradingCommit) -> list[SessionEvent]:
        """One transaction: all of the step is stored, or none of it."""
        record = step.record

        def write(conn: sqlite3.Connection) -> list[SessionEvent]:
            for sql, rows in (
                (_UPSERT_ORDER, record.orders),
                (_INSERT_FILL, record.fills),
                (_UPSERT_POSITION, record.positions),
                (_REPLACE_EQUITY, record.equity),
                (_INSERT_FUNDING, record.funding),
            ):
                if rows:
                    _execute_many(conn, sql, rows)
            events = _append_events(conn, step.session_id, step.events) if step.events else []
            _execute(
                conn,
                "INSERT INTO resume_states (session_id, ts, count, engine, commits) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT (session_id) DO UPDATE SET "
                "ts=excluded.ts, count=excluded.count, engine=excluded.engine, "
                "commits=resume_states.commits + 1",
                (step.session_id, step.position.ts, step.position.seen, step.engine),
            )
            return events

        return await self._write(write)

    async def resume_state(self, session_id: str) -> ResumeState | None:
        def select(conn: sqlite3.Connection) -> ResumeState | None:
            row = conn.execute(
                "SELECT ts, count, engine, commits FROM resume_states WHERE session_id=?",
                (session_id,),
            ).fetchone()
            if row is None:
                return None
            return ResumeState(StreamPosition(row[0], row[1]), bytes(row[2]), row[3])

        return await self._run(select)

    async def list_funding(self, session_id: str) -> list[FundingPayment]:
        return await self._select_records(FundingPayment, "funding", session_id, "ts, symbol")

    async def list_orders(self, session_id: str) -> list[OrderRecord]:
        return await self._select_records(OrderRecord, "orders", session_id, "created_ts, order_id")

    async def list_fills(self, session_id: str) -> list[Fill]:
        return await self._select_records(Fill, "fills", session_id, "ts, fill_id")

    async def list_positions(self, session_id: str) -> list[PositionRecord]:
        return await self._select_records(PositionRecord, "positions", session_id, "symbol")

    async def list_equity(self, session_id: str, limit: int = 10_000) -> list[EquityPoint]:
        return await self._select_records(EquityPoint, "equity", session_id, "ts", limit)

    async def _select_records(
        self,
        record: type[Record],
        table: str,
        session_id: str,
        order: str,
        limit: int | None = None,
    ) -> list[Record]:
        """The session's rows of ``table``, thinned evenly to ``limit`` by SQLite itself (a long
        backtest has 100,000s of equity points: read them all into Python and a session's page
        took seconds, and held the GIL the engines need)."""
        columns = ", ".join(record._fields)

        def select(conn: sqlite3.Connection) -> list[Record]:
            where = f"FROM {table} WHERE session_id=?"
            total = (
                conn.execute(f"SELECT COUNT(*) {where}", (session_id,)).fetchone()[0]
                if limit is not None
                else 0
            )
            if limit is None or total <= limit:
                found = conn.execute(
                    f"SELECT {columns} {where} ORDER BY {order}", (session_id,)
                ).fetchall()
            else:
                numbered = (
                    f"SELECT {columns}, ROW_NUMBER() OVER (ORDER BY {order}) - 1 AS position "
                    f"{where}"
                )
                found = conn.execute(
                    f"SELECT {columns} FROM ({numbered}) "
                    "WHERE position IN (SELECT value FROM json_each(?)) ORDER BY position",
                    (session_id, json.dumps(thin_picks(total, limit))),
                ).fetchall()
            return [record(*r) for r in found]

        return await self._read_records(select)

    async def _executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            await self._write(lambda c: _execute_many(c, sql, rows))

    # market data -----------------------------------------------------------------------------
    async def write_trades(self, source: str, rows: Sequence[Trade]) -> None:
        await self._executemany(
            "INSERT OR IGNORE INTO trades (source, symbol, ts, trade_id, price, qty, side) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(source, t.symbol, t.ts, t.trade_id, t.price, t.qty, t.side) for t in rows],
        )

    async def write_candles(self, source: str, rows: Sequence[Candle]) -> None:
        await self._executemany(
            "INSERT OR REPLACE INTO candles "
            "(source, symbol, interval, ts, open, high, low, close, volume) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (source, c.symbol, c.interval, c.ts, c.open, c.high, c.low, c.close, c.volume)
                for c in rows
            ],
        )

    async def write_books(self, source: str, rows: Sequence[BookSnapshot]) -> None:
        await self._executemany(
            "INSERT OR REPLACE INTO books (source, symbol, ts, bids, asks) VALUES (?, ?, ?, ?, ?)",
            [(source, b.symbol, b.ts, json.dumps(b.bids), json.dumps(b.asks)) for b in rows],
        )

    async def write_funding(self, source: str, rows: Sequence[FundingRate]) -> None:
        await self._executemany(
            "INSERT OR REPLACE INTO funding_rates (source, symbol, ts, rate, mark_price) "
            "VALUES (?, ?, ?, ?, ?)",
            [(source, f.symbol, f.ts, f.rate, f.mark_price) for f in rows],
        )

    async def read_funding(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[FundingRate]:
        sql = (
            "SELECT ts, symbol, rate, mark_price FROM funding_rates "
            f"WHERE source=? AND symbol IN ({_marks(symbols)}) AND ts>=? AND ts<? "
            "ORDER BY ts, symbol"
        )
        args = (source, *symbols, start, end)
        return await self._read_market(lambda c: build_rows(FundingRate, _tuples(c, sql, args)))

    async def write_marks(self, source: str, rows: Sequence[MarkPrice]) -> None:
        await self._executemany(
            "INSERT OR REPLACE INTO mark_prices (source, symbol, ts, price) VALUES (?, ?, ?, ?)",
            [(source, m.symbol, m.ts, m.price) for m in rows],
        )

    async def read_marks(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[MarkPrice]:
        sql = (
            "SELECT ts, symbol, price FROM mark_prices "
            f"WHERE source=? AND symbol IN ({_marks(symbols)}) AND ts>=? AND ts<? "
            "ORDER BY ts, symbol"
        )
        args = (source, *symbols, start, end)
        return await self._read_market(lambda c: build_rows(MarkPrice, _tuples(c, sql, args)))

    async def read_trades(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[Trade]:
        sql = (
            "SELECT ts, symbol, price, qty, side, trade_id FROM trades "
            f"WHERE source=? AND symbol IN ({_marks(symbols)}) AND ts>=? AND ts<? "
            "ORDER BY ts, symbol, trade_id"
        )
        args = (source, *symbols, start, end)
        return await self._read_market(lambda c: build_rows(Trade, _tuples(c, sql, args)))

    async def read_trade_columns(
        self, source: str, symbol: str, start: int, end: int
    ) -> TradeColumns:
        """Through ``sqlite3``, on the market thread, straight into NumPy's columns. A process
        that reads a dataset and nothing else reads faster through ``trade_column_reader``."""
        sql = trade_columns_sql(source, symbol, start, end)
        columns = await self._read_market(lambda c: _columns(c, sql, (), _TRADE_ROW))
        return TradeColumns(symbol, *columns)

    async def trade_column_reader(self) -> TradeColumnReader:
        """The ADBC driver's reader (``sqlite_arrow``), in place of this store, which is closed:
        the driver links a SQLite library of its own, and a file is open through one library
        at a time in a process (``sqlite_libraries``). The store itself when anything else in
        this process has the file open through ``sqlite3`` (a sweep's session worker, which
        writes its trials)."""
        own = sum(thread.conn is not None for thread in (self._thread, *self._readers))
        if sqlite_libraries.connections(self.path, sqlite_libraries.SQLITE3) > own:
            return self
        await self.close()
        return ArrowTradeReader(self.path)

    async def read_bar_columns(
        self, source: str, symbol: str, start: int, end: int, interval: int
    ) -> BarColumns:
        """Through ``sqlite3``, not ADBC (the server reads bars, and writes the same file
        through ``sqlite3``: ``sqlite_libraries``), straight into NumPy's columns."""
        sql = (
            f"SELECT ts, {', '.join(BAR_FIELDS)} FROM candles "
            "WHERE source=? AND symbol=? AND interval=? AND ts>=? AND ts<? ORDER BY ts"
        )
        args = (source, symbol, interval, start, end)
        return await self._read_market(lambda c: BarColumns(*_columns(c, sql, args, _BAR_ROW)))

    async def read_candles(
        self, source: str, symbols: Sequence[str], start: int, end: int, interval: int | None = None
    ) -> list[Candle]:
        interval_clause = "" if interval is None else " AND interval=?"
        sql = (
            "SELECT ts, symbol, interval, open, high, low, close, volume FROM candles "
            f"WHERE source=? AND symbol IN ({_marks(symbols)}) AND ts>=? AND ts<?{interval_clause} "
            "ORDER BY ts, symbol"
        )
        args: tuple[Any, ...] = (source, *symbols, start, end)
        if interval is not None:
            args = (*args, interval)
        return await self._read_market(lambda c: build_rows(Candle, _tuples(c, sql, args)))

    async def read_resampled(
        self, source: str, symbol: str, start: int, end: int, base: int, interval: int
    ) -> list[Candle] | None:
        # per bucket its first and last base bar (for open and close) and the aggregates, in
        # SQLite's C over the primary key; only the buckets' rows become Python objects
        step = interval * MICROS
        sql = (
            "SELECT g.bucket, o.open, g.high, g.low, c.close, g.volume FROM ("
            " SELECT ts - ts % ? AS bucket, min(ts) AS first, max(ts) AS last,"
            " max(high) AS high, min(low) AS low, sum(volume) AS volume FROM candles"
            " WHERE source=? AND symbol=? AND interval=? AND ts>=? AND ts<? GROUP BY bucket"
            ") g"
            " JOIN candles o ON o.source=? AND o.symbol=? AND o.interval=? AND o.ts=g.first"
            " JOIN candles c ON c.source=? AND c.symbol=? AND c.interval=? AND c.ts=g.last"
            " ORDER BY g.bucket"
        )
        key = (source, symbol, base)
        args = (step, *key, start, end, *key, *key)
        return await self._read_market(
            lambda c: [
                Candle(bucket, symbol, interval, o, h, lo, cl, v)
                for bucket, o, h, lo, cl, v in c.execute(sql, args)
            ]
        )

    async def read_books(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[BookSnapshot]:
        sql = (
            "SELECT ts, symbol, bids, asks FROM books "
            f"WHERE source=? AND symbol IN ({_marks(symbols)}) AND ts>=? AND ts<? "
            "ORDER BY ts, symbol"
        )
        args = (source, *symbols, start, end)

        def select(conn: sqlite3.Connection) -> list[BookSnapshot]:
            return [
                BookSnapshot(ts, symbol, _levels(bids), _levels(asks))
                for ts, symbol, bids, asks in conn.execute(sql, args)
            ]

        return await self._read_market(select)

    async def market_summary(self, source: str) -> dict[str, dict[str, Any]]:
        def summarise(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
            summary = {}
            for kind, table in MARKET_KINDS.items():
                rows = conn.execute(
                    f"SELECT symbol, count(*), min(ts), max(ts) FROM {table} "
                    "WHERE source=? GROUP BY symbol ORDER BY symbol",
                    (source,),
                ).fetchall()
                if rows:
                    summary[kind] = {
                        "rows": sum(r[1] for r in rows),
                        "start_ts": min(r[2] for r in rows),
                        "end_ts": max(r[3] for r in rows),
                        "symbols": [r[0] for r in rows],
                    }
            return summary

        return await self._read_market(summarise)

    # datasets and strategies ----------------------------------------------------------------
    async def save_dataset(self, dataset: Dataset) -> None:
        row = encoded_row(dataset, symbols=json.dumps(list(dataset.symbols)))
        await self._write(
            lambda c: _execute(
                c,
                "INSERT OR REPLACE INTO datasets (name, kind, symbols, rows, start_ts, end_ts, "
                "created_at, interval, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(row),
            )
        )

    async def get_dataset(self, name: str) -> Dataset | None:
        found = await self._datasets("WHERE name=?", (name,))
        return found[0] if found else None

    async def list_datasets(self) -> list[Dataset]:
        return await self._datasets("", ())

    async def _datasets(self, where: str, args: tuple[Any, ...]) -> list[Dataset]:
        sql = (
            "SELECT name, kind, symbols, rows, start_ts, end_ts, created_at, interval, origin "
            f"FROM datasets {where} ORDER BY created_at DESC, name"
        )

        def select(conn: sqlite3.Connection) -> list[Dataset]:
            return [
                Dataset(*r)._replace(symbols=tuple(json.loads(r[2])))
                for r in conn.execute(sql, args)
            ]

        return await self._run(select)

    async def save_strategy(self, strategy: SavedStrategy) -> None:
        row = encoded_row(strategy, params=json.dumps(strategy.params))
        await self._write(
            lambda c: _execute(
                c,
                "INSERT INTO strategies (name, base, params, created_at, updated_at, description) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET base=excluded.base, "
                "params=excluded.params, updated_at=excluded.updated_at, "
                "description=excluded.description",
                tuple(row),
            )
        )

    async def get_strategy(self, name: str) -> SavedStrategy | None:
        found = await self._strategies("WHERE name=?", (name,))
        return found[0] if found else None

    async def list_strategies(self) -> list[SavedStrategy]:
        return await self._strategies("", ())

    async def _strategies(self, where: str, args: tuple[Any, ...]) -> list[SavedStrategy]:
        sql = (
            "SELECT name, base, params, created_at, updated_at, description "
            f"FROM strategies {where} ORDER BY name"
        )

        def select(conn: sqlite3.Connection) -> list[SavedStrategy]:
            return [
                SavedStrategy(*r)._replace(params=json.loads(r[2])) for r in conn.execute(sql, args)
            ]

        return await self._run(select)

    # sweep trials --------------------------------------------------------------------------
    async def record_trials(self, rows: Sequence[TrialRecord]) -> None:
        if not rows:
            return
        values = [trial_row(t) for t in rows]
        await self._write(
            lambda c: _execute_many(
                c,
                f"INSERT OR REPLACE INTO trials ({', '.join(TRIAL_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(TRIAL_COLUMNS))})",
                values,
            )
        )

    async def list_trials(self, session_id: str) -> list[TrialRecord]:
        def select(conn: sqlite3.Connection) -> list[TrialRecord]:
            cursor = conn.execute(
                f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials WHERE session_id = ? ORDER BY number",
                (session_id,),
            )
            return [trial_from_row(r) for r in cursor]

        return await self._run(select)


def _execute(conn: sqlite3.Connection, sql: str, args: Sequence[Any] = ()) -> None:
    """Run one statement; its cursor is closed here, on the store thread."""
    conn.execute(sql, args).close()


def _execute_many(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    conn.executemany(sql, rows).close()


_UPSERT_ORDER = (
    f"INSERT INTO orders ({', '.join(OrderRecord._fields)}) "
    f"VALUES ({', '.join('?' * len(OrderRecord._fields))}) "
    "ON CONFLICT (session_id, order_id) DO UPDATE SET "
    + ", ".join(f"{f}=excluded.{f}" for f in OrderRecord._fields[2:])
    + " WHERE excluded.ts >= orders.ts"
)
_INSERT_FILL = (
    f"INSERT OR IGNORE INTO fills ({', '.join(Fill._fields)}) "
    f"VALUES ({', '.join('?' * len(Fill._fields))})"
)
_UPSERT_POSITION = (
    f"INSERT INTO positions ({', '.join(PositionRecord._fields)}) "
    f"VALUES ({', '.join('?' * len(PositionRecord._fields))}) "
    "ON CONFLICT (session_id, symbol) DO UPDATE SET "
    + ", ".join(f"{f}=excluded.{f}" for f in PositionRecord._fields if f != "symbol")
    + " WHERE excluded.ts >= positions.ts"
)
_INSERT_FUNDING = (
    f"INSERT OR IGNORE INTO funding ({', '.join(FundingPayment._fields)}) "
    f"VALUES ({', '.join('?' * len(FundingPayment._fields))})"
)
_REPLACE_EQUITY = (
    f"INSERT OR REPLACE INTO equity ({', '.join(EquityPoint._fields)}) "
    f"VALUES ({', '.join('?' * len(EquityPoint._fields))})"
)


def _marks(values: Sequence[Any]) -> str:
    if not values:
        raise ValueError("at least one symbol is needed")
    return ", ".join("?" * len(values))


def _tuples(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
    """The rows of a market-data query as plain tuples, for ``build_rows``: building a
    ``sqlite3.Row`` (the connection's row factory) first cost 10-15% of a read of millions of
    trades."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, args)


# a row of ``trade_columns_sql`` and of a bar as NumPy takes them
_TRADE_ROW = np.dtype(list(TRADE_COLUMNS))
_BAR_ROW = np.dtype(list(BAR_COLUMNS))


def _columns(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any], row: np.dtype[np.void]
) -> list[NDArray[Any]]:
    """The query's rows as one NumPy array per column of ``row`` (in its order): a tuple per
    row is built and dropped at once, no Python object per value is kept."""
    rows = np.fromiter(_tuples(conn, sql, args), row)
    return [np.ascontiguousarray(rows[name]) for name in row.fields or ()]


def _levels(text: str) -> tuple[tuple[float, float], ...]:
    return tuple((float(p), float(q)) for p, q in json.loads(text))


def _select_session(conn: sqlite3.Connection, where: str, value: str) -> Session | None:
    row = conn.execute(
        f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE {where}", (value,)
    ).fetchone()
    return None if row is None else _session_from(row)


def _append_events(
    conn: sqlite3.Connection, session_id: str, events: Sequence[NewEvent]
) -> list[SessionEvent]:
    row = conn.execute(
        "UPDATE sessions SET last_seq = last_seq + ? WHERE session_id = ? RETURNING last_seq",
        (len(events), session_id),
    ).fetchone()
    if row is None:
        raise SessionNotFound(f"session {session_id} not found")
    first = row[0] - len(events) + 1
    numbered = [
        SessionEvent(session_id, first + i, e.ts, e.kind, e.data) for i, e in enumerate(events)
    ]
    _execute_many(
        conn,
        "INSERT INTO events (session_id, seq, ts, kind, data) VALUES (?, ?, ?, ?, ?)",
        [(e.session_id, e.seq, e.ts, e.kind, json.dumps(e.data)) for e in numbered],
    )
    return numbered


class _CountedConnection(sqlite3.Connection):
    """A connection counted in ``sqlite_libraries`` from its opening to its close."""

    def __init__(self, path: Path, **kwargs: Any):
        sqlite_libraries.opened(path, sqlite_libraries.SQLITE3)
        try:
            super().__init__(path, **kwargs)
        except BaseException:
            sqlite_libraries.closed(path, sqlite_libraries.SQLITE3)
            raise
        self._counted: Path | None = path

    def close(self) -> None:
        try:
            super().close()
        finally:
            path, self._counted = self._counted, None
            if path is not None:
                sqlite_libraries.closed(path, sqlite_libraries.SQLITE3)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, factory=_CountedConnection
    )
    try:
        conn.row_factory = sqlite3.Row
        if read_only:
            conn.execute("PRAGMA query_only=ON")
        else:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
    for version, statements in MIGRATIONS:
        if version in applied:  # by number, not "above the newest": branches land out of order
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

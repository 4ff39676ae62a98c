"""The server store: QuestDB, for users who collect a lot of market data or run many sessions.

URL: ``questdb://[user:password@]host[:http_port][?pg_port=8812&write_retry_seconds=60
&wal_wait_seconds=30]`` (defaults: HTTP 9000, PG wire 8812, ``admin``/``quest``).

High-rate rows go in over ILP/HTTP (``questdb_ingest``); everything is read over PG wire with
psycopg 3 (autocommit, binary results, ``prepare_threshold=None`` so no server-side prepared plan
outlives a DDL). Timestamps travel as integer microseconds both ways (``%s::timestamp`` in,
``cast(ts AS LONG)`` out), so no naive/aware datetime ever appears.

**Read-your-writes.** QuestDB applies WAL writes asynchronously, so the store splits its tables:

- Session state, events, checkpoints, datasets and strategies live in non-WAL tables
  (``BYPASS WAL``). An INSERT there is applied by the statement itself: a session ``start``
  returned is found by ``GET /sessions/{id}`` and by ``stop`` at once, from any connection or
  process, with no waiting and no cache. They are insert-only (an INSERT costs about a
  millisecond; an UPDATE on QuestDB rewrites column files and costs 10-50 ms), and every row
  carries ``written_at`` from one strictly increasing clock, so "newest" is well defined:

  * ``sessions`` holds one version per state (created, then one per transition); the newest
    is the session (``LATEST ON written_at PARTITION BY session_id`` for lists, ``ORDER BY
    written_at DESC LIMIT 1`` for one session: ``LATEST ON`` with a bind variable on the
    partition column returned another session's row on a reused connection with 9.3.4);
  * its ``last_seq`` is its newest event's ``seq`` (``append_events`` writes only events);
  * its ``checkpoint`` is the newest ``checkpoints`` row when that is newer than the version
    (a running session saves one every few seconds; each new version carries it on).

  Compare-and-set reads the current state and appends the next version under that session's
  write lock (sessions never wait for each other, only each INSERT for its table's): the session
  service is the only writer of session state (DESIGN.md), so one server process per store is
  the supported set-up.
- The trading record and market data are WAL tables fed by ILP. After this process writes a
  table it notes so; the next read of that table first reads the table's sequencer txn from
  ``wal_tables()`` and waits until the writer txn reaches it, so every write that returned before
  the read is visible to it. Tables nobody wrote since the last wait are read without waiting.
  ``open`` counts every WAL table as written, so a restarted server sees all committed rows.

**Exactly once.** A trading session's ``commit`` (rows, tape events and the state to resume
from; see ``papertape.engine.snapshot``) cannot be one transaction here: the record's tables are
WAL tables fed by ILP, events and resume states are non-WAL tables, and QuestDB has no
transaction across tables. So a commit is a *redo log* entry first:

1. Under the session's write lock, its events are numbered after the session's last, and one
   row goes into ``resume_states``: the session, its commit number, the stream position, the
   engine state and the whole commit (rows and numbered events, compressed). One INSERT on a
   non-WAL table is atomic and durable when it returns: this is the moment the commit happens.
   If the statement breaks mid-way it is retried only after a read says it did not land.
   Every control write retries so (``_write``): a restart of QuestDB slows sessions down and
   never fails them, and never doubles an event, a version or a commit.
2. Then it is *applied*: the events are inserted (those not there yet, by ``seq``), and the rows
   are sent over ILP to tables whose ``DEDUP UPSERT KEYS`` are the rows' identities, so applying
   a commit twice changes nothing.
3. ``open`` re-applies the newest commit of every unfinished session before anything reads: a
   crash (of papertape or of QuestDB) between 1 and 2 loses nothing and doubles nothing. A
   session commits only after its previous commit was applied, so only the newest can be
   pending.

**Crash safety of sessions.** QuestDB has no transactions across tables, so a state change writes its event
first, carrying a snapshot of the session it moves to, and the session version second. The
events table is thus the sessions' write-ahead log: ``open`` replays any snapshot newer than the
session's newest version (a crash between the two writes) before anything reads a session.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import psycopg
import structlog

from papertape.domain.bar_columns import BarColumns
from papertape.domain.errors import (
    SessionNotFound,
    StoreError,
    StoreUnavailable,
    StoreWriteFailed,
)
from papertape.domain.funding import FundingPayment, FundingRate
from papertape.domain.market import BookSnapshot, Candle, MarkPrice, StreamPosition, Trade
from papertape.domain.records import (
    Dataset,
    EquityPoint,
    Fill,
    OrderRecord,
    PositionRecord,
    RecordBatch,
    SavedStrategy,
)
from papertape.domain.session import Mode, NewEvent, Session, SessionEvent, SessionState
from papertape.domain.trade_columns import TradeColumns
from papertape.domain.trials import TrialRecord
from papertape.store import questdb_ingest as ingest
from papertape.store.arrow_columns import (
    SIDE_CODE_SQL,
    bar_columns,
    trades_in_tie_key_order,
    trades_in_trade_id_order,
)
from papertape.store.base import (
    ResumeState,
    SessionFilter,
    SessionPage,
    StaleState,
    Store,
    TradeColumnReader,
    TradingCommit,
    encoded_row,
    session_filter_sql,
    thin_evenly,
)
from papertape.store.bulk_rows import collector_paused
from papertape.store.questdb_schema import (
    MARKET_KINDS,
    MARKET_TABLES,
    MIGRATIONS,
    MIGRATIONS_TABLE,
    WAL_TABLES,
)
from papertape.store.sql_text import integer, literal
from papertape.store.trade_ties import NO_KEY, UnkeyedTies
from papertape.store.trial_rows import TRIAL_COLUMNS, trial_from_row, trial_row

if TYPE_CHECKING:  # pyarrow is imported by the first columnar read
    import pyarrow as pa

log = structlog.get_logger("papertape.store.questdb")
EVENTS_PER_INSERT = 250  # events per multi-row INSERT of a commit
T = TypeVar("T")
R = TypeVar("R", bound=NamedTuple)

_SESSION_FIELDS = tuple(f.name for f in dataclasses.fields(Session))
_SESSION_SELECT = ", ".join(_SESSION_FIELDS)
# what a session version holds for sure; last_seq and checkpoint may be newer elsewhere
_FIXED_FIELDS = tuple(name for name in _SESSION_FIELDS if name not in ("last_seq", "checkpoint"))
# the current version of every session
_LATEST = "SELECT * FROM sessions LATEST ON written_at PARTITION BY session_id"
# ... with its newest event's sequence number and its newest checkpoint (the checkpoint row if
# one was saved after the version)
_CURRENT = (
    "SELECT v.*, e.seq newest_seq, "
    "CASE WHEN c.cw > v.written_at THEN c.cp ELSE v.checkpoint END newest_checkpoint "
    f"FROM ({_LATEST}) v "
    "JOIN (SELECT session_id, seq FROM events LATEST ON written_at PARTITION BY session_id) e "
    "ON (v.session_id = e.session_id) "
    "LEFT JOIN (SELECT session_id, checkpoint cp, written_at cw FROM checkpoints "
    "LATEST ON written_at PARTITION BY session_id) c ON (v.session_id = c.session_id)"
)
_CURRENT_SELECT = _SESSION_SELECT.replace("last_seq", "newest_seq").replace(
    "checkpoint", "newest_checkpoint"
)
_JSON_FIELDS = {"symbols", "config", "checkpoint"}
# what update_session may change; the rest is fixed when the session is created, and the
# checkpoint is only written by save_checkpoint
_MUTABLE = (
    "state",
    "updated_at",
    "started_at",
    "ended_at",
    "stop_reason",
    "error_code",
    "error_message",
)


@dataclasses.dataclass(frozen=True)
class QuestDBSettings:
    host: str = "127.0.0.1"
    http_port: int = 9000
    pg_port: int = 8812
    user: str = "admin"
    password: str = "quest"
    database: str = "qdb"
    write_retry_seconds: float = 60.0
    wal_wait_seconds: float = 30.0
    pool_size: int = 4

    @classmethod
    def from_url(cls, url: str) -> QuestDBSettings:
        parts = urlsplit(url)
        if parts.scheme != "questdb" or not parts.hostname:
            raise ValueError(f"not a questdb URL: {url!r} (expected questdb://HOST[:PORT])")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        known = {"pg_port", "write_retry_seconds", "wal_wait_seconds", "pool_size", "database"}
        unknown = set(query) - known
        if unknown:
            raise ValueError(
                f"unknown questdb URL options: {sorted(unknown)} (known: {sorted(known)})"
            )
        return cls(
            host=parts.hostname,
            http_port=parts.port or cls.http_port,
            pg_port=int(query.get("pg_port", cls.pg_port)),
            user=unquote(parts.username) if parts.username else cls.user,
            password=unquote(parts.password) if parts.password else cls.password,
            database=query.get("database", cls.database),
            write_retry_seconds=float(query.get("write_retry_seconds", cls.write_retry_seconds)),
            wal_wait_seconds=float(query.get("wal_wait_seconds", cls.wal_wait_seconds)),
            pool_size=int(query.get("pool_size", cls.pool_size)),
        )

    @property
    def conninfo(self) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.host,
            port=self.pg_port,
            user=self.user,
            password=self.password,
            dbname=self.database,
            connect_timeout=5,
        )

    def http_client(self) -> httpx.Client:
        """A client of the server's HTTP endpoint (its Parquet export), with the PG wire's
        connect timeout and the ILP sender's request timeout, that closes each connection
        after its request."""
        return httpx.Client(
            base_url=f"http://{self.host}:{self.http_port}",
            auth=(self.user, self.password),
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=httpx.Limits(max_keepalive_connections=0),  # see read_trade_columns
        )

    @property
    def ilp_conf(self) -> str:
        # The client's own retries stay short: QuestDBStore's writer retries (and logs) up to
        # write_retry_seconds around them.
        return (
            f"http::addr={self.host}:{self.http_port};username={self.user};"
            f"password={self.password};auto_flush=off;protocol_version=2;"
            "retry_timeout=2000;request_timeout=30000;"
        )


CHECK_AFTER_IDLE = 0.5  # seconds
# Connections of their own for what starts and stops do (a session created, read, its state
# changed, its few own events; the dataset or saved strategy a start names): with a hundred
# sessions running, the shared pool queues their commits and checkpoints, and a start waiting in
# that queue took seconds
LIFECYCLE_CONNECTIONS = 4


class _Pool:
    """A few PG-wire connections handed out one task at a time. A connection idle for a while
    is proven with ``SELECT 1`` before use (a server restart leaves broken sockets in the pool);
    when none can be had, it waits for the server until ``deadline`` (``time.monotonic``)."""

    def __init__(self, conninfo: str, size: int):
        self._conninfo = conninfo
        self._idle: asyncio.Queue[tuple[psycopg.AsyncConnection, float]] = asyncio.Queue()
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def connection(self, deadline: float) -> AsyncIterator[psycopg.AsyncConnection]:
        async with self._slots:
            conn = await self._usable(deadline)
            try:
                yield conn
            except psycopg.OperationalError:
                await conn.close()
                raise
            else:
                if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.close()
                else:
                    self._idle.put_nowait((conn, time.monotonic()))

    async def _usable(self, deadline: float) -> psycopg.AsyncConnection:
        delay = 0.1
        while True:
            try:
                while not self._idle.empty():
                    conn, idle_since = self._idle.get_nowait()
                    if conn.closed:
                        continue
                    if time.monotonic() - idle_since > CHECK_AFTER_IDLE:
                        try:
                            await conn.execute("SELECT 1")
                        except psycopg.OperationalError:
                            await conn.close()
                            continue
                    return conn
                return await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, prepare_threshold=None
                )
            except psycopg.OperationalError as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                log.warning("store.unreachable.retry", store="questdb", error=str(exc).strip())
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait()[0].close()


class QuestDBStore(Store):
    def __init__(self, url: str):
        self.url = url
        self.settings = QuestDBSettings.from_url(url)
        self._pool = _Pool(self.settings.conninfo, self.settings.pool_size)
        self._lifecycle = _Pool(self.settings.conninfo, LIFECYCLE_CONNECTIONS)
        # two senders, so a session's fills never queue behind a large market-data batch
        self._market_writer = ingest.IlpWriter(
            self.settings.ilp_conf, self.settings.write_retry_seconds
        )
        self._record_writer = ingest.IlpWriter(
            self.settings.ilp_conf, self.settings.write_retry_seconds
        )
        # Write locks of this process: one per session (compare-and-set and event numbering),
        # one for creates with an idempotency key (the key is looked up, then written), and one
        # per control table around each statement (a non-WAL table has one writer); never one
        # lock across sessions.
        self._session_locks: dict[str, asyncio.Lock] = {}
        self._create_lock = asyncio.Lock()
        self._table_locks: dict[str, asyncio.Lock] = {}
        self._last_written = 0
        self._commit_nos: dict[str, int] = {}  # session -> number of its newest commit
        # table -> count of this process's writes to it not yet known to be applied
        self._unapplied: dict[str, int] = {}
        self._http: httpx.Client | None = None  # the Parquet export's, made on first use
        self._export_lock = asyncio.Lock()  # one export at a time (see read_trade_columns)
        self._unkeyed: set[tuple[str, str]] = set()  # (source, symbol) with tied prints unkeyed

    # plumbing ------------------------------------------------------------------------------
    def _deadline(self) -> float:
        """Until when an operation waits for an unreachable server (as ILP writes do)."""
        return time.monotonic() + self.settings.write_retry_seconds

    async def _query(
        self,
        sql: str,
        params: Sequence[Any] = (),
        *,
        binary: bool = False,
        patient: bool = True,
        pool: _Pool | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run a read query and fetch all its rows."""

        async def fetch(conn: psycopg.AsyncConnection) -> list[tuple[Any, ...]]:
            cursor = conn.cursor(binary=binary)
            await cursor.execute(sql, params)
            return await cursor.fetchall()

        return await self._read(fetch, patient=patient, pool=pool)

    async def _read(
        self,
        fn: Callable[[psycopg.AsyncConnection], Awaitable[T]],
        *,
        patient: bool = True,
        pool: _Pool | None = None,
    ) -> T:
        """Run a read. While the server is unreachable it is retried (reads are safe to repeat)
        up to ``write_retry_seconds``, so a restart of QuestDB only slows callers down."""
        deadline = self._deadline() if patient else time.monotonic()
        while True:
            try:
                async with (pool or self._pool).connection(deadline) as conn:
                    return await fn(conn)
            except psycopg.OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(f"QuestDB at {self.url} did not answer: {exc}") from exc

    @asynccontextmanager
    async def _control_conn(
        self, pool: _Pool | None = None
    ) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection for control writes. Waiting for a usable connection is safe; a statement
        that breaks mid-way raises ``StoreWriteFailed`` (it may have been applied): ``_write``
        retries it knowing so, and ``open`` repairs what a crash left half done."""
        try:
            async with (pool or self._pool).connection(self._deadline()) as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise StoreWriteFailed(f"QuestDB at {self.url} refused a write: {exc}") from exc

    async def _write(
        self,
        write: Callable[[psycopg.AsyncConnection, bool], Awaitable[T]],
        *,
        lock: asyncio.Lock | None = None,
        session_id: str | None = None,
        pool: _Pool | None = None,
    ) -> T:
        """Run the control write ``write(conn, again)`` until it succeeds, for up to
        ``write_retry_seconds`` (a restart of QuestDB only slows it down). ``again`` tells it that
        an earlier attempt broke mid-way and may have landed, wholly or in part: each write reads
        what is there first and adds only what is missing, so a retry never doubles a row."""
        deadline = self._deadline()
        again = False
        async with lock or contextlib.nullcontext():
            while True:
                try:
                    async with self._control_conn(pool) as conn:
                        return await write(conn, again)
                except StoreWriteFailed as exc:
                    if time.monotonic() >= deadline:
                        raise
                    log.warning("store.write.retry", session_id=session_id, error=exc.message)
                    again = True
                    await asyncio.sleep(0.2)

    def _session_lock(self, session_id: str) -> asyncio.Lock:
        return self._session_locks.setdefault(session_id, asyncio.Lock())

    async def _insert(
        self, conn: psycopg.AsyncConnection, table: str, build: Callable[[], tuple[str, list[Any]]]
    ) -> None:
        """Run the INSERT ``build()`` makes under the table's lock; ``build`` runs inside it, so
        the ``written_at`` stamps it takes reach each table in increasing order."""
        async with self._table_locks.setdefault(table, asyncio.Lock()):
            sql, params = build()
            await conn.execute(sql, params)

    async def _write_series(
        self, table: str, session_id: str, rows: Sequence[Any], put: ingest.RowWriter
    ) -> None:
        if not rows:
            return
        writer = self._market_writer if table in MARKET_TABLES else self._record_writer
        await writer.write(table, session_id, rows, put)
        self._unapplied[table] = self._unapplied.get(table, 0) + 1

    async def _await_applied(self, table: str) -> None:
        """Wait until every write of ``table`` this process finished is visible to readers."""
        pending = self._unapplied.get(table, 0)
        if not pending:
            return
        deadline = time.monotonic() + self.settings.wal_wait_seconds
        target: int | None = None
        while True:
            rows = await self._query(
                "SELECT writerTxn, sequencerTxn, suspended, errorMessage FROM wal_tables() "
                "WHERE name = %s",
                (table,),
            )
            writer, sequencer, suspended, error = rows[0]
            target = sequencer if target is None else target
            if writer >= target:
                if self._unapplied.get(table) == pending:
                    del self._unapplied[table]
                return
            if suspended:
                raise StoreUnavailable(f"QuestDB suspended table {table}: {error}")
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    f"rows written to {table} are still not readable after "
                    f"{self.settings.wal_wait_seconds:.0f} s (WAL apply is behind: "
                    f"writer txn {writer}, sequencer txn {target})"
                )
            await asyncio.sleep(0.005)

    # life of the store ---------------------------------------------------------------------
    async def open(self) -> None:
        try:
            await self._migrate()
            await self._recover()
            # rows another process (or this one before a restart) committed are waited for on
            # the first read of each table, like this process's own writes
            self._unapplied = dict.fromkeys(WAL_TABLES, 1)
            await self._apply_pending_commits()
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot open {self.url}: {exc}") from exc

    async def open_reader(self) -> None:
        # rows the server wrote are waited for on the first read of each table (WAL apply)
        self._unapplied = dict.fromkeys(WAL_TABLES, 1)
        if not await self.ping():
            raise StoreUnavailable(f"cannot open {self.url}: the server does not answer")

    async def close(self) -> None:
        client, self._http = self._http, None
        if client is not None:
            client.close()
        await self._market_writer.close()
        await self._record_writer.close()
        await self._pool.close()
        await self._lifecycle.close()

    async def ping(self) -> bool:
        try:
            answered: bool = (await self._query("SELECT 1", patient=False))[0][0] == 1
            return answered
        except (StoreUnavailable, psycopg.Error):
            return False

    async def _migrate(self) -> None:
        async with self._control_conn() as conn:
            await conn.execute(MIGRATIONS_TABLE)
            cursor = await conn.execute("SELECT version FROM schema_migrations")
            applied = {row[0] for row in await cursor.fetchall()}
            for version, name, statements in MIGRATIONS:
                if version in applied:
                    continue
                for statement in statements:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, now())", (version, name)
                )
                log.info("store.migrated", store="questdb", version=version, name=name)

    async def _recover(self) -> None:
        """Bring every session row up to the newest state its events recorded (see module doc)."""
        for table in ("sessions", "events", "checkpoints"):  # the write clock never goes back
            newest = await self._query(f"SELECT cast(max(written_at) AS LONG) FROM {table}")
            if newest and newest[0][0] is not None:
                self._last_written = max(self._last_written, newest[0][0])
        # the newest state event of each session, where it is newer than the session's version
        rows = await self._query(
            "SELECT e.session_id, e.snapshot, s.session_id FROM (SELECT session_id, seq, snapshot "
            "FROM events WHERE snapshot IS NOT NULL LATEST ON written_at PARTITION BY session_id) e "
            f"LEFT JOIN ({_LATEST}) s ON (s.session_id = e.session_id) "
            "WHERE s.session_id IS NULL OR s.last_seq < e.seq"
        )
        for session_id, snapshot, versioned in rows:
            async with self._control_conn() as conn:
                session = _session_from_json(snapshot)
                if versioned is not None:  # keep the newest checkpoint the session has
                    current = await _select_session(conn, "session_id", session_id)
                    assert current is not None, "a session with a version is stored"
                    session = dataclasses.replace(session, checkpoint=current.checkpoint)
                await self._insert_version(conn, session)
            log.warning("store.session.recovered", session_id=session_id, state=session.state.value)

    def _next_written_at(self) -> int:
        """Strictly increasing write timestamps for versions, events and checkpoints (synchronous,
        so atomic on the event loop): the newest row of a session is the one with the largest,
        whatever the wall clock does, across restarts too (``_recover`` starts from the largest
        stored)."""
        self._last_written = max(time.time_ns() // 1000, self._last_written + 1)
        return self._last_written

    async def _insert_version(self, conn: psycopg.AsyncConnection, session: Session) -> None:
        marks = ", ".join(["%s"] * len(_SESSION_FIELDS))
        sql = (
            f"INSERT INTO sessions ({', '.join(_SESSION_FIELDS)}, written_at) "
            f"VALUES ({marks}, %s::timestamp)"
        )
        await self._insert(
            conn, "sessions", lambda: (sql, [*_session_values(session), self._next_written_at()])
        )

    async def _insert_events(
        self,
        conn: psycopg.AsyncConnection,
        session_id: str,
        first_seq: int,
        events: Sequence[NewEvent],
        snapshot: Session | None,
    ) -> list[SessionEvent]:
        """Insert ``events`` numbered from ``first_seq``, all or none (one multi-row INSERT is
        atomic on a non-WAL table, and one round trip). ``snapshot`` (one event only) is the
        session record the event moves it to: the write-ahead entry ``_recover`` replays."""
        numbered = [
            SessionEvent(session_id, first_seq + i, e.ts, e.kind, e.data)
            for i, e in enumerate(events)
        ]
        await self._insert_numbered(conn, numbered, snapshot)
        return numbered

    async def _insert_numbered(
        self,
        conn: psycopg.AsyncConnection,
        numbered: Sequence[SessionEvent],
        snapshot: Session | None,
    ) -> None:
        snap = None if snapshot is None else _session_to_json(snapshot)
        rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s::timestamp)"] * len(numbered))
        sql = f"INSERT INTO events (session_id, seq, ts, kind, data, snapshot, written_at) VALUES {rows}"

        def build() -> tuple[str, list[Any]]:
            return sql, [
                value
                for e in numbered
                for value in (
                    e.session_id,
                    e.seq,
                    e.ts,
                    e.kind,
                    json.dumps(e.data),
                    snap,
                    self._next_written_at(),
                )
            ]

        await self._insert(conn, "events", build)

    # sessions ------------------------------------------------------------------------------
    async def create_session(self, session: Session, event: NewEvent) -> Session:
        stored = dataclasses.replace(session, last_seq=1)

        async def create(conn: psycopg.AsyncConnection, again: bool) -> Session:
            if session.idempotency_key is not None:
                existing = await _select_session(conn, "idempotency_key", session.idempotency_key)
                if existing is not None and existing.session_id != session.session_id:
                    return existing
                if existing is not None:  # this very create landed before its answer broke
                    return stored
            if not again or await _last_seq(conn, session.session_id) is None:
                await self._insert_events(conn, session.session_id, 1, [event], snapshot=stored)
            await self._insert_version(conn, stored)
            return stored

        # creates without a key cannot collide (a new id each): they run side by side
        keyed = session.idempotency_key is not None
        return await self._write(
            create,
            lock=self._create_lock if keyed else None,
            session_id=session.session_id,
            pool=self._lifecycle,
        )

    async def update_session(
        self, session: Session, expected: SessionState, event: NewEvent | None
    ) -> Session:
        session_id = session.session_id
        stored: Session | None = None  # what this update writes, decided by its first read

        async def update(conn: psycopg.AsyncConnection, again: bool) -> Session:
            nonlocal stored
            if stored is None:
                current = await _select_session(conn, "session_id", session_id)
                if current is None:
                    raise SessionNotFound(f"session {session_id} not found")
                if current.state is not expected:
                    raise StaleState(current)
                stored = dataclasses.replace(
                    current,
                    **{name: getattr(session, name) for name in _MUTABLE},
                    last_seq=current.last_seq + (1 if event is not None else 0),
                )
                again = False  # nothing of this update was written yet
            if event is not None and (
                not again or (await _last_seq(conn, session_id) or 0) < stored.last_seq
            ):
                await self._insert_events(conn, session_id, stored.last_seq, [event], stored)
            await self._insert_version(conn, stored)
            return stored

        # the session's lock is held across retries: nothing else numbers its events meanwhile
        return await self._write(
            update, lock=self._session_lock(session_id), session_id=session_id, pool=self._lifecycle
        )

    async def save_checkpoint(self, session_id: str, checkpoint: dict[str, Any]) -> None:
        """A small row in ``checkpoints`` (running sessions save one every few seconds; a new
        session version each time would copy the whole record). Every later version of the
        session carries the newest checkpoint, so the table's TTL only drops superseded rows."""
        text = json.dumps(checkpoint)

        async def save(conn: psycopg.AsyncConnection, again: bool) -> None:
            await self._insert(  # written twice, it is the same newest checkpoint
                conn,
                "checkpoints",
                lambda: (
                    "INSERT INTO checkpoints VALUES (%s, %s, %s::timestamp)",
                    [session_id, text, self._next_written_at()],
                ),
            )

        await self._write(save, session_id=session_id)

    async def get_session(self, session_id: str) -> Session | None:
        return await self._one_session("session_id", session_id)

    async def find_session_by_key(self, idempotency_key: str) -> Session | None:
        return await self._one_session("idempotency_key", idempotency_key)

    async def _one_session(self, column: str, value: str) -> Session | None:
        return await self._read(
            lambda conn: _select_session(conn, column, value), pool=self._lifecycle
        )

    async def list_sessions(self, query: SessionFilter) -> SessionPage:
        # symbols is a JSON list; a quoted canonical symbol cannot match inside another one
        where, params = session_filter_sql(
            query,
            "%s",
            "strpos(symbols, %s) > 0",
            json.dumps(query.symbol) if query.symbol is not None else None,
        )
        total = (await self._query(f"SELECT count() FROM ({_LATEST}) {where}", params))[0][0]
        if query.limit <= 0 or query.offset >= total:
            return SessionPage([], total)
        rows = await self._query(
            f"SELECT {_CURRENT_SELECT} FROM ({_CURRENT}) {where} "
            "ORDER BY created_at DESC, session_id DESC LIMIT %s, %s",
            [*params, query.offset, query.offset + query.limit],
        )
        return SessionPage([_session_from_row(r) for r in rows], total)

    async def unfinished_sessions(self) -> list[Session]:
        terminal = [s.value for s in SessionState if s.terminal]
        rows = await self._query(
            f"SELECT {_CURRENT_SELECT} FROM ({_CURRENT}) WHERE state NOT IN (%s, %s, %s) "
            "ORDER BY created_at, session_id",
            terminal,
        )
        return [_session_from_row(r) for r in rows]

    # events --------------------------------------------------------------------------------
    async def append_events(
        self, session_id: str, events: Sequence[NewEvent]
    ) -> list[SessionEvent]:
        if not events:
            return []
        # a session's own events (its feed's state, a resume) are few: they take the lifecycle
        # connections, so a starting session's first event never waits behind the commits
        lane = self._lifecycle
        async with self._session_lock(session_id):
            last = await self._read(lambda conn: _last_seq(conn, session_id), pool=lane)
            if last is None:
                raise SessionNotFound(f"session {session_id} not found")
            numbered = [
                SessionEvent(session_id, last + 1 + i, e.ts, e.kind, e.data)
                for i, e in enumerate(events)
            ]
            await self._apply_events(session_id, numbered, lane, numbered_now=True)
            return numbered

    async def list_events(
        self, session_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[SessionEvent]:
        if limit <= 0:
            return []
        rows = await self._query(
            "SELECT seq, ts, kind, data FROM events "
            "WHERE session_id = %s AND seq > %s ORDER BY seq LIMIT %s",
            (session_id, after_seq, limit),
        )
        return [
            SessionEvent(session_id, seq, ts, kind, json.loads(data))
            for seq, ts, kind, data in rows
        ]

    # the trading record --------------------------------------------------------------------
    async def commit(self, step: TradingCommit) -> list[SessionEvent]:
        """Log the commit (the moment it happens), then apply it (see "Exactly once")."""
        session_id = step.session_id
        async with self._session_lock(session_id):
            # most commits of a running session carry no events: one that follows a commit of
            # this process (the session exists: none is ever deleted) costs one round trip, not
            # three (a hundred running sessions commit every second)
            known = session_id in self._commit_nos
            commit_no = await self._newest_commit_no(session_id) + 1
            events: list[SessionEvent] = []
            if step.events or not known:
                last = await self._read(lambda conn: _last_seq(conn, session_id))
                if last is None:
                    raise StoreWriteFailed(f"no session {session_id} to commit a trading record to")
                events = [
                    SessionEvent(session_id, last + 1 + i, e.ts, e.kind, e.data)
                    for i, e in enumerate(step.events)
                ]
            row = [
                session_id,
                commit_no,
                step.position.ts,
                step.position.seen,
                _pack(step.engine),
                _pack(json.dumps(_payload(step.record, events)).encode()),
            ]
            await self._log_commit(session_id, commit_no, row)
            self._commit_nos[session_id] = commit_no
            if events:
                await self._apply_events(session_id, events, numbered_now=True)
        await self._apply_rows(session_id, step.record)
        return events

    async def resume_state(self, session_id: str) -> ResumeState | None:
        rows = await self._query(
            "SELECT commit_no, ts, count, engine FROM resume_states WHERE session_id = %s "
            "ORDER BY written_at DESC LIMIT 1",
            (session_id,),
        )
        if not rows:
            return None
        commit_no, ts, count, engine = rows[0]
        return ResumeState(StreamPosition(ts, count), _unpack(engine), commit_no)

    async def _newest_commit_no(self, session_id: str) -> int:
        known = self._commit_nos.get(session_id)
        if known is None:
            state = await self.resume_state(session_id)
            known = state.commits if state is not None else 0
        return known

    async def _log_commit(self, session_id: str, commit_no: int, row: list[Any]) -> None:
        """Insert the commit's log row, once: a statement that broke is retried only when a
        read shows it did not land."""
        sql = (
            "INSERT INTO resume_states (session_id, commit_no, ts, count, engine, payload, "
            "written_at) VALUES (%s, %s, %s, %s, %s, %s, %s::timestamp)"
        )

        async def log_row(conn: psycopg.AsyncConnection, again: bool) -> None:
            if again:
                cursor = await conn.execute(
                    "SELECT count() FROM resume_states WHERE session_id = %s AND commit_no = %s",
                    (session_id, commit_no),
                )
                landed = await cursor.fetchone()
                if landed and landed[0]:
                    return
            await self._insert(
                conn, "resume_states", lambda: (sql, [*row, self._next_written_at()])
            )

        await self._write(log_row, session_id=session_id)

    async def _apply_events(
        self,
        session_id: str,
        events: Sequence[SessionEvent],
        pool: _Pool | None = None,
        *,
        numbered_now: bool = False,
    ) -> None:
        """Insert the commit's events that are not in the table yet (by ``seq``), in order; the
        caller holds the session's write lock. ``numbered_now``: the caller numbered them under
        that lock from the newest stored event, so none is in the table until an attempt breaks
        (it may have landed); otherwise (a commit finished after a restart) look first."""

        async def insert_missing(conn: psycopg.AsyncConnection, again: bool) -> None:
            look = again or not numbered_now
            last = (await _last_seq(conn, session_id) or 0) if look else 0
            missing = [e for e in events if e.seq > last]
            for start in range(0, len(missing), EVENTS_PER_INSERT):
                await self._insert_numbered(conn, missing[start : start + EVENTS_PER_INSERT], None)

        await self._write(insert_missing, session_id=session_id, pool=pool)

    async def _apply_rows(self, session_id: str, record: RecordBatch) -> None:
        for table, rows, put in (
            ("orders", record.orders, ingest.put_order),
            ("fills", record.fills, ingest.put_fill),
            ("positions", record.positions, ingest.put_position),
            ("equity", record.equity, ingest.put_equity),
            ("funding", record.funding, ingest.put_funding),
        ):
            await self._write_series(table, session_id, rows, put)

    async def _apply_pending_commits(self) -> None:
        """Finish the newest commit of every unfinished session (a no-op where it was applied)
        and write its log row again, so the TTL never takes the state a session resumes from."""
        for session in await self.unfinished_sessions():
            session_id = session.session_id
            rows = await self._query(
                "SELECT commit_no, ts, count, engine, payload FROM resume_states "
                "WHERE session_id = %s ORDER BY written_at DESC LIMIT 1",
                (session_id,),
            )
            if not rows:
                continue
            commit_no, ts, count, engine, payload = rows[0]
            record, events = _unpayload(session_id, json.loads(_unpack(payload)))
            async with self._session_lock(session_id):
                await self._apply_events(session_id, events)
                await self._log_commit(
                    session_id, commit_no, [session_id, commit_no, ts, count, engine, payload]
                )
            await self._apply_rows(session_id, record)
            self._commit_nos[session_id] = commit_no
            log.info("store.commit.reapplied", session_id=session_id, commit_no=commit_no)

    async def list_funding(self, session_id: str) -> list[FundingPayment]:
        rows = await self._records(
            "funding", _select_record(FundingPayment, "funding") + " ORDER BY ts", session_id
        )
        return sorted(map(FundingPayment._make, rows), key=lambda p: (p.ts, p.symbol))

    async def list_orders(self, session_id: str) -> list[OrderRecord]:
        rows = await self._records(
            "orders", _select_record(OrderRecord, "orders") + " ORDER BY ts", session_id
        )
        newest = {order.order_id: order for order in map(OrderRecord._make, rows)}
        return sorted(newest.values(), key=lambda o: (o.created_ts, o.order_id))

    async def list_fills(self, session_id: str) -> list[Fill]:
        rows = await self._records(
            "fills", _select_record(Fill, "fills") + " ORDER BY ts, fill_id", session_id
        )
        return [Fill(*r) for r in rows]

    async def list_positions(self, session_id: str) -> list[PositionRecord]:
        rows = await self._records(
            "positions", _select_record(PositionRecord, "positions") + " ORDER BY ts", session_id
        )
        newest = {position.symbol: position for position in map(PositionRecord._make, rows)}
        return sorted(newest.values(), key=lambda p: p.symbol)

    async def list_equity(self, session_id: str, limit: int = 10_000) -> list[EquityPoint]:
        rows = await self._records(
            "equity", _select_record(EquityPoint, "equity") + " ORDER BY ts", session_id
        )
        return thin_evenly([EquityPoint(*r) for r in rows], limit)

    async def _records(self, table: str, sql: str, session_id: str) -> list[tuple[Any, ...]]:
        await self._await_applied(table)
        return await self._query(sql, (session_id,), binary=True)

    # market data ---------------------------------------------------------------------------
    async def write_trades(self, source: str, rows: Sequence[Trade]) -> None:
        await self._write_series("trades", source, rows, ingest.trade_row(source))

    async def write_candles(self, source: str, rows: Sequence[Candle]) -> None:
        await self._write_series("candles", source, rows, ingest.candle_row(source))

    async def write_books(self, source: str, rows: Sequence[BookSnapshot]) -> None:
        await self._write_series("books", source, rows, ingest.book_row(source))

    async def write_funding(self, source: str, rows: Sequence[FundingRate]) -> None:
        await self._write_series("funding_rates", source, rows, ingest.funding_rate_row(source))

    async def read_funding(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[FundingRate]:
        return await self._market(
            FundingRate,
            "funding_rates",
            "SELECT cast(ts AS LONG), symbol, rate, mark_price FROM funding_rates",
            source,
            symbols,
            start,
            end,
            "ORDER BY ts, symbol",
        )

    async def write_marks(self, source: str, rows: Sequence[MarkPrice]) -> None:
        await self._write_series("mark_prices", source, rows, ingest.mark_row(source))

    async def read_marks(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[MarkPrice]:
        return await self._market(
            MarkPrice,
            "mark_prices",
            "SELECT cast(ts AS LONG), symbol, price FROM mark_prices",
            source,
            symbols,
            start,
            end,
            "ORDER BY ts, symbol",
        )

    async def read_trades(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[Trade]:
        return await self._market(
            Trade,
            "trades",
            "SELECT cast(ts AS LONG), symbol, price, qty, side, trade_id FROM trades",
            source,
            symbols,
            start,
            end,
            "ORDER BY ts, symbol, trade_id",
        )

    async def read_trade_columns(
        self, source: str, symbol: str, start: int, end: int
    ) -> TradeColumns:
        """Read through QuestDB's HTTP export in Parquet (``/exp``): the server writes the
        columns, Arrow decodes them in C, and both the request and the decoding run on a worker
        thread. ``/exp`` takes no bind parameters, so the names are quoted here
        (``sql_text.literal``: a control character in one is refused) and the bounds must be
        integers.

        QuestDB serves only a few exports at once (``http.export.connection.limit``, by default
        its CPU count at most) and counts every connection that asked for one until it is
        closed, idle or not: this store asks for one export at a time, on a connection closed
        after it (a connection kept alive would hold one of those few places for minutes), and
        waits while other processes hold them all (``_export``).

        The rows come in the table's own time order, and prints of one timestamp are put in
        trade id order here: asked to sort by (ts, symbol, trade_id) itself, the server spent
        80 % of the export on it (2M trades: 2.0 s, against 0.4 s in time order). They are
        ordered by the tie keys written with them (``trade_ties``): exporting the trade ids
        instead cost the export 60-65 % of its time. Tied prints without a key (written before
        the keys were, or with ids that are not short numbers) are ordered by their ids, in an
        export of the window with them; once that happened, the next windows of the symbol's
        trades are exported with their ids at once."""
        await self._await_applied("trades")
        where = (
            f"FROM trades WHERE source = {literal(source)} AND symbol = {literal(symbol)} "
            f"AND ts >= {integer(start)}::timestamp AND ts < {integer(end)}::timestamp "
            "ORDER BY ts"
        )
        columns = f"SELECT cast(ts AS LONG) ts, price, qty, {SIDE_CODE_SQL} side"
        try:
            if (source, symbol) not in self._unkeyed:
                return await self._exported(
                    f"{columns}, coalesce(tie_key, {NO_KEY}) tie_key {where}",
                    lambda table: trades_in_tie_key_order(symbol, table),
                )
        except UnkeyedTies:
            self._unkeyed.add((source, symbol))
        return await self._exported(
            f"{columns}, trade_id {where}",
            lambda table: trades_in_trade_id_order(symbol, table),
        )

    async def trade_column_reader(self) -> TradeColumnReader:
        """The store itself: its reads already decode in C (the export's Parquet)."""
        return self

    async def read_bar_columns(
        self, source: str, symbol: str, start: int, end: int, interval: int
    ) -> BarColumns:
        """Through the Parquet export, as ``read_trade_columns``: one symbol's bars of one
        interval have one row per timestamp, so the table's time order is the order wanted."""
        await self._await_applied("candles")
        sql = (
            "SELECT cast(ts AS LONG) ts, open, high, low, close, volume FROM candles "
            f"WHERE source = {literal(source)} AND symbol = {literal(symbol)} "
            f"AND interval = {integer(interval)} "
            f"AND ts >= {integer(start)}::timestamp AND ts < {integer(end)}::timestamp "
            "ORDER BY ts"
        )
        return await self._exported(sql, bar_columns)

    async def _exported(self, sql: str, convert: Callable[[pa.Table], T]) -> T:
        """``convert`` of the export of ``sql``: one export at a time, on a worker thread."""
        async with self._export_lock:
            if self._http is None:
                self._http = self.settings.http_client()
            client = self._http
            return await asyncio.to_thread(lambda: convert(self._export(client, sql)))

    def _export(self, client: httpx.Client, sql: str) -> pa.Table:
        """The result of ``sql`` as the server exports it in Parquet. While the server does not
        answer, or answers that it serves as many exports as it may (429), the request is
        retried up to ``write_retry_seconds``, as ``_read`` retries."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        deadline = self._deadline()
        delay = 0.05
        while True:
            try:
                response = client.get("/exp", params={"query": sql, "fmt": "parquet"})
            except httpx.TransportError as exc:
                problem = f"did not answer: {exc}"
            else:
                if response.status_code == 200:
                    # one file in memory: ``pq.read_table`` would set up a dataset and a
                    # thread pool for it (48 ms a call, against 1 ms)
                    return pq.ParquetFile(pa.BufferReader(response.content)).read(use_threads=False)
                if response.status_code != 429:
                    raise StoreError(f"QuestDB refused an export: {_export_error(response)}")
                problem = f"is busy: {_export_error(response)}"
            if time.monotonic() >= deadline:
                raise StoreUnavailable(f"QuestDB at {self.url} {problem}")
            log.warning("store.export.retry", store="questdb", error=problem)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def read_candles(
        self, source: str, symbols: Sequence[str], start: int, end: int, interval: int | None = None
    ) -> list[Candle]:
        extra, args = ("", ()) if interval is None else ("AND interval = %s ", (interval,))
        return await self._market(
            Candle,
            "candles",
            "SELECT cast(ts AS LONG), symbol, interval, open, high, low, close, volume FROM candles",
            source,
            symbols,
            start,
            end,
            extra + "ORDER BY ts, symbol",
            args,
        )

    async def read_books(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[BookSnapshot]:
        rows = await self._market(
            _BookRow,
            "books",
            "SELECT cast(ts AS LONG), symbol, bids, asks FROM books",
            source,
            symbols,
            start,
            end,
            "ORDER BY ts, symbol",
        )
        return [BookSnapshot(ts, sym, _levels(bids), _levels(asks)) for ts, sym, bids, asks in rows]

    async def _market(
        self,
        record: type[R],
        table: str,
        select: str,
        source: str,
        symbols: Sequence[str],
        start: int,
        end: int,
        tail: str,
        extra_args: tuple[Any, ...] = (),
    ) -> list[R]:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        await self._await_applied(table)
        marks = ", ".join(["%s"] * len(symbols))
        sql = (
            f"{select} WHERE source = %s AND symbol IN ({marks}) "
            f"AND ts >= %s::timestamp AND ts < %s::timestamp {tail}"
        )
        args = (source, *symbols, start, end, *extra_args)

        async def fetch(conn: psycopg.AsyncConnection) -> list[R]:
            # binary results; each row built straight into ``record``, the collector paused
            cursor = conn.cursor(binary=True, row_factory=lambda _cursor: record._make)
            await cursor.execute(sql, args)
            with collector_paused():
                return await cursor.fetchall()

        return await self._read(fetch)

    async def market_summary(self, source: str) -> dict[str, dict[str, Any]]:
        summary = {}
        for kind, table in MARKET_KINDS.items():
            await self._await_applied(table)
            rows = await self._query(
                f"SELECT symbol, count(), cast(min(ts) AS LONG), cast(max(ts) AS LONG) FROM {table} "
                "WHERE source = %s GROUP BY symbol ORDER BY symbol",
                (source,),
            )
            if rows:
                summary[kind] = {
                    "rows": sum(r[1] for r in rows),
                    "start_ts": min(r[2] for r in rows),
                    "end_ts": max(r[3] for r in rows),
                    "symbols": [r[0] for r in rows],
                }
        return summary

    # datasets and strategies ---------------------------------------------------------------
    async def save_dataset(self, dataset: Dataset) -> None:
        values = encoded_row(dataset, symbols=json.dumps(list(dataset.symbols)))
        await self._upsert("datasets", Dataset._fields, values, keep=())

    async def get_dataset(self, name: str) -> Dataset | None:
        found = await self._datasets("WHERE name = %s", (name,), self._lifecycle)
        return found[0] if found else None

    async def list_datasets(self) -> list[Dataset]:
        return await self._datasets("", ())

    async def _datasets(
        self, where: str, args: tuple[Any, ...], pool: _Pool | None = None
    ) -> list[Dataset]:
        rows = await self._query(
            f"SELECT {', '.join(Dataset._fields)} FROM datasets {where} "
            "ORDER BY created_at DESC, name",
            args,
            pool=pool,
        )
        return [Dataset(*r)._replace(symbols=tuple(json.loads(r[2]))) for r in rows]

    async def save_strategy(self, strategy: SavedStrategy) -> None:
        values = encoded_row(strategy, params=json.dumps(strategy.params))
        await self._upsert("strategies", SavedStrategy._fields, values, keep=("created_at",))

    async def get_strategy(self, name: str) -> SavedStrategy | None:
        found = await self._strategies("WHERE name = %s", (name,), self._lifecycle)
        return found[0] if found else None

    async def list_strategies(self) -> list[SavedStrategy]:
        return await self._strategies("", ())

    async def _strategies(
        self, where: str, args: tuple[Any, ...], pool: _Pool | None = None
    ) -> list[SavedStrategy]:
        rows = await self._query(
            f"SELECT {', '.join(SavedStrategy._fields)} FROM strategies {where} ORDER BY name",
            args,
            pool=pool,
        )
        return [SavedStrategy(*r)._replace(params=json.loads(r[2])) for r in rows]

    async def _upsert(
        self, table: str, fields: Sequence[str], values: tuple[Any, ...], keep: Sequence[str]
    ) -> None:
        """Replace the row named ``values[0]`` (keeping the ``keep`` columns), or insert it."""
        named = dict(zip(fields, values, strict=True))
        changed = [f for f in fields[1:] if f not in keep]

        async def upsert(conn: psycopg.AsyncConnection, again: bool) -> None:
            cursor = await conn.execute(
                f"UPDATE {table} SET {', '.join(f'{f} = %s' for f in changed)} WHERE {fields[0]} = %s",
                [*(named[f] for f in changed), values[0]],
            )
            if cursor.rowcount == 0:  # and after a broken attempt that inserted: an update
                await conn.execute(
                    f"INSERT INTO {table} ({', '.join(fields)}) "
                    f"VALUES ({', '.join(['%s'] * len(fields))})",
                    values,
                )

        await self._write(upsert, lock=self._table_locks.setdefault(table, asyncio.Lock()))

    # sweep trials --------------------------------------------------------------------------
    async def record_trials(self, rows: Sequence[TrialRecord]) -> None:
        if not rows:
            return
        values = [trial_row(t) for t in rows]

        async def insert(conn: psycopg.AsyncConnection, again: bool) -> None:
            await self._insert(  # a trial written twice is read once (the newest)
                conn,
                "trials",
                lambda: (
                    f"INSERT INTO trials ({', '.join(TRIAL_COLUMNS)}, written_at) VALUES "
                    + ", ".join([f"({'%s, ' * len(TRIAL_COLUMNS)}%s::timestamp)"] * len(values)),
                    [x for row in values for x in (*row, self._next_written_at())],
                ),
            )

        await self._write(insert, session_id=rows[0].session_id)

    async def list_trials(self, session_id: str) -> list[TrialRecord]:
        rows = await self._query(
            f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials "
            "WHERE session_id = %s ORDER BY number, written_at",
            (session_id,),
        )
        newest = {int(r[1]): trial_from_row(r) for r in rows}  # a trial written twice: once
        return [newest[n] for n in sorted(newest)]


# rows <-> sessions -----------------------------------------------------------------------------
def _session_values(session: Session) -> list[Any]:
    values = []
    for name in _SESSION_FIELDS:
        value = getattr(session, name)
        if name in _JSON_FIELDS:
            value = json.dumps(list(value) if name == "symbols" else value)
        elif isinstance(value, (Mode, SessionState)):
            value = value.value
        values.append(value)
    return values


def _session_from_row(row: Sequence[Any]) -> Session:
    named = dict(zip(_SESSION_FIELDS, row, strict=True))
    for name in _JSON_FIELDS:
        named[name] = json.loads(named[name])
    named["symbols"] = tuple(named["symbols"])
    named["mode"] = Mode(named["mode"])
    named["state"] = SessionState(named["state"])
    return Session(**named)


def _session_to_json(session: Session) -> str:
    return json.dumps(dict(zip(_SESSION_FIELDS, _session_values(session), strict=True)))


def _session_from_json(text: str) -> Session:
    named = json.loads(text)
    return _session_from_row([named[name] for name in _SESSION_FIELDS])


async def _select_session(conn: psycopg.AsyncConnection, column: str, value: str) -> Session | None:
    """The current state of the session whose ``column`` (``session_id``, or the
    ``idempotency_key`` every version carries unchanged) is ``value``: its newest version, its
    newest event's seq and its newest checkpoint, in one round trip for an id."""
    if column != "session_id":
        cursor = await conn.execute(
            f"SELECT session_id FROM sessions WHERE {column} = %s LIMIT 1", (value,)
        )
        found = await cursor.fetchone()
        if found is None:
            return None
        value = found[0]
    cursor = await conn.execute(
        f"SELECT {', '.join(f'v.{name}' for name in _FIXED_FIELDS)}, e.seq, v.checkpoint, "
        "c.checkpoint FROM "
        "(SELECT * FROM sessions WHERE session_id = %s ORDER BY written_at DESC LIMIT 1) v "
        "JOIN (SELECT session_id, seq FROM events WHERE session_id = %s "
        "ORDER BY written_at DESC LIMIT 1) e ON (v.session_id = e.session_id) "
        "LEFT JOIN (SELECT session_id, checkpoint, written_at FROM checkpoints "
        "WHERE session_id = %s ORDER BY written_at DESC LIMIT 1) c "
        "ON (v.session_id = c.session_id AND c.written_at > v.written_at)",
        (value, value, value),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    *fixed, last_seq, version_checkpoint, newer_checkpoint = row
    named = dict(zip(_FIXED_FIELDS, fixed, strict=True))
    named["last_seq"] = last_seq
    named["checkpoint"] = newer_checkpoint if newer_checkpoint is not None else version_checkpoint
    return _session_from_row([named[name] for name in _SESSION_FIELDS])


async def _last_seq(conn: psycopg.AsyncConnection, session_id: str) -> int | None:
    """The sequence number of the session's newest event (None: no such session)."""
    cursor = await conn.execute(
        "SELECT seq FROM events WHERE session_id = %s ORDER BY written_at DESC LIMIT 1",
        (session_id,),
    )
    row = await cursor.fetchone()
    return None if row is None else row[0]


def _select_record(record: type[NamedTuple], table: str) -> str:
    """Every row of a session's trading record. (The newest row per key is picked in Python,
    not with ``LATEST ON``: with a bind variable in its WHERE, ``LATEST ON`` returned another
    session's row on QuestDB 9.3.4, see the module docstring.)"""
    columns = ", ".join("cast(ts AS LONG)" if f == "ts" else f for f in record._fields)
    return f"SELECT {columns} FROM {table} WHERE session_id = %s"


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 1)).decode("ascii")


def _unpack(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text))


def _payload(record: RecordBatch, events: Sequence[SessionEvent]) -> dict[str, Any]:
    """A commit's rows and numbered events as JSON (floats round-trip exactly)."""
    return {
        "orders": record.orders,
        "fills": record.fills,
        "positions": record.positions,
        "equity": record.equity,
        "funding": record.funding,
        "events": [(e.seq, e.ts, e.kind, e.data) for e in events],
    }


def _unpayload(session_id: str, payload: dict[str, Any]) -> tuple[RecordBatch, list[SessionEvent]]:
    record = RecordBatch(
        orders=[OrderRecord(*row) for row in payload["orders"]],
        fills=[Fill(*row) for row in payload["fills"]],
        positions=[PositionRecord(*row) for row in payload["positions"]],
        equity=[EquityPoint(*row) for row in payload["equity"]],
        funding=[FundingPayment(*row) for row in payload.get("funding", [])],
    )
    events = [SessionEvent(session_id, *event) for event in payload["events"]]
    return record, events


def _export_error(response: httpx.Response) -> str:
    """What QuestDB said about a failed export: the ``error`` of its JSON answer, else its text."""
    try:
        return f"{response.status_code} {response.json()['error']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.text.strip()[:500]}"


class _BookRow(NamedTuple):
    """A ``books`` row as read, before its levels are parsed."""

    ts: int
    symbol: str
    bids: str
    asks: str


def _levels(text: str) -> tuple[tuple[float, float], ...]:
    return tuple((float(p), float(q)) for p, q in json.loads(text))

"""The store interfaces, one per concern (``StoreConnection``, ``SessionStore``,
``TradingRecordStore``, ``TrialStore``, ``MarketDataStore``, ``StrategyStore``), and ``Store``,
their union. Two implementations meet all of them: SQLite (embedded, the default) and QuestDB
(server); one test suite (``tests/store``) runs against both. Code that needs one concern takes
the narrow interface (a replay reads market data only), so what it may touch is in its signature.

Rules every implementation keeps:
- Nothing is deleted by any method here; sessions end in a terminal state and stay.
- ``update_session`` is compare-and-set on the stored state: it writes only if the stored state is
  still ``expected``, so two writers can never both move a session out of the same state.
- Events are numbered 1, 2, 3, … per session, without gaps, in the order they were accepted.
- Everything the lifecycle and the API rely on is readable right after the write returned
  (read-your-writes), whatever the server does asynchronously.
- Time-series writes are idempotent: writing the same row twice keeps one row.
- A trading session's record is written by ``commit`` only: its rows, its tape events and the
  state to resume from, all durable together or none of them (exactly once; see
  ``papertape.engine.snapshot`` for how a session resumes from it).
- Timestamps are integers, microseconds since the epoch, UTC.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar

from papertape.domain.bar_columns import BarColumns
from papertape.domain.funding import FundingPayment, FundingRate
from papertape.domain.market import (
    BookSnapshot,
    Candle,
    MarketEvent,
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
    RecordBatch,
    SavedStrategy,
)
from papertape.domain.session import Mode, NewEvent, Session, SessionEvent, SessionState
from papertape.domain.trade_columns import TradeColumns
from papertape.domain.trials import TrialRecord

R = TypeVar("R")
Record = TypeVar("Record", bound=NamedTuple)


def encoded_row(record: NamedTuple, **encoded: object) -> tuple[object, ...]:
    """``record``'s values as a row to store, with ``encoded`` (by field name) in place of the
    fields a column holds as text (JSON)."""
    return tuple(encoded.get(f, v) for f, v in zip(record._fields, record, strict=True))


@dataclass(frozen=True, slots=True)
class SessionFilter:
    state: SessionState | None = None
    mode: Mode | None = None
    symbol: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SessionPage:
    sessions: list[Session]
    total: int


def session_filter_sql(
    query: SessionFilter, mark: str, symbol_clause: str, symbol_param: str | None = None
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause and parameters of a session list query, in a store's SQL dialect:
    ``mark`` is its placeholder, ``symbol_clause`` how it tests that the session's symbols
    contain one (``symbol_param``, by default the symbol itself, is that test's parameter)."""
    clauses, params = [], []
    for column, value in (("state", query.state), ("mode", query.mode)):
        if value is not None:
            clauses.append(f"{column} = {mark}")
            params.append(value.value)
    if query.symbol is not None:
        clauses.append(symbol_clause)
        params.append(symbol_param if symbol_param is not None else query.symbol)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


@dataclass(frozen=True, slots=True)
class ResumeState:
    """Where a trading session's durable record ends: the market-data ``position`` it covers and
    the engine state right after it. ``commits`` counts the session's commits so far."""

    position: StreamPosition
    engine: bytes
    commits: int


@dataclass(frozen=True, slots=True)
class TradingCommit:
    """One step of a trading session's record: the rows the engine produced since the previous
    step, the tape events that tell of them (numbered by the store as it writes them), and the
    state to resume from once they are durable."""

    session_id: str
    record: RecordBatch
    events: Sequence[NewEvent]
    position: StreamPosition
    engine: bytes


class StaleState(Exception):
    """``update_session`` found a different state than expected; ``current`` is what it found."""

    def __init__(self, current: Session):
        super().__init__(f"session {current.session_id} is {current.state}")
        self.current = current


class StoreConnection(ABC):
    """The store as a connection: open it (migrations applied), check it answers, close it."""

    url: str
    # Whether another process may write a session's record while this server writes the same
    # store (a backtest's worker process): true where the store itself numbers events and
    # serialises writers (SQLite's file lock), false where this process's locks do (QuestDB)
    writes_across_processes: bool = False

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending schema migrations."""

    @abstractmethod
    async def open_reader(self) -> None:
        """Connect for reading only: no migration, no recovery, no write. A backtest's worker
        process reads its market data and its record through this while the server, which
        opened the store with ``open``, remains its one writer."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> bool:
        """True when the store answers a trivial query now."""


class SessionStore(ABC):
    """Session state and the event tape: the session service and the API's session views."""

    @abstractmethod
    async def create_session(self, session: Session, event: NewEvent) -> Session:
        """Durably record a new session and its first event (seq 1). If a session with the same
        ``idempotency_key`` exists, record nothing and return that one."""

    @abstractmethod
    async def update_session(
        self, session: Session, expected: SessionState, event: NewEvent | None
    ) -> Session:
        """Replace the stored record with ``session`` if its stored state is ``expected``, and
        append ``event`` atomically with it. Raises ``StaleState`` otherwise. The checkpoint is
        not part of it (only ``save_checkpoint`` writes that, so a transition never rolls back a
        newer checkpoint); the returned record carries the stored checkpoint."""

    @abstractmethod
    async def save_checkpoint(self, session_id: str, checkpoint: dict[str, Any]) -> None:
        """Record how far a running session got (used to resume it after a restart)."""

    @abstractmethod
    async def get_session(self, session_id: str) -> Session | None: ...

    @abstractmethod
    async def find_session_by_key(self, idempotency_key: str) -> Session | None: ...

    @abstractmethod
    async def list_sessions(self, query: SessionFilter) -> SessionPage:
        """Newest first (by ``created_at``, then id)."""

    @abstractmethod
    async def unfinished_sessions(self) -> list[Session]:
        """Every session whose state is not terminal (start-up reconciliation)."""

    # events --------------------------------------------------------------------------------
    @abstractmethod
    async def append_events(
        self, session_id: str, events: Sequence[NewEvent]
    ) -> list[SessionEvent]:
        """Number and store ``events``; returns them with their sequence numbers."""

    @abstractmethod
    async def list_events(
        self, session_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[SessionEvent]: ...


class TradingRecordStore(ABC):
    """A trading session's record: written by ``commit`` only, read back to resume the
    session and by the record views."""

    @abstractmethod
    async def commit(self, step: TradingCommit) -> list[SessionEvent]:
        """Make ``step`` durable as a whole: its rows (idempotently: a row written again keeps
        one row, the newest version of an order or position wins), its events (numbered after
        the session's last) and its resume state. Returns the numbered events. When it raises,
        the step is either wholly durable or not at all, and the next ``resume_state`` says
        which."""

    @abstractmethod
    async def resume_state(self, session_id: str) -> ResumeState | None:
        """The state saved with the session's newest durable commit (None before the first)."""

    @abstractmethod
    async def list_funding(self, session_id: str) -> list[FundingPayment]:
        """Oldest first."""

    @abstractmethod
    async def list_orders(self, session_id: str) -> list[OrderRecord]:
        """The newest state of each order, oldest order first."""

    @abstractmethod
    async def list_fills(self, session_id: str) -> list[Fill]: ...

    @abstractmethod
    async def list_positions(self, session_id: str) -> list[PositionRecord]:
        """The newest position per symbol."""

    @abstractmethod
    async def list_equity(self, session_id: str, limit: int = 10_000) -> list[EquityPoint]:
        """Oldest first; when there are more than ``limit`` points, evenly thinned to ``limit``
        (the first and last points are always kept)."""


class TrialStore(ABC):
    """A sweep session's trials."""

    @abstractmethod
    async def record_trials(self, rows: Sequence[TrialRecord]) -> None:
        """Store a sweep's trials; writing a trial (session, number) again keeps one."""

    @abstractmethod
    async def list_trials(self, session_id: str) -> list[TrialRecord]:
        """A sweep session's trials, by number."""


class TradeColumnReader(Protocol):
    """Reads one dataset's trades as columns (``MarketDataStore.trade_column_reader``)."""

    async def read_trade_columns(
        self, source: str, symbol: str, start: int, end: int
    ) -> TradeColumns: ...

    async def close(self) -> None: ...


class MarketDataStore(ABC):
    """Market data filed by source, and the datasets that describe it: replays, bars,
    importers, downloads and the research tools."""

    @abstractmethod
    async def write_trades(self, source: str, rows: Sequence[Trade]) -> None: ...

    @abstractmethod
    async def write_candles(self, source: str, rows: Sequence[Candle]) -> None: ...

    @abstractmethod
    async def write_books(self, source: str, rows: Sequence[BookSnapshot]) -> None: ...

    @abstractmethod
    async def write_funding(self, source: str, rows: Sequence[FundingRate]) -> None: ...

    @abstractmethod
    async def read_funding(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[FundingRate]:
        """Funding rates with ``start <= ts < end`` (the funding time), in time order."""

    @abstractmethod
    async def write_marks(self, source: str, rows: Sequence[MarkPrice]) -> None: ...

    async def read_kind(
        self, kind: str, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[MarketEvent]:
        """The rows of one market-data ``kind`` (a ``market_summary`` key), as ``read_*``."""
        if kind == "trades":
            return list(await self.read_trades(source, symbols, start, end))
        if kind == "candles":
            return list(await self.read_candles(source, symbols, start, end))
        if kind == "book":
            return list(await self.read_books(source, symbols, start, end))
        if kind == "funding":
            return list(await self.read_funding(source, symbols, start, end))
        if kind == "mark":
            return list(await self.read_marks(source, symbols, start, end))
        raise ValueError(f"unknown market-data kind {kind!r}")

    @abstractmethod
    async def read_marks(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[MarkPrice]:
        """Mark prices with ``start <= ts < end``, in time order."""

    @abstractmethod
    async def read_trades(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[Trade]:
        """Rows with ``start <= ts < end``, in timestamp order."""

    @abstractmethod
    async def read_trade_columns(
        self, source: str, symbol: str, start: int, end: int
    ) -> TradeColumns:
        """One symbol's trades with ``start <= ts < end``, in the order ``read_trades`` gives
        them (ts, symbol, trade_id), as columns: no Python object kept per row."""

    @abstractmethod
    async def trade_column_reader(self) -> TradeColumnReader:
        """What a process that reads one dataset's trades and nothing else (a streamed
        backtest's, a sweep worker's) reads them with from now on, in place of this store: the
        store itself, or a reader that decodes in C without holding the interpreter, so that
        the next window is read while the engine works on this one (SQLite's, which closes the
        store first: ``SQLiteStore.trade_column_reader``). Closing the reader closes the store."""

    @abstractmethod
    async def read_candles(
        self, source: str, symbols: Sequence[str], start: int, end: int, interval: int | None = None
    ) -> list[Candle]: ...

    @abstractmethod
    async def read_bar_columns(
        self, source: str, symbol: str, start: int, end: int, interval: int
    ) -> BarColumns:
        """One symbol's stored candles of ``interval`` seconds opening in ``[start, end)``, in
        time order, as columns (what a chart's indicators are folded over)."""

    async def read_resampled(
        self, source: str, symbol: str, start: int, end: int, base: int, interval: int
    ) -> list[Candle] | None:
        """``symbol``'s stored bars of ``base`` seconds opening in ``[start, end)`` aggregated by
        the store itself into bars of ``interval`` seconds aligned to the epoch (open of the
        first, high/low over all, close of the last, volumes summed; buckets without a base bar
        make no bar), oldest first; None when this store cannot (the caller reads the base bars
        and aggregates them itself: a chart of a month of 1m bars at 4h reads 44,640 rows for
        186 bars)."""
        return None

    @abstractmethod
    async def read_books(
        self, source: str, symbols: Sequence[str], start: int, end: int
    ) -> list[BookSnapshot]: ...

    @abstractmethod
    async def market_summary(self, source: str) -> dict[str, dict[str, Any]]:
        """Per kind (``trades``, ``candles``, ``book``, ``funding``, ``mark``): ``{"rows", "start_ts", "end_ts",
        "symbols"}`` for the rows filed under ``source``; kinds with no rows are left out."""

    # datasets ------------------------------------------------------------------------------
    @abstractmethod
    async def save_dataset(self, dataset: Dataset) -> None:
        """Create or replace the dataset's description (its rows are written separately)."""

    @abstractmethod
    async def get_dataset(self, name: str) -> Dataset | None: ...

    @abstractmethod
    async def list_datasets(self) -> list[Dataset]: ...


class StrategyStore(ABC):
    """Saved strategies (a built-in strategy with its parameters, by name)."""

    @abstractmethod
    async def save_strategy(self, strategy: SavedStrategy) -> None:
        """Create or replace a saved strategy by name."""

    @abstractmethod
    async def get_strategy(self, name: str) -> SavedStrategy | None: ...

    @abstractmethod
    async def list_strategies(self) -> list[SavedStrategy]: ...


class Store(
    StoreConnection,
    SessionStore,
    TradingRecordStore,
    TrialStore,
    MarketDataStore,
    StrategyStore,
):
    """Everything a store keeps: what SQLite and QuestDB implement and the server holds. Code
    that needs only one concern takes the narrow interface instead."""


def thin_picks(count: int, limit: int) -> list[int]:
    """The positions of at most ``limit`` of ``count`` rows, spread evenly, always keeping the
    first and the last."""
    if limit <= 0:
        return []
    if count <= limit:
        return list(range(count))
    if limit == 1:
        return [count - 1]
    last = count - 1
    return sorted({round(i * last / (limit - 1)) for i in range(limit)})


def thin_evenly(rows: list[R], limit: int) -> list[R]:
    """At most ``limit`` rows spread evenly over ``rows``, always keeping the first and the last."""
    return [rows[i] for i in thin_picks(len(rows), limit)]

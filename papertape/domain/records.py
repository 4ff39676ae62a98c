"""The trading record a session leaves on the tape: orders, fills, positions, equity points,
and the datasets market data is filed under. Plain immutable rows; the engine produces them,
the store keeps them, the API shows them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from papertape.domain.errors import ValidationFailed
from papertape.domain.funding import FundingPayment

DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


class OrderRecord(NamedTuple):
    """The latest known state of an order. Stored append-only: each change is a new row and the
    newest row per ``order_id`` is the order's state."""

    session_id: str
    order_id: str
    ts: int
    symbol: str
    side: str  # "buy" | "sell"
    type: str  # "market" | "limit" | "stop"
    qty: float
    price: float | None  # limit price
    stop_price: float | None
    status: str  # "open" | "partially_filled" | "filled" | "cancelled" | "rejected"
    filled_qty: float
    avg_fill_price: float | None
    created_ts: int
    client_order_id: str = ""
    reason: str = ""  # why it was rejected or cancelled, or which rule placed it


class Fill(NamedTuple):
    """One execution, as the venue books it, the portfolio applies it, a strategy hears of it
    and the tape stores it: one shape from the fill to the store. ``fee`` is in the quote
    currency (negative for a maker rebate)."""

    session_id: str
    fill_id: str
    order_id: str
    ts: int
    symbol: str
    side: str
    qty: float
    price: float
    fee: float
    liquidity: str  # "maker" | "taker"


class PositionRecord(NamedTuple):
    """A position at ``ts``; the newest row per symbol is the current position. ``qty`` is signed
    (negative = short)."""

    session_id: str
    ts: int
    symbol: str
    qty: float
    avg_price: float
    mark_price: float
    realized_pnl: float
    unrealized_pnl: float
    fees: float


class EquityPoint(NamedTuple):
    session_id: str
    ts: int
    equity: float
    cash: float
    unrealized_pnl: float
    realized_pnl: float
    fees: float


@dataclass(slots=True)
class RecordBatch:
    """What the engine recorded since it was last drained, in the order it happened: the rows
    of each table, and the events for the session's tape (``(kind, record or dict)`` pairs).
    A session commits one batch, with the engine state that follows it, all or nothing."""

    orders: list[OrderRecord] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    positions: list[PositionRecord] = field(default_factory=list)
    equity: list[EquityPoint] = field(default_factory=list)
    funding: list[FundingPayment] = field(default_factory=list)
    events: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return (
            len(self.orders)
            + len(self.fills)
            + len(self.positions)
            + len(self.equity)
            + len(self.funding)
            + len(self.events)
        )

    @property
    def trades(self) -> bool:
        """Orders or fills are waiting: worth committing soon (the API shows them)."""
        return bool(self.orders or self.fills)

    def extend(self, other: RecordBatch) -> None:
        self.orders += other.orders
        self.fills += other.fills
        self.positions += other.positions
        self.equity += other.equity
        self.funding += other.funding
        self.events += other.events


class Dataset(NamedTuple):
    """A named body of recorded market data. Its rows are stored with ``source = name``; a
    collect session's recording is replayable under ``source = session_id``."""

    name: str
    kind: str  # "trades" | "candles" | "book"
    symbols: tuple[str, ...]
    rows: int
    start_ts: int | None
    end_ts: int | None
    created_at: int
    interval: int | None = None  # candle interval in seconds
    origin: str = ""  # the imported file, or the session that recorded it


class SavedStrategy(NamedTuple):
    """A user's saved strategy (a declarative rule strategy from the builder, or a built-in with
    chosen parameters). ``definition`` is the JSON the engine validates."""

    name: str
    base: str  # the built-in strategy it configures, e.g. "rules" or "sma_cross"
    params: dict[str, Any]
    created_at: int
    updated_at: int
    description: str = ""


def check_dataset_name(name: str) -> str:
    """Dataset names are safe in URLs, file names and SQL identifiers' neighbourhoods."""
    if not DATASET_NAME.match(name):
        raise ValidationFailed(
            f"invalid dataset name {name!r}",
            details=[
                {
                    "field": "name",
                    "message": "1-100 letters, digits, '_', '-' or '.', starting with a letter "
                    "or digit",
                }
            ],
        )
    return name

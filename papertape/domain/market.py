"""Market events: the data every source produces and every consumer reads.

Timestamps are integers, microseconds since the Unix epoch, UTC. Integers keep replay exact and
cheap (no datetime objects on the hot path) and match QuestDB's designated-timestamp resolution.
Symbols are canonical papertape symbols such as ``BTC_USDT`` (see ``papertape.domain.symbols``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from papertape.domain.funding import FundingRate

MICROS = 1_000_000


UNKNOWN_SIDE = "unknown"


class Trade(NamedTuple):
    """One trade print. ``side`` is the aggressor side: ``"buy"``, ``"sell"``, or
    ``UNKNOWN_SIDE`` when the source does not say."""

    ts: int
    symbol: str
    price: float
    qty: float
    side: str
    trade_id: str = ""


class Candle(NamedTuple):
    """One bar. ``ts`` is the bar's open time; ``interval`` is in seconds."""

    ts: int
    symbol: str
    interval: int
    open: float
    high: float
    low: float
    close: float
    volume: float


# a bar's prices and volume: what strategies, rules and chart indicators read of a bar
BAR_FIELDS = ("open", "high", "low", "close", "volume")


class BookSnapshot(NamedTuple):
    """An L2 order-book snapshot: ``bids`` best (highest) first, ``asks`` best (lowest) first."""

    ts: int
    symbol: str
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]


class MarkPrice(NamedTuple):
    """A perpetual's mark price (the exchange's fair price, which values positions for unrealized
    PnL, margin and liquidation) at ``ts``."""

    ts: int
    symbol: str
    price: float


MarketEvent = Trade | Candle | BookSnapshot | FundingRate | MarkPrice


def event_price(event: MarketEvent) -> float | None:
    """The price an event says the market is at (last trade, bar close, or book mid); a
    funding rate or a mark price says none (the mark is not a traded price)."""
    if isinstance(event, Trade):
        return event.price
    if isinstance(event, Candle):
        return event.close
    if isinstance(event, BookSnapshot) and event.bids and event.asks:
        return (event.bids[0][0] + event.asks[0][0]) / 2
    return None


def to_micros(moment: datetime) -> int:
    """UTC datetime → integer microseconds. Naive datetimes are rejected, never guessed."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: papertape timestamps are UTC and must say so")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def from_micros(ts: int) -> datetime:
    """Integer microseconds → aware UTC datetime."""
    return datetime.fromtimestamp(ts // MICROS, tz=UTC).replace(microsecond=ts % MICROS)


def iso(ts: int | None) -> str | None:
    """Integer microseconds → ISO-8601 UTC text for the API (``None`` stays ``None``)."""
    return None if ts is None else from_micros(ts).isoformat().replace("+00:00", "Z")


class StreamPosition(NamedTuple):
    """How far a session got in its (timestamp-ordered) market data: every event before ``ts``,
    and the first ``seen`` events at ``ts``. Several events can share a timestamp (trades of one
    millisecond, candles of several symbols), so a timestamp alone cannot say where to resume."""

    ts: int
    seen: int

    @classmethod
    def through(cls, ts: int) -> StreamPosition:
        """After every event at or before ``ts``."""
        return cls(ts, sys.maxsize)

    def after(self, events: Sequence[Any]) -> StreamPosition:
        """The position once ``events`` (the next ones in the stream, not empty) are consumed."""
        last = events[-1].ts
        tail = 0
        for event in reversed(events):
            if event.ts != last:
                break
            tail += 1
        if tail == len(events) and last == self.ts:
            return StreamPosition(last, self.seen + tail)
        return StreamPosition(last, tail)

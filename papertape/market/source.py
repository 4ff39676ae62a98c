"""The market-data interface every session reads through.

A source yields *batches* of market events in timestamp order: a replay hands out large chunks
so that a backtest is not slowed by one await per tick, a live feed hands out what arrived.
``status`` is the truth about the feed at any moment, shown on the session's detail and pushed
over ``/ws``; the source updates it, the runner publishes it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from papertape.domain.market import MarketEvent


@dataclass(slots=True)
class FeedStatus:
    """``state``: ``connecting`` | ``live`` | ``reconnecting`` | ``stale`` | ``replaying`` |
    ``finished`` | ``failed`` | ``closed`` (the session ended before its data did)."""

    state: str = "connecting"
    reconnects: int = 0
    gaps: int = 0
    events: int = 0
    last_event_ts: int | None = None
    message: str = ""
    progress: float | None = None  # share of a replay delivered, 0..1 (None for a live feed)
    changed_at: float = 0.0

    def set(self, state: str, message: str = "") -> bool:
        """Change state; True when it really changed (so the runner publishes only changes)."""
        if state == self.state and message == self.message:
            return False
        self.state = state
        self.message = message
        self.changed_at = time.time()
        return True

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("changed_at")
        return data


class MarketSource(ABC):
    """A stream of market events for a set of symbols.

    ``resume_after`` (µs) makes a resumed session continue where it was: events at or before it
    are not delivered again. ``batches`` ends when the data is exhausted (a replay); a live feed
    never ends by itself and raises ``FeedError`` only for permanent failures.
    """

    def __init__(self, symbols: Sequence[str], resume_after: int | None = None):
        self.symbols = tuple(symbols)
        self.resume_after = resume_after
        self.status = FeedStatus()

    @abstractmethod
    def batches(self) -> AsyncIterator[Sequence[MarketEvent]]: ...

    def outage_notes(self) -> dict[str, Any]:
        """What a live feed resumed after an outage made up for, or could not (merged into the
        session's ``gap`` event); nothing by default."""
        return {}

    async def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections. Called once when the session's runner ends, however it ends."""

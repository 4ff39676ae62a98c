"""What a session's runner feeds market data into.

The runner (``papertape.sessions.runner``) owns the task, the source and the lifecycle; consumers
own what a session *does* with the data: record prices, record trades and books (collect), or run
strategies through a venue into a portfolio (paper, backtest, live). A consumer never changes the
session's state itself: it asks for a stop through ``RunContext.request_stop`` and the session
service decides.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol

from papertape.domain.market import MarketEvent, StreamPosition
from papertape.domain.session import Session, SessionEvent
from papertape.store.base import Store


class RunContext(Protocol):
    """The runner's services, handed to each consumer."""

    session: Session
    store: Store

    async def publish(self, kind: str, data: dict[str, Any]) -> int:
        """Append an event to the session's tape and push it to ``/ws`` subscribers; returns its
        sequence number. For fills, orders, positions, risk decisions: things worth replaying."""
        ...

    async def publish_many(self, events: list[tuple[str, dict[str, Any]]]) -> int:
        """``publish`` for several ``(kind, data)`` events at once, in order, in one store write
        (a trading batch can produce thousands); returns the last sequence number."""
        ...

    def note_event(self, event: SessionEvent) -> None:
        """An event of this session was recorded by the consumer itself (a trading commit):
        push it to ``/ws`` subscribers."""
        ...

    def broadcast(self, kind: str, data: dict[str, Any]) -> None:
        """Push a transient update (a price, an equity tick) to ``/ws`` subscribers without
        recording an event; it carries the session's current sequence number."""
        ...

    def request_stop(self, reason: str) -> None:
        """Ask the session service to stop this session with ``stop_reason=reason`` (a risk rule,
        ``duration``). Returns at once; the runner's batches stop soon after."""
        ...

    def now(self) -> int:
        """The session clock in µs: wall time for live and paper, the data's time in a backtest."""
        ...


class Consumer(ABC):
    # True for a consumer whose commits say how far the session got (``resume_position``): the
    # runner resumes the source from there, never from the checkpoint's timer-driven last_ts
    commits_position = False
    resume_position: StreamPosition | None = None

    async def start(self, ctx: RunContext) -> None:
        """Called once before the first batch (also when a session is resumed after a restart:
        rebuild state from ``ctx.store`` here)."""
        self.ctx = ctx

    @abstractmethod
    async def on_batch(self, events: Sequence[MarketEvent]) -> None: ...

    async def tick(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Called about once a second while the session runs, whether data flows or not."""

    async def finish(self, reason: str) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Called once when the session ends for any reason (``stopped``, ``completed``,
        ``failed``): flush what is buffered. Must not raise for a normal end."""

    def detail(self) -> dict[str, Any]:
        """Counters and metrics shown on ``GET /sessions/{id}`` while the session runs."""
        return {}

    def checkpoint(self) -> dict[str, Any]:
        """State to save so a resumed session continues from here (merged into the session's
        checkpoint by the runner)."""
        return {}

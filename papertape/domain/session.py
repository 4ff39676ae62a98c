"""The session state machine: the one place that decides whether a transition is legal.

    starting ─► running ─► stopping ─► stopped
        │          │           │
        │          ├─► completed (ended by itself: data exhausted, duration elapsed)
        ├──────────┴───────────┴─► failed (always with error_code and error_message)
        └─► stopping (a stop that arrives before the session is running)

``stopped`` always records a ``stop_reason`` (``user``, ``duration``, ``shutdown``, a risk rule).
``transition`` is pure: it returns the new record, and the caller (the session service) asks
the store to accept it only if the stored state is still the one it started from.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from papertape.domain.errors import IllegalTransition


class SessionState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


class Mode(StrEnum):
    PAPER = "paper"
    BACKTEST = "backtest"
    COLLECT = "collect"
    LIVE = "live"
    SWEEP = "sweep"  # a parameter sweep: trials of backtests (papertape.research)


TERMINAL_STATES = frozenset({SessionState.STOPPED, SessionState.COMPLETED, SessionState.FAILED})

LEGAL_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.STARTING: frozenset(
        {SessionState.RUNNING, SessionState.STOPPING, SessionState.FAILED}
    ),
    SessionState.RUNNING: frozenset(
        {SessionState.STOPPING, SessionState.COMPLETED, SessionState.FAILED}
    ),
    SessionState.STOPPING: frozenset({SessionState.STOPPED, SessionState.FAILED}),
    SessionState.STOPPED: frozenset(),
    SessionState.COMPLETED: frozenset(),
    SessionState.FAILED: frozenset(),
}


def is_legal(current: SessionState, target: SessionState) -> bool:
    return target in LEGAL_TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class Session:
    """A session as the store keeps it. Immutable: every change is a new record."""

    session_id: str
    mode: Mode
    state: SessionState
    symbols: tuple[str, ...]
    config: dict[str, Any]
    created_at: int
    updated_at: int
    started_at: int | None = None
    ended_at: int | None = None
    stop_reason: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    idempotency_key: str | None = None
    last_seq: int = 0
    checkpoint: dict[str, Any] = field(default_factory=dict)


def transition(
    session: Session,
    target: SessionState,
    *,
    at: int,
    stop_reason: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Session:
    """Return ``session`` moved to ``target`` at time ``at`` (µs), or raise ``IllegalTransition``."""
    if not is_legal(session.state, target):
        raise IllegalTransition(
            f"session {session.session_id} cannot go from {session.state} to {target}",
            session_id=session.session_id,
            details={"from": session.state.value, "to": target.value},
        )
    changes: dict[str, Any] = {"state": target, "updated_at": at}
    if target is SessionState.RUNNING and session.started_at is None:
        changes["started_at"] = at
    if target is SessionState.STOPPING or target is SessionState.STOPPED:
        reason = stop_reason or session.stop_reason
        if not reason:
            raise ValueError("a stop needs a stop_reason")
        changes["stop_reason"] = reason
    if target is SessionState.FAILED:
        if not error_code or not error_message:
            raise ValueError("a failure needs an error_code and an error_message")
        changes["error_code"] = error_code
        changes["error_message"] = error_message
    if target.terminal:
        changes["ended_at"] = at
    return dataclasses.replace(session, **changes)


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """One entry of a session's tape: lifecycle transitions and trading events, numbered by
    ``seq`` (1, 2, 3, … per session, no gaps)."""

    session_id: str
    seq: int
    ts: int
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event before the store numbers it."""

    kind: str
    data: dict[str, Any]
    ts: int


def state_event(before: Session, after: Session) -> NewEvent:
    """The tape entry that records a transition."""
    data: dict[str, Any] = {"from": before.state.value, "to": after.state.value}
    for key in ("stop_reason", "error_code", "error_message"):
        value = getattr(after, key)
        if value is not None and value != getattr(before, key):
            data[key] = value
    return NewEvent(kind="state", data=data, ts=after.updated_at)

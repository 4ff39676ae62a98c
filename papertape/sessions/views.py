"""How sessions and their events look to clients: the same shapes over REST, ``/ws`` and the
CLI, so screens cannot disagree."""

from __future__ import annotations

from typing import Any

from papertape.domain.market import iso
from papertape.domain.session import Session, SessionEvent


def session_view(session: Session, runtime: dict[str, Any] | None = None) -> dict[str, Any]:
    """A session as the API shows it. ``runtime`` is what its runner reports while it runs in
    this server; without one the last checkpointed detail is shown."""
    checkpoint_detail = session.checkpoint.get("detail", {})
    live = runtime or {}
    return {
        "session_id": session.session_id,
        "state": session.state.value,
        "mode": session.mode.value,
        "symbols": list(session.symbols),
        "label": session.config.get("label"),
        "created_at": iso(session.created_at),
        "updated_at": iso(session.updated_at),
        "started_at": iso(session.started_at),
        "ended_at": iso(session.ended_at),
        "stop_reason": session.stop_reason,
        "error_code": session.error_code,
        "error_message": session.error_message,
        "idempotency_key": session.idempotency_key,
        "last_seq": session.last_seq,
        "running_here": bool(live.get("alive")),
        "feed": live.get("feed") or checkpoint_detail.get("feed"),
        "metrics": (live or checkpoint_detail).get("metrics"),
        "counters": {
            "events": session.last_seq,
            **{
                k: v
                for k, v in (live or checkpoint_detail).items()
                if k not in ("alive", "feed", "metrics")
            },
        },
        "config": session.config,
    }


def session_summary(session: Session, runtime: dict[str, Any] | None = None) -> dict[str, Any]:
    """The list form: the detail without the config."""
    view = session_view(session, runtime)
    view.pop("config")
    return view


def event_view(event: SessionEvent) -> dict[str, Any]:
    return {"seq": event.seq, "ts": iso(event.ts), "kind": event.kind, "data": event.data}


def event_message(event: SessionEvent) -> dict[str, Any]:
    return {"type": "event", "session_id": event.session_id, **event_view(event)}


def tick_message(session_id: str, seq: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tick", "session_id": session_id, "seq": seq, "kind": kind, "data": data}


def session_message(view: dict[str, Any]) -> dict[str, Any]:
    return {"type": "session", "session_id": view["session_id"], "data": view}

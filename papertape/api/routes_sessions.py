"""Session control and inspection: the contract of DESIGN.md's "HTTP API" table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from papertape.api.deps import get_service
from papertape.api.envelope import ok, ok_built
from papertape.api.schemas import (
    ERRORS,
    SEQ_MAX,
    EventsResponse,
    SessionListResponse,
    SessionResponse,
    SessionStartedResponse,
    StopAllResponse,
    StopRequest,
    StopResponse,
)
from papertape.domain.config import SessionConfig
from papertape.domain.session import Mode, SessionState
from papertape.domain.symbols import canonical
from papertape.sessions.service import SessionService, StopResult
from papertape.sessions.views import event_view, session_summary, session_view
from papertape.store.base import SessionFilter

router = APIRouter(tags=["sessions"])

Service = Annotated[SessionService, Depends(get_service)]
SessionIdPath = Annotated[str, Path(min_length=1, max_length=200)]


@router.post(
    "/sessions/start",
    status_code=201,
    response_model=SessionStartedResponse,
    responses={
        200: {"model": SessionStartedResponse, "description": "same idempotency key"},
        **ERRORS,
    },
)
async def start_session(config: SessionConfig, service: Service) -> JSONResponse:
    """Record a session durably, launch it, and answer once it is running. With an
    ``idempotency_key`` seen before, answer 200 with that session instead."""
    session, created = await service.start(config)
    view = session_view(session, service.runtime(session.session_id))
    if created:
        return JSONResponse(ok("session_started", view), status_code=201)
    return JSONResponse(ok("session_exists", view), status_code=200)


def _stopped(result: StopResult) -> dict[str, Any]:
    session = result.session
    return ok(
        "session_stopped",
        {
            "session_id": session.session_id,
            "stopped_via": result.stopped_via,
            "final_state": session.state.value,
            "stop_reason": session.stop_reason,
            "error_code": session.error_code,
        },
    )


@router.post("/sessions/stop", response_model=StopResponse, responses=ERRORS | {504: ERRORS[503]})
async def stop_session(body: StopRequest, service: Service) -> dict[str, Any]:
    """Stop a session and answer after it stopped. An ended session answers 200 with
    ``stopped_via: already_stopped`` and its real final state."""
    return _stopped(await service.stop(body.session_id))


@router.post("/sessions/stop_all", response_model=StopAllResponse, responses=ERRORS)
async def stop_all_sessions(service: Service) -> dict[str, Any]:
    """The emergency stop: every session that has not ended is stopped at once
    (``stop_reason: emergency``). Answers after all of them stopped."""
    results = await service.stop_all("emergency")
    return ok(
        "sessions_stopped",
        {"stopped": [_stopped(r)["data"] for r in results], "count": len(results)},
    )


@router.post(
    "/sessions/{session_id}/stop",
    response_model=StopResponse,
    responses=ERRORS | {504: ERRORS[503]},
)
async def stop_session_by_path(session_id: SessionIdPath, service: Service) -> dict[str, Any]:
    return _stopped(await service.stop(session_id))


@router.get("/sessions", response_model=SessionListResponse, responses=ERRORS)
async def list_sessions(
    service: Service,
    state: SessionState | None = None,
    mode: Mode | None = None,
    symbol: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Newest first."""
    wanted_symbol = _canonical_or_none(symbol)
    page = await service.store.list_sessions(
        SessionFilter(state=state, mode=mode, symbol=wanted_symbol, limit=limit, offset=offset)
    )
    views = [session_summary(s, service.runtime(s.session_id)) for s in page.sessions]
    return ok(
        "sessions_listed",
        {"sessions": views, "total": page.total, "limit": limit, "offset": offset},
    )


def _canonical_or_none(symbol: str | None) -> str | None:
    if symbol is None:
        return None
    try:
        return canonical(symbol)
    except ValueError:
        return symbol  # matches nothing: an honest empty page, not an error


@router.get("/sessions/{session_id}", response_model=SessionResponse, responses=ERRORS)
async def get_session(session_id: SessionIdPath, service: Service) -> dict[str, Any]:
    session = await service.get(session_id)
    return ok("session_found", session_view(session, service.runtime(session_id)))


@router.get("/sessions/{session_id}/events", response_model=EventsResponse, responses=ERRORS)
async def list_events(
    session_id: SessionIdPath,
    service: Service,
    after_seq: Annotated[int, Query(ge=0, le=SEQ_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """The session's tape in order. Catch up after a reconnect with ``after_seq``."""
    session = await service.get(session_id)
    events = await service.store.list_events(session_id, after_seq, limit)
    return await ok_built(
        "events_listed",
        lambda: {
            "session_id": session_id,
            "events": [event_view(e) for e in events],
            "last_seq": session.last_seq,
        },
    )

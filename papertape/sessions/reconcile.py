"""Start-up reconciliation: no session stays "running" with nothing running it.

For every session the store says is not terminal:
- ``running`` paper, backtest, collect and sweep sessions are resumed: trading sessions from
  their last durable commit, exactly (``papertape.engine.snapshot``), collect sessions after the
  last event they recorded, sweeps with the trials they recorded (only the others run);
- ``running`` live sessions are marked ``failed`` / ``interrupted`` (a live session must not
  trade unattended after a crash without a person deciding so);
- ``starting`` sessions never ran: ``failed`` / ``interrupted``;
- ``stopping`` sessions were being stopped: their end is finished (the results a trading
  session records when it ends, once) and they are ``stopped`` now.

Sessions are reconciled concurrently: a server with hundreds of sessions is back in seconds.
"""

from __future__ import annotations

import asyncio

import structlog

from papertape.domain.session import Mode, Session, SessionState
from papertape.sessions.service import SessionService

log = structlog.get_logger("papertape.reconcile")

RESUMABLE = frozenset({Mode.PAPER, Mode.BACKTEST, Mode.COLLECT, Mode.SWEEP})


async def reconcile(service: SessionService) -> dict[str, list[str]]:
    report: dict[str, list[str]] = {"resumed": [], "failed": [], "stopped": []}
    sessions = await service.store.unfinished_sessions()
    outcomes = await asyncio.gather(*(_reconcile_one(service, s) for s in sessions))
    for session, outcome in zip(sessions, outcomes, strict=True):
        report[_bucket(outcome)].append(session.session_id)
        log.info("session.reconciled", session_id=session.session_id, state=outcome.state.value)
    return report


async def _reconcile_one(service: SessionService, session: Session) -> Session:
    if session.state is SessionState.STOPPING:
        return await service.finish_interrupted_stop(session)
    if session.state is SessionState.RUNNING and session.mode in RESUMABLE:
        return await service.resume(session)
    why = (
        "the server stopped before the session was running"
        if session.state is SessionState.STARTING
        else f"the server stopped while this {session.mode.value} session ran; "
        f"{session.mode.value} sessions are not resumed automatically"
    )
    return await service.fail_interrupted(session, why)


def _bucket(session: Session) -> str:
    if session.state is SessionState.RUNNING:
        return "resumed"
    return "stopped" if session.state is SessionState.STOPPED else "failed"

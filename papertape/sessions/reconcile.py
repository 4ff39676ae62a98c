"""Start-up reconciliation: no session stays "running" with nothing running it.

For every session the store says is not terminal:
- ``running`` paper and collect sessions are resumed from their last checkpoint, sweeps with
  the trials they recorded (only the others run);
- ``running`` backtest and live sessions are marked ``failed`` / ``interrupted`` (a backtest
  half-recorded cannot be continued faithfully; a live session must not trade unattended after
  a crash without a person deciding so);
- ``starting`` sessions never ran: ``failed`` / ``interrupted``;
- ``stopping`` sessions were being stopped: they are ``stopped`` now.
"""

from __future__ import annotations

import structlog

from papertape.domain.session import Mode, Session, SessionState
from papertape.sessions.service import SessionService

log = structlog.get_logger("papertape.reconcile")

RESUMABLE = frozenset({Mode.PAPER, Mode.COLLECT, Mode.SWEEP})


async def reconcile(service: SessionService) -> dict[str, list[str]]:
    report: dict[str, list[str]] = {"resumed": [], "failed": [], "stopped": []}
    for session in await service.store.unfinished_sessions():
        outcome = await _reconcile_one(service, session)
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

"""A running session's pushed summary is current: the events recorded since its run began count
in its ``last_seq`` (a screen comparing it with ``GET /sessions/{id}`` must not see it older)."""

from __future__ import annotations

from typing import Any

from papertape.domain.config import SessionConfig
from papertape.domain.session import Mode, Session, SessionEvent, SessionState
from papertape.sessions.bus import EventBus
from papertape.sessions.runner import RunnerTask


class Watched(RunnerTask):
    async def _main(self) -> None: ...

    def cancel(self, *, suspend: bool = False) -> None: ...

    def runtime(self) -> dict[str, Any]:
        return {"alive": True}


def test_the_pushed_summary_counts_the_events_recorded_since_the_run_began() -> None:
    session = Session(
        session_id="exec_20260101_000000_deadbeef",
        mode=Mode.PAPER,
        state=SessionState.RUNNING,
        symbols=("BTC_USDT",),
        config={"mode": "paper", "symbols": ["BTC_USDT"]},
        created_at=1_000,
        updated_at=1_000,
        last_seq=3,
    )
    bus = EventBus()
    runner = Watched(session, SessionConfig.model_validate(session.config), bus)
    with bus.subscribe() as subscription:
        subscription.sessions.add(session.session_id)
        for seq in (4, 5, 6):
            runner.note_event(SessionEvent(session.session_id, seq, 2_000, "order", {}))
        runner.push_summary()
        [summary] = [m for m in subscription.take_latest() if m["type"] == "session"]
    assert summary["data"]["last_seq"] == 6
    assert summary["data"]["counters"]["events"] == 6

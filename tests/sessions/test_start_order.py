"""A start records its session running before the session's own events (its feed's state) are
written: on QuestDB a session's writes take one lock, a few round trips each, and a start whose
answer queued behind its session's first event took that much longer (issue 10: 20 starts at
once with 100 running)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from papertape.domain.session import Mode, NewEvent, Session, SessionEvent, SessionState
from papertape.store.sqlite import SQLiteStore
from tests.sessions.test_service_interleavings import config, new_service


class CallOrder(SQLiteStore):
    """The real SQLite store, noting the order in which a session's writes reach it."""

    def __init__(self, url: str):
        super().__init__(url)
        self.calls: list[str] = []

    async def append_events(
        self, session_id: str, events: Sequence[NewEvent]
    ) -> list[SessionEvent]:
        self.calls.append(f"event {events[0].kind}")
        return await super().append_events(session_id, events)

    async def update_session(
        self, session: Session, expected: SessionState, event: NewEvent | None
    ) -> Session:
        self.calls.append(f"state {session.state.value}")
        return await super().update_session(session, expected, event)


async def test_a_start_records_running_before_its_sessions_own_events(tmp_path):
    store = CallOrder(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    service = new_service(store)
    try:
        for _ in range(3):
            session, _ = await service.start(config("infinite", Mode.PAPER, None, None))
            assert session.state is SessionState.RUNNING
            while "event feed" not in store.calls:  # the feed's state is still recorded
                await asyncio.sleep(0.01)
            assert store.calls[:2] == ["state running", "event feed"], store.calls
            await service.stop(session.session_id)
            kinds = [e.kind for e in await store.list_events(session.session_id)]
            assert kinds[:3] == ["state", "state", "feed"], kinds
            store.calls.clear()
    finally:
        await service.shutdown()
        await store.close()

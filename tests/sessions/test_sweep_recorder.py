"""A sweep's recorder after a crash: trials recorded without their ``trial`` events (the crash
fell between the two writes) are announced when the sweep resumes, once."""

from __future__ import annotations

from typing import Any

from papertape.domain.config import SessionConfig
from papertape.domain.session import Mode, NewEvent, Session, SessionEvent
from papertape.domain.trials import TrialRecord
from papertape.sessions.consumers.sweep import SweepRecorder
from papertape.store.sqlite import SQLiteStore
from tests.store.test_store_contract import T0, start

CONFIG = SessionConfig.model_validate(
    {
        "mode": "sweep",
        "symbols": ["BTC_USDT"],
        "strategies": ["sma_cross"],
        "market": {"source": "replay", "dataset": "btc_1m"},
        "sweep": {"grid": {"fast": [5, 10, 15], "slow": [30]}},
    }
)


class Context:
    """What a runner gives its consumers, on a real store (the parts a recorder uses)."""

    def __init__(self, store: SQLiteStore, session: Session):
        self.store = store
        self.session = session

    async def publish_many(self, events: list[tuple[str, dict[str, Any]]]) -> int:
        recorded = await self.store.append_events(
            self.session.session_id, [NewEvent(kind, data, T0) for kind, data in events]
        )
        return recorded[-1].seq

    def broadcast(self, kind: str, data: dict[str, Any]) -> None:
        pass

    def note_event(self, event: SessionEvent) -> None:
        pass


def trial(session_id: str, number: int) -> TrialRecord:
    metrics = {"total_return_pct": float(number), "trades": 3}
    return TrialRecord(session_id, number, T0, {"fast": 5 * (number + 1), "slow": 30}, metrics,
                       None, float(number), "vectorised")  # fmt: skip


async def trial_numbers(store: SQLiteStore, session_id: str) -> list[int]:
    events = await store.list_events(session_id, 0, 1000)
    return [e.data["number"] for e in events if e.kind == "trial"]


async def test_trials_recorded_without_their_events_are_announced_at_resume_once(tmp_path):
    store = SQLiteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    try:
        session = await start(store, 1, mode=Mode.SWEEP)
        sid = session.session_id
        first = SweepRecorder(CONFIG)
        await first.start(Context(store, session))
        await first.on_batch([trial(sid, 0)])  # recorded and announced
        await store.record_trials([trial(sid, 1), trial(sid, 2)])  # the crash: no events
        assert await trial_numbers(store, sid) == [0]

        resumed = SweepRecorder(CONFIG)
        await resumed.start(Context(store, session))
        assert await trial_numbers(store, sid) == [0, 1, 2]
        assert resumed.done == 3
        again = SweepRecorder(CONFIG)  # a second resume announces nothing twice
        await again.start(Context(store, session))
        assert await trial_numbers(store, sid) == [0, 1, 2]
        assert [e.data for e in await store.list_events(sid, 0, 1000) if e.kind == "trial"][1][
            "params"
        ] == {"fast": 10, "slow": 30}
    finally:
        await store.close()

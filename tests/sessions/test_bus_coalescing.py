"""Per-subscriber coalescing: events are all delivered in order (or a resync says some were
not); ticks and session summaries keep only the latest per stream; the counters say so."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from papertape.sessions.bus import QUEUE_SIZE, TICKS_KEPT_FOR, EventBus
from papertape.sessions.metrics import Metrics

SID = "exec_20260101_000000_00000001"


def event(seq: int) -> dict:
    return {"type": "event", "session_id": SID, "seq": seq, "kind": "fill", "data": {}}


def tick(kind: str, n: int) -> dict:
    return {"type": "tick", "session_id": SID, "seq": 0, "kind": kind, "data": {"n": n}}


def summary(n: int) -> dict:
    return {"type": "session", "session_id": SID, "data": {"session_id": SID, "n": n}}


def value(metrics: Metrics, name: str) -> float:
    return metrics.registry.get_sample_value(name) or 0.0


@given(st.lists(st.sampled_from(["event", "price", "equity", "session"]), max_size=300))
def test_events_all_arrive_in_order_and_updates_keep_the_latest(kinds: list[str]) -> None:
    metrics = Metrics()
    bus = EventBus(metrics)
    with bus.subscribe() as sub:
        sub.sessions.add(SID)
        seq = 0
        last: dict[str, dict] = {}
        for n, kind in enumerate(kinds):
            if kind == "event":
                seq += 1
                bus.publish(event(seq), session_id=SID)
            elif kind == "session":
                last[kind] = summary(n)
                bus.publish(last[kind], session_id=SID)
            else:
                last[kind] = tick(kind, n)
                bus.publish(last[kind], session_id=SID)
        assert [m["seq"] for m in sub.take_pending()] == list(range(1, seq + 1))
        latest = sub.take_latest()
        assert sorted(latest, key=str) == sorted(last.values(), key=str)
        updates = len(kinds) - seq
        assert value(metrics, "papertape_ws_messages_coalesced_total") == updates - len(last)
        assert sub.ready.is_set() == bool(kinds)


def test_a_subscriber_that_falls_behind_is_told_to_resync() -> None:
    metrics = Metrics()
    bus = EventBus(metrics)
    with bus.subscribe() as sub:
        sub.sessions.add(SID)
        for seq in range(1, QUEUE_SIZE + 11):
            bus.publish(event(seq), session_id=SID)
        pending = sub.take_pending()
        assert len(pending) == QUEUE_SIZE and pending[-1]["type"] == "resync"
        assert [m["seq"] for m in pending[:-1]] == list(range(2, QUEUE_SIZE + 1))
        assert value(metrics, "papertape_ws_messages_dropped_total") == 11  # 1, then 2001..2010
        bus.publish(event(QUEUE_SIZE + 11), session_id=SID)  # caught up again after the resync
        assert [m["seq"] for m in sub.take_pending()] == [QUEUE_SIZE + 11]


def test_only_watched_sessions_count_as_watched() -> None:
    bus = EventBus()
    assert not bus.watched(SID)
    with bus.subscribe() as sub:
        assert not bus.watched(SID)
        sub.sessions.add(SID)
        assert bus.watched(SID) and not bus.watched("other")
    with bus.subscribe() as sub:
        sub.session_list = True
        assert bus.watched("any")


def test_runs_of_one_sessions_events_go_out_as_one_message() -> None:
    from papertape.api.ws import batched

    other = "exec_20260101_000000_00000002"
    messages = [
        event(1),
        event(2),
        tick("price", 0),
        event(3),
        {**event(1), "session_id": other},
        event(4),
    ]
    out = list(batched(messages))
    assert [m["type"] for m in out] == ["events", "tick", "event", "event", "event"]
    assert [e["seq"] for e in out[0]["events"]] == [1, 2] and out[0]["session_id"] == SID
    assert [m.get("session_id") for m in out[2:]] == [SID, other, SID]


def test_the_latest_tick_of_each_stream_is_kept_for_later_subscribers() -> None:
    bus = EventBus()
    for n in range(5):
        bus.publish(tick("price", n), session_id=SID)
        bus.publish(tick("equity", 10 + n), session_id=SID)
    bus.publish(event(1), session_id=SID)
    bus.publish(summary(1), session_id=SID)
    assert sorted((t["kind"], t["data"]["n"]) for t in bus.latest_ticks(SID)) == [
        ("equity", 14),
        ("price", 4),
    ]
    assert bus.latest_ticks("exec_20260101_000000_00000002") == []


def test_latest_ticks_are_kept_for_the_most_recently_ticking_sessions_only() -> None:
    bus = EventBus()
    sessions = [f"exec_20260101_000000_{n:08d}" for n in range(TICKS_KEPT_FOR + 1)]
    for session_id in sessions:
        bus.publish({**tick("price", 1), "session_id": session_id}, session_id=session_id)
    bus.publish({**tick("price", 2), "session_id": sessions[1]}, session_id=sessions[1])
    bus.publish({**tick("price", 1), "session_id": "another"}, session_id="another")
    assert bus.latest_ticks(sessions[0]) == []  # the oldest went first
    assert bus.latest_ticks(sessions[2]) == []  # then the least recently ticking
    assert [t["data"]["n"] for t in bus.latest_ticks(sessions[1])] == [2]
    assert len(bus.latest_ticks(sessions[-1])) == 1

"""A ``/ws`` subscription with ``after_seq`` while the session keeps recording: the catch-up
from the store and the live events must join without a gap, a duplicate or a reordering.

The real connection code (``Connection`` and its writer) runs against a real SQLite store and
the real bus; only the socket is a list that collects what would be sent, and the store's event
reads are slowed so that live events arrive while the catch-up is still being read (the window
in which a sweep's trial events were once delivered twice)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from papertape.api.ws import Connection, _write
from papertape.domain.session import NewEvent
from papertape.sessions.bus import EventBus
from papertape.sessions.views import event_message, tick_message
from papertape.store.sqlite import SQLiteStore
from tests.store.test_store_contract import created, new_session


class CollectingSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))


class SlowReads:
    """The real store, with each page of events read after a pause."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    async def get_session(self, session_id: str) -> Any:
        return await self.store.get_session(session_id)

    async def list_events(self, session_id: str, after_seq: int, limit: int) -> Any:
        await asyncio.sleep(0.02)
        return await self.store.list_events(session_id, after_seq, limit)


class Service:
    def __init__(self, store: SlowReads, bus: EventBus) -> None:
        self.store = store
        self.bus = bus


def delivered_seqs(sent: list[dict[str, Any]]) -> list[int]:
    seqs = []
    for message in sent:
        for event in message["events"] if message["type"] == "events" else [message]:
            if event["type"] == "event":
                seqs.append(event["seq"])
    return seqs


async def subscribe_while_recording(
    tmp_path: Path, after_seq: int | None, events: bool | None = None
) -> tuple[list[int], int, list[dict[str, Any]]]:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'ws.db'}")
    await store.open()
    session = new_session(1)
    await store.create_session(session, created(session))
    session_id = session.session_id
    bus = EventBus()

    async def record(count: int) -> None:
        for n in range(count):
            for event in await store.append_events(
                session_id, [NewEvent("trial", {"number": n}, session.created_at + n)]
            ):
                bus.publish(event_message(event), session_id=session_id)
                if event.seq % 10 == 0:  # and a price tick now and then
                    tick = tick_message(session_id, event.seq, "price", {"n": event.seq})
                    bus.publish(tick, session_id=session_id)
            await asyncio.sleep(0.002)

    await record(20)  # recorded before the subscription
    socket = CollectingSocket()
    with bus.subscribe() as subscription:
        connection = Connection(socket, Service(SlowReads(store), bus), subscription)  # type: ignore[arg-type]
        forever = asyncio.get_running_loop().create_future()
        reader = asyncio.ensure_future(forever)
        writer = asyncio.create_task(_write(connection, reader))
        message: dict[str, Any] = {"action": "subscribe", "topic": "session"}
        message |= {"session_id": session_id}
        if after_seq is not None:
            message["after_seq"] = after_seq
        if events is not None:
            message["events"] = events
        recording = asyncio.create_task(record(60))  # recorded during and after the catch-up
        await connection.handle(json.dumps(message))
        await recording
        await asyncio.sleep(0.4)  # the writer flushes what is left (ticks: every 0.25 s)
        reader.cancel()
        writer.cancel()
    last = (await store.get_session(session_id)).last_seq  # type: ignore[union-attr]
    await store.close()
    return delivered_seqs(socket.sent), last, socket.sent


def test_catch_up_then_live_has_no_gap_duplicate_or_reordering(tmp_path: Path) -> None:
    seqs, last, _ = asyncio.run(subscribe_while_recording(tmp_path, after_seq=0))
    assert seqs == list(range(1, last + 1))


def test_without_after_seq_only_later_events_come_once_each_in_order(tmp_path: Path) -> None:
    seqs, last, _ = asyncio.run(subscribe_while_recording(tmp_path, after_seq=None))
    assert seqs, "live events after the subscription were delivered"
    assert seqs == list(range(seqs[0], last + 1))


def test_a_subscription_without_events_gets_ticks_and_no_event(tmp_path: Path) -> None:
    """``"events": false`` (a running backtest's page): the session's ticks come, none of its
    events (not even the catch-up ``after_seq`` asks for); the tape is read over HTTP."""
    seqs, last, sent = asyncio.run(subscribe_while_recording(tmp_path, after_seq=0, events=False))
    assert last == 81 and seqs == []
    ticks = [m["seq"] for m in sent if m["type"] == "tick"]
    assert ticks and max(ticks) >= 70  # the newest event's number, to tell how far the tape is
    assert sent[0]["type"] == "subscribed" and sent[0]["last_seq"] >= 21

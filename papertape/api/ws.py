"""``WS /ws``: one socket per client carries every subscription.

Client → server: ``{"action": "subscribe", "topic": "sessions"}``,
``{"action": "subscribe", "topic": "session", "session_id": "...", "after_seq": N}``,
``{"action": "unsubscribe", ...}`` (same fields), ``{"action": "ping"}``. A session subscription
with ``"events": false`` gets the session's summaries and ticks but none of its events (a running
backtest records thousands a second, more than a screen shows: its page reads the tape over HTTP
when it needs it); subscribing again with events on gets them from then on (``after_seq`` for
those missed).
Server → client: ``event`` (a recorded event, with ``seq``; several in a row of one session come
as one ``events`` message whose ``events`` are those ``event`` messages, in order), ``tick`` (transient price/equity,
with the session's latest ``seq``), ``session`` (a session's summary changed), ``subscribed``,
``heartbeat`` every 10 s, ``pong``, ``resync`` (the client fell behind: catch up from
``/sessions/{id}/events?after_seq=``) and ``error`` (with ``error_code`` and ``message``).
``tick`` and ``session`` messages are coalesced per subscriber: the latest of each goes out at
most every 0.25 s (``papertape.sessions.bus``); events are never coalesced.

A subscription with ``after_seq`` first replays the recorded events after it, then goes live,
without a gap, a duplicate or a reordering: it listens before it reads the store, holds the
live messages back while it catches up, and skips the live events it already replayed. Then, for
a session that has not ended, its latest ticks are sent (its progress, prices, equity), so a
screen shows them at once, not at the session's next tick.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from papertape.api.auth import websocket_allowed
from papertape.api.envelope import encode_json
from papertape.api.schemas import SEQ_MAX
from papertape.sessions.bus import COALESCE_SECONDS, Subscription
from papertape.sessions.service import SessionService
from papertape.sessions.views import event_message

router = APIRouter()
log = structlog.get_logger("papertape.ws")

HEARTBEAT_SECONDS = 10.0
CATCH_UP_PAGE = 1000


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "error_code": code, "message": message, **extra}


class Connection:
    def __init__(self, socket: WebSocket, service: SessionService, subscription: Subscription):
        self.socket = socket
        self.service = service
        self.subscription = subscription
        self.replayed_up_to: dict[str, int] = {}
        self.sending = asyncio.Lock()  # the writer's flushes, or one subscription's catch-up

    async def send(self, message: dict[str, Any]) -> None:
        # a backtest's events come a few thousand at a time: orjson encodes 5,000 in ~4 ms
        await self.socket.send_text(encode_json(message).decode())

    async def handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            await self.send(_error("validation_error", "messages must be JSON objects"))
            return
        if not isinstance(message, dict):
            await self.send(_error("validation_error", "messages must be JSON objects"))
            return
        action = message.get("action")
        if action == "ping":
            await self.send({"type": "pong"})
        elif action in ("subscribe", "unsubscribe"):
            await self._subscription(action, message)
        else:
            await self.send(
                _error(
                    "validation_error",
                    f"unknown action {action!r}: use subscribe, unsubscribe or ping",
                )
            )

    async def _subscription(self, action: str, message: dict[str, Any]) -> None:
        topic = message.get("topic")
        if topic == "sessions":
            self.subscription.session_list = action == "subscribe"
            await self.send({"type": f"{action}d", "topic": "sessions"})
            return
        session_id = message.get("session_id")
        if topic != "session" or not isinstance(session_id, str):
            await self.send(
                _error(
                    "validation_error",
                    "topic must be 'sessions', or 'session' with a string session_id",
                )
            )
            return
        if action == "unsubscribe":
            self.subscription.sessions.discard(session_id)
            self.subscription.quiet.discard(session_id)
            await self.send({"type": "unsubscribed", "topic": "session", "session_id": session_id})
            return
        events = message.get("events", True)
        if not isinstance(events, bool):
            await self.send(_error("validation_error", "events must be true or false"))
            return
        after_seq = message.get("after_seq") if events else None
        if after_seq is not None and (
            not isinstance(after_seq, int)
            or isinstance(after_seq, bool)
            or not 0 <= after_seq <= SEQ_MAX
        ):
            await self.send(
                _error("validation_error", f"after_seq must be a whole number in 0..{SEQ_MAX}")
            )
            return
        # without its events: summaries and ticks only, the tape read over HTTP when wanted
        (self.subscription.quiet.discard if events else self.subscription.quiet.add)(session_id)
        # Listen first, then read the store. Until the catch-up is sent, live events of the
        # session are dropped (each is recorded before it is published, so the read that follows
        # holds it) or held back (the writer waits for the catch-up); after it, those it already
        # sent are dropped: no gap, no duplicate, in order.
        self.replayed_up_to[session_id] = SEQ_MAX
        self.subscription.sessions.add(session_id)
        async with self.sending:
            session = await self.service.store.get_session(session_id)
            if session is None:
                self.subscription.sessions.discard(session_id)
                self.subscription.quiet.discard(session_id)
                self.replayed_up_to.pop(session_id)
                await self.send(
                    _error(
                        "session_not_found",
                        f"session {session_id} not found",
                        session_id=session_id,
                    )
                )
                return
            await self.send(
                {
                    "type": "subscribed",
                    "topic": "session",
                    "session_id": session_id,
                    "last_seq": session.last_seq,
                }
            )
            last = session.last_seq
            if after_seq is not None:
                last = await self._replay(session_id, after_seq)
            self.replayed_up_to[session_id] = last
            if not session.state.terminal:  # an ended session's ticks are stale
                for tick in self.service.bus.latest_ticks(session_id):
                    # a tick carries the newest event number known: at least the catch-up's
                    # (a newer tick on its way replaces this one)
                    self.subscription.offer({**tick, "seq": max(tick["seq"], last)})

    async def _replay(self, session_id: str, after_seq: int) -> int:
        last = after_seq
        while True:
            events = await self.service.store.list_events(session_id, last, CATCH_UP_PAGE)
            for event in events:
                await self.send(event_message(event))
                last = event.seq
            if len(events) < CATCH_UP_PAGE:
                return last

    def is_duplicate(self, message: dict[str, Any]) -> bool:
        if message.get("type") != "event":
            return False
        seq: int = message["seq"]
        return seq <= self.replayed_up_to.get(message["session_id"], 0)


@router.websocket("/ws")
async def websocket_endpoint(socket: WebSocket) -> None:
    await socket.accept()  # then close with a code: a refused handshake tells a browser nothing
    if not websocket_allowed(socket):
        await socket.close(code=4401, reason="unauthorized: send the API token")
        return
    service: SessionService = socket.app.state.service
    with service.bus.subscribe() as subscription:
        connection = Connection(socket, service, subscription)
        reader = asyncio.create_task(_read(socket, connection))
        try:
            await _write(connection, reader)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            reader.cancel()


async def _read(socket: WebSocket, connection: Connection) -> None:
    while True:
        text = await socket.receive_text()
        await connection.handle(text)


def batched(messages: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Consecutive events of one session go out as one ``events`` message (``events``: the
    ``event`` messages, in order): a backtest records thousands a second, and one frame each
    would cost the server and the browser far more than the events themselves."""
    run: list[dict[str, Any]] = []
    for message in messages:
        if run and (
            message.get("type") != "event" or message["session_id"] != run[0]["session_id"]
        ):
            yield _run_message(run)
            run = []
        if message.get("type") == "event":
            run.append(message)
        else:
            yield message
    if run:
        yield _run_message(run)


def _run_message(run: list[dict[str, Any]]) -> dict[str, Any]:
    if len(run) == 1:
        return run[0]
    return {"type": "events", "session_id": run[0]["session_id"], "events": run}


async def _write(connection: Connection, reader: asyncio.Task[None]) -> None:
    """Send what the subscription collected: queued messages at once, in order; coalesced
    updates (ticks, session summaries) at most once per ``COALESCE_SECONDS``; a heartbeat when
    nothing else went out for ``HEARTBEAT_SECONDS``."""
    subscription = connection.subscription
    loop = asyncio.get_running_loop()
    next_beat = loop.time() + HEARTBEAT_SECONDS
    next_flush = loop.time()
    while not reader.done():
        now = loop.time()
        deadline = next_beat
        if subscription.latest:
            deadline = min(deadline, next_flush)
        if not subscription.pending and not (subscription.latest and now >= next_flush):
            waiter = asyncio.create_task(subscription.ready.wait())
            await asyncio.wait(
                {waiter, reader}, timeout=max(0.0, deadline - now), return_when="FIRST_COMPLETED"
            )
            waiter.cancel()
        subscription.ready.clear()
        sent = 0
        async with connection.sending:
            for message in batched(
                m for m in subscription.take_pending() if not connection.is_duplicate(m)
            ):
                await connection.send(message)
                sent += 1
            now = loop.time()
            if subscription.latest and now >= next_flush:
                for message in subscription.take_latest():
                    await connection.send(message)
                    sent += 1
                next_flush = now + COALESCE_SECONDS
        if sent:
            subscription.metrics.ws_sent.inc(sent)
        if loop.time() >= next_beat:
            await connection.send({"type": "heartbeat", "ts": int(time.time())})
            next_beat = loop.time() + HEARTBEAT_SECONDS
    reader.result()  # re-raise the disconnect

"""In-process fan-out of what happened, for ``/ws`` subscribers.

The bus carries copies of facts the store already accepted (events, session records) and
transient ticks (prices, equity). A slow subscriber never slows a session down: its queue is
bounded, and when it overflows the subscriber is told to resynchronise from
``GET /sessions/{id}/events?after_seq=N`` instead of silently missing messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

QUEUE_SIZE = 2_000


class Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.sessions: set[str] = set()
        self.session_list = False
        self.overflowed = False

    def wants(self, session_id: str | None, list_message: bool) -> bool:
        if list_message:
            return self.session_list
        return session_id in self.sessions

    def offer(self, message: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            # make room for the one message that tells the client what happened
            self.queue.get_nowait()
            self.queue.put_nowait({"type": "resync", "reason": "subscriber too slow"})


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription()
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def publish(self, message: dict[str, Any], *, session_id: str | None) -> None:
        """Deliver ``message`` to those subscribed to ``session_id`` (and, for ``type: session``
        messages, to those subscribed to the session list)."""
        list_message = message.get("type") == "session"
        for subscription in self._subscriptions:
            if subscription.wants(session_id, list_message) or (
                list_message and session_id in subscription.sessions
            ):
                subscription.offer(message)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

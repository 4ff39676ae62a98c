"""In-process fan-out of what happened, for ``/ws`` subscribers.

The bus carries copies of facts the store already accepted (events, session records) and
transient updates (prices, equity). Each subscriber gets them two ways:

- **events** (and every other message that says something happened) are queued in order and
  never dropped silently: the queue is bounded, and when it overflows the subscriber is told to
  resynchronise from ``GET /sessions/{id}/events?after_seq=N`` instead of missing messages;
- **updates** that only say "this is the latest value" — a price or equity tick, a session's
  summary (state, progress, counters) — are coalesced: a newer one replaces the one not yet sent,
  and they go out at most once per ``COALESCE_SECONDS``. A screen watching a backtest that ticks
  thousands of times a second receives a few messages a second, and the backtest never waits for
  it.

The bus also keeps each session's latest ticks (``latest_ticks``), so that a screen subscribing
to a running session is shown its progress, prices and equity at once, not at its next tick.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from papertape.sessions.metrics import Metrics

QUEUE_SIZE = 2_000
COALESCE_SECONDS = 0.25
TICKS_KEPT_FOR = 1_000  # sessions whose latest ticks are kept (the least recently ticking go)


def coalesce_key(message: dict[str, Any]) -> Hashable | None:
    """Which stream of latest values ``message`` belongs to; ``None`` for a message that must
    be delivered (an event, a resync, an answer)."""
    kind = message.get("type")
    if kind == "session":
        return ("session", message.get("session_id"))
    if kind == "tick":
        data = message.get("data") or {}
        return ("tick", message.get("session_id"), message.get("kind"), data.get("symbol"))
    return None


class Subscription:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        self.pending: deque[dict[str, Any]] = deque()
        self.latest: dict[Hashable, dict[str, Any]] = {}
        self.sessions: set[str] = set()
        # sessions subscribed to without their events (summaries and ticks only): a screen
        # that reads the tape over HTTP when it needs it (a running backtest's page)
        self.quiet: set[str] = set()
        self.session_list = False
        self.overflowed = False
        self.ready = asyncio.Event()

    def wants(self, session_id: str | None, list_message: bool, event: bool = False) -> bool:
        if list_message:
            return self.session_list
        return session_id in self.sessions and not (event and session_id in self.quiet)

    def offer(self, message: dict[str, Any]) -> None:
        key = coalesce_key(message)
        if key is not None:
            if key in self.latest:
                self.metrics.ws_coalesced.inc()
            elif not self.latest:
                self.ready.set()  # the writer then flushes on its own schedule
            self.latest[key] = message
            return
        if self.overflowed:
            self.metrics.ws_dropped.inc()
            return
        if len(self.pending) >= QUEUE_SIZE:
            self.overflowed = True
            # make room for the one message that tells the client what happened
            self.pending.popleft()
            self.metrics.ws_dropped.inc(2)  # the oldest queued and this one
            message = {"type": "resync", "reason": "subscriber too slow"}
        self.pending.append(message)
        self.ready.set()

    def take_pending(self) -> list[dict[str, Any]]:
        """The queued messages, in order; after a resync the subscriber is caught up again."""
        messages = list(self.pending)
        self.pending.clear()
        if any(m.get("type") == "resync" for m in messages):
            self.overflowed = False
        return messages

    def take_latest(self) -> list[dict[str, Any]]:
        messages = list(self.latest.values())
        self.latest.clear()
        return messages


class EventBus:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        self._subscriptions: set[Subscription] = set()
        self._latest_ticks: OrderedDict[str, dict[Hashable, dict[str, Any]]] = OrderedDict()

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription(self.metrics)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def publish(self, message: dict[str, Any], *, session_id: str | None) -> None:
        """Deliver ``message`` to those subscribed to ``session_id`` (and, for ``type: session``
        messages, to those subscribed to the session list)."""
        list_message = message.get("type") == "session"
        event = message.get("type") in ("event", "events")
        if session_id is not None and message.get("type") == "tick":
            self._keep_tick(session_id, message)
        for subscription in self._subscriptions:
            if subscription.wants(session_id, list_message, event) or (
                list_message and session_id in subscription.sessions
            ):
                subscription.offer(message)

    def _keep_tick(self, session_id: str, message: dict[str, Any]) -> None:
        ticks = self._latest_ticks.get(session_id)
        if ticks is None:
            ticks = self._latest_ticks[session_id] = {}
            if len(self._latest_ticks) > TICKS_KEPT_FOR:
                self._latest_ticks.popitem(last=False)
        else:
            self._latest_ticks.move_to_end(session_id)
        ticks[coalesce_key(message)] = message

    def latest_ticks(self, session_id: str) -> list[dict[str, Any]]:
        """The newest tick of each of ``session_id``'s streams (its kinds and symbols)."""
        return list(self._latest_ticks.get(session_id, {}).values())

    def watched(self, session_id: str) -> bool:
        """Whether anyone would receive a message about ``session_id`` (so a session builds
        its summary for the screens only when one is watching)."""
        return any(s.session_list or session_id in s.sessions for s in self._subscriptions)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

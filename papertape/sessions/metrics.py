"""Prometheus metrics of a running server (``GET /metrics``).

One ``Metrics`` per app, on its own registry (two apps in one process never share counters).
Counters and histograms are updated where things happen (the session service, the bus, the
instrumented store, the event-loop monitor); gauges that describe the current state — sessions
by state and mode, feeds per exchange, subscribers — are read from their owners at scrape time
by ``ServiceCollector``, so they can never drift from the truth.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from papertape.domain.session import Mode, SessionState
from papertape.store.base import SessionFilter

if TYPE_CHECKING:
    from papertape.sessions.service import SessionService

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
LAG_EVERY = 0.1  # seconds between two looks at the event loop
LAG_WINDOW = 10.0  # seconds over which /health reports the worst lag


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.start_seconds = Histogram(
            "papertape_session_start_seconds",
            "Time from a start request to its answer (the session recorded and running)",
            ["mode"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.validate_seconds = Histogram(
            "papertape_session_validate_seconds",
            "Time a start spends checking its input before recording the session (strategies, "
            "the dataset's symbols, an exchange's market list), by market source",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stop_seconds = Histogram(
            "papertape_session_stop_seconds",
            "Time from a stop request to its answer",
            ["stopped_via"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.store_seconds = Histogram(
            "papertape_store_write_seconds",
            "Latency of store writes, by operation",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=r,
        )
        self.store_failures = Counter(
            "papertape_store_write_failures",
            "Store writes that raised, by operation",
            ["operation"],
            registry=r,
        )
        self.rows_written = Counter(
            "papertape_store_rows_written",
            "Rows written to the store, by operation",
            ["operation"],
            registry=r,
        )
        self.ws_coalesced = Counter(
            "papertape_ws_messages_coalesced",
            "Websocket updates replaced by a newer one before they were sent (ticks, progress)",
            registry=r,
        )
        self.ws_dropped = Counter(
            "papertape_ws_messages_dropped",
            "Websocket messages dropped because a subscriber fell too far behind (told to resync)",
            registry=r,
        )
        self.ws_sent = Counter(
            "papertape_ws_messages_sent", "Websocket messages sent to subscribers", registry=r
        )
        self.loop_lag = Histogram(
            "papertape_event_loop_lag_seconds",
            f"How late the API's event loop runs a timer (sampled every {LAG_EVERY}s)",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.loop_lag_now = Gauge(
            "papertape_event_loop_lag_max_seconds",
            f"The worst event-loop lag over the last {LAG_WINDOW:.0f}s",
            registry=r,
        )
        self._lags: list[tuple[float, float]] = []
        self.collector: ServiceCollector | None = None

    def bind(self, service: SessionService) -> ServiceCollector:
        self.collector = ServiceCollector(service)
        self.registry.register(self.collector)
        return self.collector

    # event-loop lag ------------------------------------------------------------------------
    def note_lag(self, lag: float) -> None:
        now = time.monotonic()
        self.loop_lag.observe(lag)
        self._lags.append((now, lag))
        while self._lags and self._lags[0][0] < now - LAG_WINDOW:
            self._lags.pop(0)
        self.loop_lag_now.set(self.recent_lag)

    @property
    def recent_lag(self) -> float:
        return max((lag for _, lag in self._lags), default=0.0)

    async def watch_loop(self) -> None:
        """Runs for the life of the app: sleeps ``LAG_EVERY`` and records how late it woke."""
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            await asyncio.sleep(LAG_EVERY)
            self.note_lag(max(0.0, loop.time() - began - LAG_EVERY))


class ServiceCollector(Collector):
    """Gauges read from the session service at scrape time."""

    def __init__(self, service: SessionService):
        self.service = service
        self.totals: dict[tuple[str, str], int] = {}

    def describe(self) -> list[Any]:  # registered without a scrape (no store call at registration)
        return []

    def collect(self) -> Iterator[Any]:
        sessions = GaugeMetricFamily(
            "papertape_sessions",
            "Sessions in the store, by state and mode",
            labels=["state", "mode"],
        )
        for (state, mode), count in sorted(self.totals.items()):
            sessions.add_metric([state, mode], count)
        yield sessions
        running = GaugeMetricFamily(
            "papertape_sessions_running_here",
            "Sessions with a live runner in this server, by mode",
            labels=["mode"],
        )
        feeds = GaugeMetricFamily(
            "papertape_feeds",
            "Running sessions' feeds, by exchange and state",
            labels=["exchange", "state"],
        )
        reconnects = GaugeMetricFamily(
            "papertape_feed_reconnects",
            "Reconnects of the running sessions' feeds, by exchange",
            labels=["exchange"],
        )
        gaps = GaugeMetricFamily(
            "papertape_feed_gaps",
            "Gaps seen by the running sessions' feeds, by exchange",
            labels=["exchange"],
        )
        by_mode: dict[str, int] = {}
        by_feed: dict[tuple[str, str], int] = {}
        by_exchange: dict[str, list[int]] = {}
        for runner in self.service.live_runners():
            mode = runner.session.mode.value
            by_mode[mode] = by_mode.get(mode, 0) + 1
            if runner.source is None:
                continue
            market = runner.config.market
            exchange = market.exchange if market.source == "exchange" else "replay"
            status = runner.source.status
            by_feed[(exchange, status.state)] = by_feed.get((exchange, status.state), 0) + 1
            counts = by_exchange.setdefault(exchange, [0, 0])
            counts[0] += status.reconnects
            counts[1] += status.gaps
        for mode, count in sorted(by_mode.items()):
            running.add_metric([mode], count)
        for (exchange, state), count in sorted(by_feed.items()):
            feeds.add_metric([exchange, state], count)
        for exchange, (reconnect_count, gap_count) in sorted(by_exchange.items()):
            reconnects.add_metric([exchange], reconnect_count)
            gaps.add_metric([exchange], gap_count)
        yield from (running, feeds, reconnects, gaps)
        subscribers = GaugeMetricFamily("papertape_ws_subscribers", "Open websocket connections")
        subscribers.add_metric([], self.service.bus.subscriber_count)
        yield subscribers
        events = CounterMetricFamily(
            "papertape_engine_events",
            "Market events delivered to sessions' engines (rate() gives events/s)",
        )
        events.add_metric([], self.service.market_events_delivered())
        yield events

    async def refresh(self) -> None:
        """Count the sessions in the store by state and mode (one small query each); called
        before each scrape, on the event loop, since the collector itself runs synchronously."""
        store = self.service.store
        totals: dict[tuple[str, str], int] = {}
        for state in SessionState:
            for mode in Mode:
                page = await store.list_sessions(SessionFilter(state=state, mode=mode, limit=1))
                if page.total:
                    totals[(state.value, mode.value)] = page.total
        self.totals = totals

"""The FastAPI application: REST, ``/ws`` and the dashboard on one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from papertape import __version__
from papertape.api import (
    routes_candles,
    routes_datasets,
    routes_indicators,
    routes_markets,
    routes_records,
    routes_sessions,
    routes_trades,
    routes_trading,
    routes_trials,
    ws,
)
from papertape.api.auth import TokenMiddleware
from papertape.api.envelope import ok
from papertape.api.errors import CrashMiddleware, install_error_handlers
from papertape.api.guard import GuardMiddleware, GuardPolicy
from papertape.api.limits import BodyLimitMiddleware
from papertape.api.schemas import HealthResponse
from papertape.api.static import install_dashboard
from papertape.api.strict_json import StrictJsonMiddleware
from papertape.market.exchange import exchange_module
from papertape.sessions.bus import EventBus
from papertape.sessions.instrumented_store import InstrumentedStore, metrics_observer
from papertape.sessions.metrics import Metrics
from papertape.sessions.process_runner import warm_workers
from papertape.sessions.reconcile import reconcile
from papertape.sessions.service import SessionService
from papertape.sessions.sources import source_for
from papertape.store import store_for
from papertape.store.base import Store

log = structlog.get_logger("papertape.api")


@dataclass
class AppSettings:
    store_url: str
    api_token: str | None = None
    host: str = "127.0.0.1"  # the address or name served: the Host header it must carry
    live_enabled: bool = False
    stop_timeout: float = 10.0
    source_factory: Callable[..., Any] = source_for
    service_options: dict[str, Any] = field(default_factory=dict)
    engine_workers: bool = True  # backtests in worker processes (papertape.sessions.engine_worker)

    def worker_store_url(self) -> str | None:
        """The store backtests' worker processes read: this server's, unless workers are off,
        the store lives in this process's memory, or the sessions' sources are not the usual
        ones (a worker builds its own)."""
        shared = ":memory:" not in self.store_url and self.source_factory is source_for
        return self.store_url if self.engine_workers and shared else None


def _warm_up(settings: AppSettings) -> None:
    """Start the backtests' fork server before the first backtest needs it, so that backtest's
    start is not slowed. The exchange client is not imported here: ccxt takes several seconds of
    CPU to import, which a server that only replays recorded data never needs; the first request
    that needs it imports it off the event loop (``exchange_module``)."""
    if settings.worker_store_url() is not None:
        warm_workers()


async def _validate_exchange_session(config: Any) -> bool:
    """Check an exchange session's symbols against the exchange's cached market list (waits at
    most ~2 s for a first load) and a live session's keys; see
    ``papertape.market.exchange.connector.validate_exchange_config``."""
    connector = await exchange_module("connector")
    checked: bool = await connector.validate_exchange_config(config)
    return checked


def create_app(settings: AppSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = Metrics()
        raw_store = store_for(settings.store_url)
        await raw_store.open()
        store = cast(Store, InstrumentedStore(raw_store, metrics_observer(metrics)))
        service = SessionService(
            store,
            EventBus(metrics),
            stop_timeout=settings.stop_timeout,
            live_enabled=settings.live_enabled,
            source_factory=settings.source_factory,
            metrics=metrics,
            worker_store_url=settings.worker_store_url(),
            **{"symbol_validator": _validate_exchange_session, **settings.service_options},
        )
        metrics.bind(service)
        app.state.store = store
        app.state.service = service
        app.state.metrics = metrics
        lag_watch = asyncio.create_task(metrics.watch_loop())
        warming = asyncio.create_task(asyncio.to_thread(_warm_up, settings))
        report = await reconcile(service)
        log.info("server.ready", store=settings.store_url, **{k: len(v) for k, v in report.items()})
        try:
            yield
        finally:
            warming.cancel()
            lag_watch.cancel()
            await service.shutdown()
            await raw_store.close()

    app = FastAPI(
        title="papertape",
        version=__version__,
        description="Crypto trading sessions: paper, backtest, collect, live.",
        lifespan=lifespan,
    )
    app.state.api_token = settings.api_token
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(TokenMiddleware)
    install_dashboard(app)
    app.add_middleware(StrictJsonMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(GuardMiddleware, policy=GuardPolicy.from_env(settings.host))
    app.add_middleware(CrashMiddleware)  # outermost: nothing escapes it as a raw traceback
    app.include_router(routes_sessions.router)
    app.include_router(routes_records.router)
    app.include_router(routes_datasets.router)
    app.include_router(routes_candles.router)
    app.include_router(routes_indicators.router)
    app.include_router(routes_markets.router)
    app.include_router(routes_trading.router)
    app.include_router(routes_trades.router)
    app.include_router(routes_trials.router)
    app.include_router(ws.router)

    @app.get("/health", response_model=HealthResponse, tags=["health"])
    async def health() -> JSONResponse:
        """Liveness and whether the store answers now."""
        service: SessionService = app.state.service
        reachable = await service.store.ping()
        body = ok(
            "ok" if reachable else "degraded",
            {
                "alive": True,
                "store": settings.store_url.split("://", 1)[0],
                "store_reachable": reachable,
                "running_sessions": service.running_count,
                "event_loop_lag_ms": round(app.state.metrics.recent_lag * 1000, 1),
                "version": __version__,
            },
        )
        return JSONResponse(body, status_code=200 if reachable else 503)

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    async def metrics_endpoint() -> PlainTextResponse:
        """Prometheus metrics (text exposition format): sessions by state and mode, start/stop
        latency, store writes, feeds, websocket pushes, event-loop lag, engine events."""
        metrics: Metrics = app.state.metrics
        if metrics.collector is not None:
            await metrics.collector.refresh()
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app

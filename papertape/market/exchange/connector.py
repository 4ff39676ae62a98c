"""Creating ccxt exchange objects, and the market list of each exchange, loaded once.

``ExchangeHub`` is the seam between papertape and ccxt: everything that talks to an exchange
gets its exchange object from a hub's ``factory``. Production uses ``ccxt_factory`` (ccxt.pro
classes, websocket + REST); tests and the dashboard's browser tests hand in the recorded-data
double (``tests/support/exchange_double.py``) through the same argument.

The market list is loaded once per exchange and kept for the life of the process: symbol
validation and ``GET /markets`` read it from memory. A failed load is not cached, so the next
caller tries again.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ccxt
import ccxt.pro
import structlog

from papertape.domain.errors import UnknownExchange, UnknownSymbol
from papertape.market.exchange.credentials import Credentials, redact
from papertape.market.exchange.errors import ExchangeUnavailable
from papertape.market.exchange.symbols import canonical_markets, to_ccxt

log = structlog.get_logger("papertape.exchange")

ExchangeFactory = Callable[[str, dict[str, Any]], Any]
"""``(exchange_id, ccxt config) -> exchange object`` with ccxt.pro's async methods."""

REQUEST_TIMEOUT_MS = 10_000
TRADES_CACHE = 50_000
"""ccxt's per-symbol trade cache (``options.tradesLimit``, 1,000 by default): prints beyond it
between two ``watch_trades`` calls are dropped without an error, and bursts of hundreds of prints in
milliseconds happen (644 in 10 ms in the shared BTCUSDT capture)."""
VALIDATE_WAIT_S = 2.0
FAILURE_MEMORY_S = 30.0


def proxy_config() -> dict[str, str]:
    """``PAPERTAPE_EXCHANGE_PROXY`` (``http://host:port``): every exchange request (REST and
    websocket) goes through that proxy — a network that reaches exchanges only through one, or
    the test suite, which points it at a closed loopback port so that nothing leaves the
    machine."""
    proxy = os.environ.get("PAPERTAPE_EXCHANGE_PROXY", "").strip()
    return {"httpsProxy": proxy, "wssProxy": proxy} if proxy else {}


def ccxt_factory(exchange_id: str, config: dict[str, Any]) -> Any:
    """A ccxt.pro exchange (websocket and REST); a REST-only ccxt exchange when ccxt.pro lacks it."""
    cls = getattr(ccxt.pro, exchange_id, None) or getattr(ccxt.async_support, exchange_id, None)
    if cls is None:
        raise UnknownExchange(f"ccxt has no exchange {exchange_id!r}")
    return cls({**proxy_config(), **config})


def check_exchange_id(exchange_id: str) -> str:
    if exchange_id not in ccxt.exchanges:
        raise UnknownExchange(
            f"unknown exchange {exchange_id!r}: not a ccxt exchange id",
            details=[{"field": "market.exchange", "message": f"unknown exchange {exchange_id!r}"}],
        )
    return exchange_id


def describe(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """A one-line, key-free description of an exchange error for users and logs."""
    text = str(exc).strip() or type(exc).__name__
    if len(text) > 300:
        text = text[:300] + "…"
    return redact(f"{type(exc).__name__}: {text}", secrets)


Markets = dict[str, Any]  # ccxt's market structures by unified symbol


class ExchangeHub:
    def __init__(self, factory: ExchangeFactory = ccxt_factory):
        self.factory = factory
        self._markets: dict[str, tuple[Markets, dict[str, Any] | None]] = {}
        self._loading: dict[str, asyncio.Task[Markets]] = {}
        self._failed_at: dict[str, float] = {}  # monotonic time of the last failed load
        self._load_started: dict[str, float] = {}  # monotonic time the load in flight began

    def create(
        self, exchange_id: str, market_type: str = "spot", credentials: Credentials | None = None
    ) -> Any:
        """A new exchange object, with the cached market list installed when there is one."""
        check_exchange_id(exchange_id)
        config: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": REQUEST_TIMEOUT_MS,
            "options": {"defaultType": market_type, "tradesLimit": TRADES_CACHE},
        }
        if credentials is not None:
            config.update(credentials.ccxt_config())
        exchange = self.factory(exchange_id, config)
        cached = self._markets.get(exchange_id)
        if cached is not None:
            exchange.set_markets(*cached)
        return exchange

    def cached_markets(self, exchange_id: str) -> Markets | None:
        entry = self._markets.get(exchange_id)
        return entry[0] if entry else None

    async def markets(self, exchange_id: str) -> Markets:
        """ccxt's market structures by unified symbol; loads them on first use. Raises
        ``ExchangeUnavailable`` when they cannot be loaded now."""
        check_exchange_id(exchange_id)
        cached = self._markets.get(exchange_id)
        if cached is not None:
            return cached[0]
        return await asyncio.shield(self._load_task(exchange_id))

    def _load_task(self, exchange_id: str) -> asyncio.Task[Markets]:
        """The one load in flight for ``exchange_id`` (callers share it; a caller giving up does
        not cancel it for the others)."""
        task = self._loading.get(exchange_id)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.get_running_loop().create_task(self._load(exchange_id))
            task.add_done_callback(functools.partial(self._load_done, exchange_id))
            self._loading[exchange_id] = task
            self._load_started[exchange_id] = time.monotonic()
        return task

    def _load_done(self, exchange_id: str, task: asyncio.Task[Markets]) -> None:
        if self._loading.get(exchange_id) is task:
            del self._loading[exchange_id]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported as lost

    async def _load(self, exchange_id: str) -> Markets:
        exchange = self.factory(
            exchange_id, {"enableRateLimit": True, "timeout": REQUEST_TIMEOUT_MS}
        )
        try:
            markets: Markets = await exchange.load_markets()
            self._markets[exchange_id] = (markets, getattr(exchange, "currencies", None))
            log.info("exchange.markets.loaded", exchange=exchange_id, markets=len(markets))
            return markets
        except (TimeoutError, ccxt.BaseError, OSError) as exc:
            self._failed_at[exchange_id] = time.monotonic()
            raise ExchangeUnavailable(
                f"{exchange_id} unreachable: {describe(exc)}", details={"exchange": exchange_id}
            ) from None
        finally:
            try:
                await exchange.close()
            except Exception as exc:  # closing a half-open client must not hide the load result
                log.warning("exchange.close_failed", exchange=exchange_id, error=describe(exc))

    async def list_markets(self, exchange_id: str, market_type: str) -> list[dict[str, Any]]:
        """The tradable markets of one type, canonical symbols, sorted (``GET /markets``)."""
        markets = await self.markets(exchange_id)
        rows = []
        for symbol, market in sorted(canonical_markets(markets, market_type).items()):
            precision = market.get("precision") or {}
            limits = market.get("limits") or {}
            rows.append(
                {
                    "symbol": symbol,
                    "exchange_symbol": market.get("symbol"),
                    "base": market.get("base"),
                    "quote": market.get("quote"),
                    "market_type": market_type,
                    "active": market.get("active") is not False,
                    "price_precision": precision.get("price"),
                    "amount_precision": precision.get("amount"),
                    "min_amount": (limits.get("amount") or {}).get("min"),
                    "min_cost": (limits.get("cost") or {}).get("min"),
                }
            )
        return rows

    def check_symbols(
        self, exchange_id: str, market_type: str, symbols: Iterable[str], markets: Markets
    ) -> None:
        """Raise ``UnknownSymbol`` naming every symbol the market list lacks."""
        missing = [s for s in symbols if to_ccxt(s, market_type) not in markets]
        if missing:
            raise UnknownSymbol(
                f"unknown symbol{'s' if len(missing) > 1 else ''} on {exchange_id} {market_type}: "
                + ", ".join(missing),
                details=[
                    {
                        "field": "symbols",
                        "message": f"{s} is not a {market_type} market on {exchange_id}",
                    }
                    for s in missing
                ],
            )

    async def validate_symbols(
        self,
        exchange_id: str,
        market_type: str,
        symbols: Sequence[str],
        wait: float = VALIDATE_WAIT_S,
    ) -> bool:
        """Check ``symbols`` at session start. Returns True when they were checked against the
        market list; False when the list could not be had within ``wait`` seconds (the start goes
        ahead and the feed checks the symbols once the list loads; the load keeps going in the
        background meanwhile). Raises ``UnknownExchange`` / ``UnknownSymbol``."""
        check_exchange_id(exchange_id)
        markets = self.cached_markets(exchange_id)
        if markets is None:
            load = self._load_task(exchange_id)
            now = time.monotonic()
            failed_at = self._failed_at.get(exchange_id)
            if failed_at is not None and now - failed_at < FAILURE_MEMORY_S:
                # It was unreachable moments ago: do not make every start wait again (the load
                # just started goes on in the background).
                return False
            remaining = wait - (now - self._load_started[exchange_id])
            if remaining <= 0:
                return False  # a load already hangs longer than a start may wait
            try:
                markets = await asyncio.wait_for(asyncio.shield(load), remaining)
            except (TimeoutError, ExchangeUnavailable) as exc:
                log.info("exchange.validate.deferred", exchange=exchange_id, reason=str(exc))
                return False
        self.check_symbols(exchange_id, market_type, symbols, markets)
        return True


_default_hub: ExchangeHub | None = None


def default_hub() -> ExchangeHub:
    """The process's hub (real ccxt unless ``use_hub`` installed another at start-up)."""
    global _default_hub
    if _default_hub is None:
        _default_hub = ExchangeHub()
    return _default_hub


_redirected_hubs: dict[str, ExchangeHub] = {}


def hub_for(exchange_url: str | None) -> ExchangeHub:
    """The process's hub, or with ``exchange_url`` one (kept per URL) whose exchanges send every
    request and websocket there instead (``papertape.market.exchange.urls``)."""
    if not exchange_url:
        return default_hub()
    hub = _redirected_hubs.get(exchange_url)
    if hub is None:
        from papertape.market.exchange.urls import redirected

        base = default_hub().factory
        hub = _redirected_hubs[exchange_url] = ExchangeHub(redirected(base, exchange_url))
    return hub


def use_hub(hub: ExchangeHub) -> None:
    """Install the process's hub; called once at start-up (``serve_with_double`` uses it)."""
    global _default_hub
    _default_hub = hub


async def validate_symbols(exchange_id: str, market_type: str, symbols: Sequence[str]) -> bool:
    """Session-start check through the process's hub (see ``ExchangeHub.validate_symbols``)."""
    return await default_hub().validate_symbols(exchange_id, market_type, symbols)


async def validate_exchange_config(config: Any) -> bool:
    """Start-time checks of a ``SessionConfig`` with an exchange source (the session service's
    ``symbol_validator`` hook): the symbols (``validate_symbols``) and, for a live session, that
    API keys for the exchange are configured (``CredentialsMissing``, 422, before the session
    exists)."""
    from papertape.market.exchange.credentials import load_credentials

    market = config.market
    hub = hub_for(market.exchange_url)
    checked = await hub.validate_symbols(market.exchange, market.market_type, config.symbols)
    if getattr(config.mode, "value", config.mode) == "live":
        load_credentials(market.exchange)
    return checked

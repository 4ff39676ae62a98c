"""Pointing a ccxt exchange somewhere else: every URL it knows moved to one base URL.

Used to run the unmodified ccxt client against a replay of recorded exchange traffic (a loopback
server in the tests and benchmarks, or a user's own recorder/proxy). Every URL string of the
exchange's ``urls`` is rewritten before the object is built, and the result is checked, so that
nothing can reach the real exchange by mistake. A redirected client connects to the base
directly, not through ``PAPERTAPE_EXCHANGE_PROXY``.

``https://fapi.binance.com/fapi/v1`` with base ``http://127.0.0.1:8080`` becomes
``http://127.0.0.1:8080/fapi.binance.com/fapi/v1``: the original host stays as the first path
segment so that one server can tell apart endpoints that share a path on different hosts (spot's
and futures' ``/ws``). Websocket URLs keep a websocket scheme (``ws://`` for an ``http://`` base,
``wss://`` for ``https://``).
"""

from __future__ import annotations

from typing import Any

from papertape.domain.config import check_base_url
from papertape.market.exchange.connector import ExchangeFactory

_WEB = ("http://", "https://")
_SOCKET = ("ws://", "wss://")


def moved(url: str, base: str) -> str:
    """One URL (``{placeholders}`` kept) under ``base``, its host becoming the first segment."""
    rest = url.split("://", 1)[1]
    socket_base = base.replace("https://", "wss://").replace("http://", "ws://")
    return f"{socket_base if url.startswith(_SOCKET) else base}/{rest}"


def rewrite(value: Any, base: str) -> Any:
    """Every URL string in a ccxt ``urls`` structure (dicts, lists, strings) moved to ``base``."""
    if isinstance(value, dict):
        return {key: rewrite(item, base) for key, item in value.items()}
    if isinstance(value, list):
        return [rewrite(item, base) for item in value]
    if isinstance(value, str) and value.startswith(_WEB + _SOCKET):
        return moved(value, base)
    return value


def stray_urls(value: Any, base: str) -> list[str]:
    """The URL strings in ``value`` that do not lead to ``base``."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in stray_urls(item, base)]
    if isinstance(value, list):
        return [url for item in value for url in stray_urls(item, base)]
    if isinstance(value, str) and value.startswith(_WEB + _SOCKET):
        socket_base = base.replace("https://", "wss://").replace("http://", "ws://")
        return [] if value.startswith((base + "/", socket_base + "/")) else [value]
    return []


def redirected(factory: ExchangeFactory, base: str) -> ExchangeFactory:
    """A factory whose exchanges send every request and websocket to ``base``."""
    base = check_base_url(base)

    def make(exchange_id: str, config: dict[str, Any]) -> Any:
        defaults = factory(exchange_id, dict(config)).urls  # building one does no I/O
        # straight to ``base``, never through the exchange proxy (PAPERTAPE_EXCHANGE_PROXY):
        # the redirect already says where every request goes
        direct = {"httpsProxy": None, "wssProxy": None}
        exchange = factory(exchange_id, {**config, **direct, "urls": rewrite(defaults, base)})
        stray = stray_urls(exchange.urls, base)
        if stray:
            raise RuntimeError(f"{exchange_id} kept URLs outside {base}: {stray[:3]}")
        return exchange

    return make

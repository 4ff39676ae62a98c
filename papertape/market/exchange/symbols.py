"""The one place where papertape's canonical symbols meet ccxt's unified symbols.

``BTC_USDT`` is ``BTC/USDT`` on a spot market and ``BTC/USDT:USDT`` on a linear (USDT-settled)
perpetual swap. Inverse perpetuals (``BTC/USD:BTC``) are out of scope: the session config offers
``spot`` and linear ``swap`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from papertape.domain.symbols import canonical, is_canonical, split

MARKET_TYPES = ("spot", "swap")


def to_ccxt(symbol: str, market_type: str) -> str:
    """``BTC_USDT`` → ``BTC/USDT`` (spot) or ``BTC/USDT:USDT`` (swap)."""
    if market_type not in MARKET_TYPES:
        raise ValueError(f"market type must be one of {MARKET_TYPES}, not {market_type!r}")
    if not is_canonical(symbol):
        symbol = canonical(symbol)
    base, quote = split(symbol)
    return f"{base}/{quote}" if market_type == "spot" else f"{base}/{quote}:{quote}"


def from_ccxt(unified: str) -> str:
    """``BTC/USDT`` or ``BTC/USDT:USDT`` → ``BTC_USDT``."""
    return canonical(unified)


def market_type_of(market: Mapping[str, Any]) -> str | None:
    """``spot`` or ``swap`` for a ccxt market structure that papertape can trade, else ``None``
    (futures with an expiry, options, inverse swaps)."""
    if market.get("spot") or market.get("type") == "spot":
        return "spot"
    swap = market.get("swap") or market.get("type") == "swap"
    if swap and market.get("linear", True) and market.get("settle") in (None, market.get("quote")):
        return "swap"
    return None


def canonical_markets(
    markets: Mapping[str, Mapping[str, Any]], market_type: str
) -> dict[str, dict[str, Any]]:
    """Canonical symbol → ccxt market structure, for the markets of one type."""
    result: dict[str, dict[str, Any]] = {}
    for unified, market in markets.items():
        if market_type_of(market) != market_type:
            continue
        try:
            result[from_ccxt(unified)] = dict(market)
        except ValueError:
            continue  # exotic spellings papertape cannot name canonically
    return result

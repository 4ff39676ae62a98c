"""Canonical symbols: ``BASE_QUOTE`` in upper case (``BTC_USDT``), the form users type and the
store keeps. Exchange-specific spellings are translated at the edges (``papertape.market``)."""

from __future__ import annotations

import re

_CANONICAL = re.compile(r"^[A-Z0-9]{1,20}_[A-Z0-9]{1,20}$")
_SEPARATORS = re.compile(r"[/\-:_ ]")


def is_canonical(symbol: str) -> bool:
    return bool(_CANONICAL.match(symbol))


def canonical(symbol: str) -> str:
    """Normalise a user's or a file's spelling (``btc/usdt``, ``BTC-USDT``) to ``BTC_USDT``.

    Raises ``ValueError`` when the text cannot be a pair. Spellings without a separator
    (``BTCUSDT``) are ambiguous and must be mapped by the caller, who knows the quote currency.
    """
    text = symbol.strip().upper()
    parts = [p for p in _SEPARATORS.split(text) if p]
    if len(parts) == 3 and parts[1] == parts[2]:  # ccxt perpetual form BTC/USDT:USDT
        parts = parts[:2]
    if len(parts) != 2:
        raise ValueError(f"not a BASE_QUOTE symbol: {symbol!r}")
    result = "_".join(parts)
    if not is_canonical(result):
        raise ValueError(f"not a BASE_QUOTE symbol: {symbol!r}")
    return result


def split(symbol: str) -> tuple[str, str]:
    base, quote = symbol.split("_", 1)
    return base, quote

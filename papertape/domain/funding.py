"""Funding of perpetual swaps: the rate the exchange publishes for each funding time, and the
payment it makes an open position pay or receive.

At each funding time a linear perpetual's holder pays ``rate × position notional`` to the other
side: with a positive rate longs pay shorts, with a negative rate shorts pay longs. The notional is
valued at the mark price at that moment (Binance: "Funding Amount = Nominal Value of Positions ×
Funding Rate", nominal value at the mark price). The cash flow of a signed position ``qty`` is
therefore ``−rate × qty × mark``.

Which price values the position is said on every payment (``price_source``):

- ``settlement``: the mark the exchange settled at, carried by the funding record itself (Binance's
  funding history has it since 2023);
- ``mark``: the newest mark price the session has seen for the symbol (a mark-price stream or
  dataset);
- ``last``: neither is known, so the last traded price stands in for the mark (with bar data:
  the open of the bar that contains the funding time, the price at that moment, never a later one).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

SETTLEMENT, MARK, LAST = "settlement", "mark", "last"
PRICE_SOURCES = (SETTLEMENT, MARK, LAST)


class FundingRate(NamedTuple):
    """A perpetual's funding rate at one funding time (``ts``, µs). ``rate`` is a fraction per
    funding interval (0.0001 = 0.01 %); ``mark_price`` is the settlement mark when known."""

    ts: int
    symbol: str
    rate: float
    mark_price: float | None = None


class FundingPayment(NamedTuple):
    """One funding payment of a session's open position: ``amount`` is the cash it added
    (negative = paid). ``qty`` is the signed position, ``mark_price`` what valued it."""

    session_id: str
    ts: int
    symbol: str
    rate: float
    qty: float
    mark_price: float
    amount: float
    price_source: str  # "settlement" | "mark" | "last"


def funding_amount(qty: float, mark_price: float, rate: float) -> float:
    """The cash flow of a signed position at one funding time: ``−rate × qty × mark``."""
    return -rate * qty * mark_price


def settlement_price(
    funding: FundingRate, mark: float | None, last: float | None
) -> tuple[float, str] | None:
    """The price that values the position at ``funding`` and where it came from: the settlement
    mark, else the newest mark, else the last price; ``None`` when no price is known at all."""
    if funding.mark_price is not None and funding.mark_price > 0:
        return funding.mark_price, SETTLEMENT
    if mark is not None and mark > 0:
        return mark, MARK
    if last is not None and last > 0:
        return last, LAST
    return None


def merge_funding(events: Sequence[Any], rates: Iterable[FundingRate]) -> list[Any]:
    """Market events (in time order) with the funding rates that fall within their span, in time
    order; at equal timestamps the market event comes first (as a replay merges them). Rates
    before the first or after the last event are left out: no price values a position there."""
    if not events:
        return []
    first, last = events[0].ts, events[-1].ts
    inside = sorted((r for r in rates if first <= r.ts <= last), key=lambda r: r.ts)
    return list(heapq.merge(events, inside, key=lambda e: e.ts))

"""Mark prices and funding rates from an exchange's live mark-price stream (ccxt.pro's
``watch_mark_price``), for the perpetuals of a live feed.

Binance pushes ``<symbol>@markPrice@1s`` once a second: ``{"e": "markPriceUpdate", "E": event
time, "s": symbol, "p": mark price, "r": funding rate, "T": next funding time, …}``. ccxt turns it
into a ticker with ``markPrice`` and ``timestamp`` (``E``); the funding rate and the funding time
it applies at are not unified by ccxt and are read from the ticker's ``info`` (``r``, ``T``). An
exchange whose mark stream lacks them gives mark prices and no funding.

A funding payment is due when the funding time has passed, with the last rate announced for
it. ``FundingClock`` holds the announced funding times per symbol (the newest rate of each) and
hands each out as a ``FundingRate`` just before the first event of the feed's data that is later
than it: the engine settles funding in data-time order (with the newest mark before the funding
time valuing the position, as a backtest does), and a collect session records the rate at its
funding time. The rate is the one streamed last before the funding time; ccxt's ticker keeps only
the newest message, so on a slow consumer an update can be skipped, never a funding time (every
message repeats the next one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from papertape.domain.funding import FundingRate
from papertape.domain.market import MarketEvent, MarkPrice

RATE, FUNDING_TIME = "r", "T"  # Binance markPriceUpdate fields, in the ticker's ``info``


def parse_mark(symbol: str, ticker: dict[str, Any]) -> tuple[MarkPrice | None, FundingRate | None]:
    """A ccxt mark-price ticker → the mark at its time, and the funding it announces (the rate
    for the next funding time, stamped at that time), each ``None`` when the ticker lacks it."""
    stamp, price = ticker.get("timestamp"), ticker.get("markPrice")
    mark = (
        MarkPrice(int(stamp) * 1_000, symbol, float(price))
        if stamp is not None and price is not None
        else None
    )
    info = ticker.get("info") or {}
    rate, at = info.get(RATE), info.get(FUNDING_TIME)
    funding = (
        FundingRate(int(at) * 1_000, symbol, float(rate))
        if rate is not None and at is not None
        else None
    )
    return mark, funding


class FundingClock:
    """Funding times announced by a mark stream, handed out once the feed's data passes them."""

    def __init__(self, resume_after: int | None = None):
        self._pending: dict[tuple[str, int], FundingRate] = {}  # by (symbol, funding time)
        self._settled = resume_after if resume_after is not None else -1  # handed out through
        self._next_due: int | None = None

    def announce(self, funding: FundingRate) -> None:
        """The rate streamed for a coming funding time (a later one for it replaces it)."""
        if funding.ts <= self._settled:
            return  # already handed out (or before a resumed session's restart point)
        self._pending[(funding.symbol, funding.ts)] = funding
        if self._next_due is None or funding.ts < self._next_due:
            self._next_due = funding.ts

    def weave(self, events: Sequence[MarketEvent]) -> Sequence[MarketEvent]:
        """``events`` (in time order) with each funding that is due placed before the first
        event later than its funding time."""
        if self._next_due is None or not events or events[-1].ts <= self._next_due:
            return events
        due = sorted(self._pending.values())
        out: list[MarketEvent] = []
        i = 0
        for event in events:
            while i < len(due) and due[i].ts < event.ts:
                out.append(due[i])
                del self._pending[(due[i].symbol, due[i].ts)]
                self._settled = max(self._settled, due[i].ts)
                i += 1
            out.append(event)
        self._next_due = min((f.ts for f in self._pending.values()), default=None)
        return out

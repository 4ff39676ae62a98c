"""Liquidity the session's own fills have taken, so that no liquidity is taken twice.

A paper fill is invisible to the exchange: the next book snapshot still shows the quantity the
fill took. ``LiquidityLedger`` remembers, per book level, the quantity the level showed when the
session took from it and how much it took. While later snapshots show the level unchanged, only
the rest is available; once the level shows another quantity, the exchange has updated it (others
traded, added or cancelled there) and the record is dropped: the book has replenished it.

A trade print's quantity is shared the same way by the resting orders it fills (see
``PaperVenue.on_trade``); a print is never seen twice, so nothing needs remembering there.
"""

from __future__ import annotations

from collections.abc import Sequence

BID, ASK = "bid", "ask"


class LiquidityLedger:
    __slots__ = ("_taken",)

    def __init__(self) -> None:
        # (symbol, side, price) → (quantity the level showed, quantity taken from it)
        self._taken: dict[tuple[str, str, float], tuple[float, float]] = {}

    def levels(
        self, symbol: str, side: str, shown: Sequence[tuple[float, float]]
    ) -> list[list[float]]:
        """``[price, available, shown]`` per level of a snapshot's side, what the session took
        from unchanged levels subtracted."""
        if not self._taken:
            return [[price, qty, qty] for price, qty in shown]
        result = []
        for price, qty in shown:
            key = (symbol, side, price)
            record = self._taken.get(key)
            if record is None:
                result.append([price, qty, qty])
            elif record[0] == qty:
                result.append([price, max(qty - record[1], 0.0), qty])
            else:  # the exchange updated the level since
                del self._taken[key]
                result.append([price, qty, qty])
        return result

    def take(self, symbol: str, side: str, price: float, shown: float, qty: float) -> None:
        """Record ``qty`` taken from a level that showed ``shown``."""
        key = (symbol, side, price)
        record = self._taken.get(key)
        before = record[1] if record is not None and record[0] == shown else 0.0
        self._taken[key] = (shown, before + qty)

    def __len__(self) -> int:
        return len(self._taken)

"""Queue position of resting limit orders on order-book data.

An exchange fills the orders at a price level first come, first served. A paper order cannot be
in the real queue, so its place is estimated from what the data shows:

- it joins the back of its level: the queue ahead is the level's size when the order reaches the
  venue (the first book snapshot at or after its ``active_ts``; zero when the level is empty);
- trades printed at its price by the other side advance it by their size, and once nothing is
  ahead any more the rest of such a trade fills it (partially when the trade was smaller);
- the level shrinking in the book without trades (cancels) advances it as the model says:

  - ``risk_averse``: cancels are all behind the order: the queue ahead only ever shrinks to the
    level's new size (a cancel cannot leave more ahead than the level holds);
  - ``probabilistic``: a share of each cancel comes from ahead of the order, ``f(front) /
    (f(front) + f(back))`` with ``f(x) = x ** power`` (front = queue ahead, back = the rest of the
    level): the further back the order, the more of a cancel is likely to be in front of it.
    This is the "power" probability queue model of hftbacktest, learned from its documentation
    (https://hftbacktest.readthedocs.io/en/latest/tutorials/Probability%20Queue%20Models.html),
    written here in expected values: deterministic, nothing random to seed.

A trade *through* the price, or the other side of the book reaching it, fills the order whatever
the queue (the level was swept). On data without a book (trades, bars) there is no queue to see:
the venue's trade-through rule applies, and ``TRADE_THROUGH`` names that model.
"""

from __future__ import annotations

from dataclasses import dataclass

TRADE_THROUGH, RISK_AVERSE, PROBABILISTIC = "trade_through", "risk_averse", "probabilistic"
QUEUE_MODELS = (TRADE_THROUGH, RISK_AVERSE, PROBABILISTIC)


@dataclass(slots=True)
class QueueSpot:
    """One resting order's estimated place: ``ahead`` of it at its level, the level's size at
    the last snapshot, and what printed at its price since that snapshot."""

    ahead: float
    level: float
    traded_since: float = 0.0


class QueueModel:
    def __init__(self, name: str = RISK_AVERSE, power: float = 2.0):
        if name not in QUEUE_MODELS:
            raise ValueError(f"queue model must be one of {QUEUE_MODELS}, not {name!r}")
        if power <= 0:
            raise ValueError("the probabilistic queue model's power must be positive")
        self.name = name
        self.power = power

    def join(self, level: float) -> QueueSpot:
        """The order reaches the venue: it is behind everything at its level."""
        return QueueSpot(ahead=level, level=level)

    def on_trade_at_price(self, spot: QueueSpot, qty: float) -> float:
        """A print of ``qty`` at the order's price by the other side: returns how much of it
        reaches the order (after the queue ahead)."""
        spot.traded_since += qty
        if spot.ahead >= qty:
            spot.ahead -= qty
            return 0.0
        reaching = qty - spot.ahead
        spot.ahead = 0.0
        return reaching

    def on_level(self, spot: QueueSpot, level: float) -> None:
        """A new snapshot shows the order's level at ``level``: the shrink the trades since the
        last snapshot do not explain was cancelled, ahead of the order as the model says."""
        cancelled = spot.level - spot.traded_since - level
        if cancelled > 0 and self.name == PROBABILISTIC:
            front = spot.ahead
            back = max(spot.level - spot.traded_since - front, 0.0)
            weights = front**self.power + back**self.power
            in_front = front**self.power / weights if weights > 0 else 0.0
            # what the back cannot account for came from the front too
            overflow = min(back - (1 - in_front) * cancelled, 0.0)
            spot.ahead = max(front - in_front * cancelled + overflow, 0.0)
        spot.ahead = min(spot.ahead, level)  # never more ahead than the level holds
        spot.level = level
        spot.traded_since = 0.0

"""Exponential backoff with jitter, so that many sessions reconnecting after one outage do not
hammer the exchange in lock-step."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """``next()`` returns the delay before the next attempt: ``initial * factor**n`` capped at
    ``maximum``, then scaled by a random factor in ``[1 - jitter, 1]`` ("equal-ish" jitter: never
    longer than the cap, never collapsing to zero). ``reset()`` after a success."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next(self) -> float:
        base = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        return base * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        self.attempts = 0

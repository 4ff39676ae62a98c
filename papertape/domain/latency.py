"""Latency in market time, one direction at a time (order entry, cancel, the exchange's
response): a constant, or a constant plus a seeded random delay.

The random part is exponential with mean ``jitter_us`` — most delays near the constant, a long
tail of slow ones, the shape network and matching-engine delays have. Each direction draws from
its own generator, seeded from the session's ``seed`` and the direction's name, so a replay draws
the same delays in the same order, and a session resumed after a crash continues the same draws
(the generators are part of the engine's snapshot).
"""

from __future__ import annotations

import random


class Latency:
    def __init__(self, base_us: int = 0, jitter_us: int = 0, seed: int = 0, direction: str = ""):
        if base_us < 0 or jitter_us < 0:
            raise ValueError("latencies are not negative")
        self.base_us = base_us
        self.jitter_us = jitter_us
        self._draws = random.Random(f"papertape-latency:{seed}:{direction}")

    def __bool__(self) -> bool:
        return bool(self.base_us or self.jitter_us)

    def draw(self) -> int:
        """The next delay, µs."""
        if not self.jitter_us:
            return self.base_us
        return self.base_us + round(self._draws.expovariate(1.0) * self.jitter_us)

"""Whether helper processes would finish the trials left sooner than this process alone.

A helper is not free: a spawned interpreter imports papertape and numpy (about a second of CPU)
and decodes the dataset again (as long as this process took to decode it). A fast-path trial
costs a fraction of a microsecond per bar (tens of ms on 45k one-minute candles), an event-engine
trial microseconds per bar (about a second on those candles). So a small fast-path grid is done
before a helper could have started, while event-engine trials or a large grid repay it many
times over: the pool decides from an estimate of the work left, not from the number of trials.

A trial's cost is a prior per engine (per bar) until this process has spent ``PROBE_SECONDS``
running trials on that engine, then the measured mean (a short probe would overstate it: the
first trials also build the arrays and the indicators the later ones reuse).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from papertape.research.trials import Engine

# low guesses (measured on this 2-core machine: ~0.2-0.5 µs and ~6-20 µs per bar): until it is
# measured, the work left is rather under- than overstated, and helpers start late, not in vain
PRIOR_SECONDS_PER_BAR: dict[Engine, float] = {"vectorised": 0.2e-6, "event": 5e-6}
PROBE_SECONDS = 0.5
HELPER_IMPORT_SECONDS = 1.0  # a spawned interpreter importing papertape, numpy and the engine
# helpers start when the work left is this many times their start-up: while they start this
# process goes on with the trials, so they pay once the work outlasts the start-up; the margin
# covers a start-up slower than guessed and the last trials, which cannot be shared
WORTH_MARGIN = 2.0


@dataclass(slots=True)
class Workload:
    """The trials of one call left to run, by engine, and what this process spent on those it
    ran, to estimate how many seconds the rest will take (``bars``: the rows of the window)."""

    bars: int
    left: Counter[Engine] = field(default_factory=Counter)
    spent: dict[Engine, float] = field(default_factory=dict)
    ran: Counter[Engine] = field(default_factory=Counter)

    def record(self, engine: Engine, seconds: float) -> None:
        self.spent[engine] = self.spent.get(engine, 0.0) + seconds
        self.ran[engine] += 1

    def trial_seconds(self, engine: Engine) -> float:
        if self.spent.get(engine, 0.0) >= PROBE_SECONDS:
            return self.spent[engine] / self.ran[engine]
        return self.bars * PRIOR_SECONDS_PER_BAR[engine]

    def seconds_left(self) -> float:
        return sum(count * self.trial_seconds(engine) for engine, count in self.left.items())


def helper_start_seconds(decode_seconds: float, load: float, cpus: int) -> float:
    """A helper's start-up on this machine now: its imports at the speed a new process gets
    (``HELPER_IMPORT_SECONDS`` on an idle machine; on one whose run queue ``load`` exceeds its
    ``cpus``, a newcomer gets ``cpus / load`` of a core), then decoding the data again
    (``decode_seconds``, as this process measured it: already at the machine's speed)."""
    return HELPER_IMPORT_SECONDS * max(1.0, load / max(cpus, 1)) + decode_seconds


def worth_helpers(seconds_left: float, start_seconds: float) -> bool:
    """Whether starting helpers (each ``start_seconds`` before it runs a trial) finishes sooner."""
    return seconds_left > WORTH_MARGIN * start_seconds

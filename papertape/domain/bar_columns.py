"""One symbol's bars of one interval as NumPy columns: what a chart's indicators are folded over
(a 180k-bar dataset read as ``Candle`` tuples cost ~2 µs of CPU a bar, holding the interpreter
the API's event loop needs; as columns ~0.1 µs, decoded in C)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from papertape.domain.market import BAR_FIELDS, Candle

# the columns, in ``BarColumns``' order, and their NumPy types
BAR_COLUMNS = (("ts", np.int64), *((name, np.float64) for name in BAR_FIELDS))


@dataclass(frozen=True, slots=True)
class BarColumns:
    """Bars in time order: ``ts`` (the bar's open, µs, int64) and the prices and volume
    (float64), one element per bar."""

    ts: NDArray[np.int64]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]

    def __post_init__(self) -> None:
        if any(len(getattr(self, name)) != len(self.ts) for name in BAR_FIELDS):
            raise ValueError("bar columns must have one length")

    @classmethod
    def from_candles(cls, candles: Sequence[Candle]) -> BarColumns:
        return cls(
            np.fromiter((c.ts for c in candles), np.int64, len(candles)),
            *(
                np.fromiter((getattr(c, name) for c in candles), np.float64, len(candles))
                for name in BAR_FIELDS
            ),
        )

    @property
    def size(self) -> int:
        return len(self.ts)

    def field(self, name: str) -> NDArray[np.float64]:
        """The column a chart indicator is fed (``close``, ``volume``…)."""
        if name not in BAR_FIELDS:
            raise ValueError(f"bars have no field {name!r}")
        column: NDArray[np.float64] = getattr(self, name)
        return column

    def since(self, ts: int) -> BarColumns:
        """The bars opening at or after ``ts`` (views, no copy)."""
        return self[int(np.searchsorted(self.ts, ts, side="left")) :]

    def last(self, count: int) -> BarColumns:
        """The newest ``count`` bars (views)."""
        return self[max(0, self.size - count) :]

    def __getitem__(self, part: slice) -> BarColumns:
        columns: list[Any] = [self.ts[part], *(getattr(self, name)[part] for name in BAR_FIELDS)]
        return BarColumns(*columns)

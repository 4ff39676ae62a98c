"""One symbol's trades column by column: what a store hands a streamed backtest.

A list of ``Trade`` tuples costs a Python object per value: reading ten million trades from a
store that way spent 2-3 µs of CPU per row on building them, four to six times what the engine
then spent on each. Columns are NumPy arrays that a store fills in C without holding the
interpreter (QuestDB's Parquet export; SQLite through ADBC in a process that reads the dataset
and nothing else, ``trade_column_reader``), so that reading the next chunk overlaps the
engine's work on this one; the engine walks them and builds a ``Trade`` only for the prints at
which something happens (see ``Engine.process``).

Trade ids are not carried: nothing in the engine reads them (a strategy that listens to every
print, ``on_trade``, is handed rows built from the columns, without ids; none of the built-in
and rule strategies does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from papertape.domain.market import UNKNOWN_SIDE, Trade

BUY_CODE, SELL_CODE, UNKNOWN_CODE = 1, -1, 0
SIDE_CODES = {"buy": BUY_CODE, "sell": SELL_CODE, UNKNOWN_SIDE: UNKNOWN_CODE}
SIDES = {code: side for side, code in SIDE_CODES.items()}
# the columns, in ``TradeColumns``' order, and their NumPy types
TRADE_COLUMNS = (("ts", np.int64), ("price", np.float64), ("qty", np.float64), ("side", np.int8))


class TradeColumns:
    """Trades of ``symbol`` in time order: ``ts`` (int64 microseconds), ``price`` and ``qty``
    (float64) and ``side`` (int8 codes, ``SIDE_CODES``), all of one length."""

    __slots__ = ("symbol", "ts", "price", "qty", "side")

    def __init__(
        self,
        symbol: str,
        ts: NDArray[np.int64],
        price: NDArray[np.float64],
        qty: NDArray[np.float64],
        side: NDArray[np.int8],
    ):
        if not len(ts) == len(price) == len(qty) == len(side):
            raise ValueError("trade columns must have one length")
        self.symbol = symbol
        self.ts = ts
        self.price = price
        self.qty = qty
        self.side = side

    def __len__(self) -> int:
        return len(self.ts)

    def __getitem__(self, part: slice) -> TradeColumns:
        """The prints of ``part`` (views of these columns, not copies)."""
        return TradeColumns(
            self.symbol, self.ts[part], self.price[part], self.qty[part], self.side[part]
        )

    def between(self, start: int | None, end: int | None) -> TradeColumns:
        """The prints with ``start <= ts < end`` (``None``: open), as views."""
        lo = 0 if start is None else int(self.ts.searchsorted(start))
        hi = len(self) if end is None else int(self.ts.searchsorted(end))
        return self[lo:hi]

    def row(self, i: int) -> Trade:
        """The ``i``-th print as the engine's row (no trade id)."""
        return Trade(
            int(self.ts[i]),
            self.symbol,
            float(self.price[i]),
            float(self.qty[i]),
            SIDES[int(self.side[i])],
        )

    def rows(self) -> list[Trade]:
        sides = [SIDES[code] for code in self.side.tolist()]
        return [
            Trade(ts, self.symbol, price, qty, side)
            for ts, price, qty, side in zip(
                self.ts.tolist(), self.price.tolist(), self.qty.tolist(), sides, strict=True
            )
        ]

    @classmethod
    def joined(cls, symbol: str, parts: Iterable[TradeColumns], size: int) -> TradeColumns:
        """``parts`` one after the other, copied into columns of ``size`` prints (at least
        their total) allocated once: memory holds the result and one part, never both whole."""
        ts = np.empty(size, np.int64)
        price, qty, side = np.empty(size), np.empty(size), np.empty(size, np.int8)
        filled = 0
        for part in parts:
            end = filled + len(part)
            if end > size:
                raise ValueError(f"more than {size} prints to join")
            ts[filled:end], price[filled:end] = part.ts, part.price
            qty[filled:end], side[filled:end] = part.qty, part.side
            filled = end
        whole = cls(symbol, ts, price, qty, side)
        return whole if filled == size else whole[:filled].copy()

    def copy(self) -> TradeColumns:
        """Columns of their own (a part of big columns, without keeping them alive)."""
        return TradeColumns(
            self.symbol, self.ts.copy(), self.price.copy(), self.qty.copy(), self.side.copy()
        )

    @classmethod
    def from_rows(cls, symbol: str, rows: Sequence[Trade]) -> TradeColumns:
        """The columns of ``rows`` (all of ``symbol``)."""
        if any(t.symbol != symbol for t in rows):
            raise ValueError(f"trade columns hold one symbol, {symbol}")
        return cls(
            symbol,
            np.fromiter((t.ts for t in rows), np.int64, len(rows)),
            np.fromiter((t.price for t in rows), np.float64, len(rows)),
            np.fromiter((t.qty for t in rows), np.float64, len(rows)),
            np.fromiter((SIDE_CODES[t.side] for t in rows), np.int8, len(rows)),
        )

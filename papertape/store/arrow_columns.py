"""Trades and bars from an Arrow table to ``TradeColumns`` and ``BarColumns``, for both stores'
``read_trade_columns`` and ``read_bar_columns``.

Every step runs in Arrow's and NumPy's C code, none per row in Python: the point of a columnar
read is that no Python object is built per trade or bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from papertape.domain.bar_columns import BAR_COLUMNS, BarColumns
from papertape.domain.trade_columns import (
    BUY_CODE,
    SELL_CODE,
    TRADE_COLUMNS,
    UNKNOWN_CODE,
    TradeColumns,
)
from papertape.store.trade_ties import tie_order

if TYPE_CHECKING:  # pyarrow is imported by the readers that make the tables, when they do
    import pyarrow as pa

# the trade's side as its code, computed by the store's SQL: no text column crosses over (a
# string per row), and no ``pyarrow.compute`` (whose import alone takes ~0.5 s) is needed
SIDE_CODE_SQL = (
    f"CASE side WHEN 'buy' THEN {BUY_CODE} WHEN 'sell' THEN {SELL_CODE} ELSE {UNKNOWN_CODE} END"
)


def trade_columns(
    symbol: str, table: pa.Table, order: NDArray[np.intp] | None = None
) -> TradeColumns:
    """``symbol``'s trades from ``table``'s columns ``ts`` (microseconds), ``price``, ``qty`` and
    ``side`` (codes, ``SIDE_CODE_SQL``), in the table's order or in ``order`` (a permutation of
    its rows). Arrow's allocator keeps what a read freed for the next one, ~45 MB after a
    window of 250,000 prints: it is handed back here, so that a dataset held as columns (a
    sweep's) is most of what a process holds."""
    import pyarrow as pa

    arrays = [_numpy(table, name, kind) for name, kind in TRADE_COLUMNS]
    if order is not None:
        arrays = [array[order] for array in arrays]
    columns = TradeColumns(symbol, *arrays)
    del table
    pa.default_memory_pool().release_unused()
    return columns


def bar_columns(table: pa.Table) -> BarColumns:
    """Bars from ``table``'s columns ``ts`` (microseconds) and ``open`` … ``volume``, in the
    table's order."""
    return BarColumns(*(_numpy(table, name, kind) for name, kind in BAR_COLUMNS))


def trades_in_tie_key_order(symbol: str, table: pa.Table) -> TradeColumns:
    """``trade_columns`` of one symbol's trades given in time order (``ts``), with the prints of
    one timestamp put in trade id order by their column ``tie_key`` (``trade_ties``): the order
    ``read_trades`` gives them in. Raises ``UnkeyedTies`` when prints without a key are tied
    (``trades_in_trade_id_order`` then orders them)."""
    order = tie_order(_numpy(table, "ts", np.int64), _numpy(table, "tie_key", np.int64))
    return trade_columns(symbol, table, order)


def trades_in_trade_id_order(symbol: str, table: pa.Table) -> TradeColumns:
    """``trade_columns`` of one symbol's trades given in time order (``ts``), with the prints of
    one timestamp put in order by their column ``trade_id`` (byte order, as the stores'
    ``ORDER BY``)."""
    ts = _numpy(table, "ts", np.int64)
    if not (ts[1:] == ts[:-1]).any():
        return trade_columns(symbol, table)
    import pyarrow.compute as pc

    order = pc.sort_indices(table, [("ts", "ascending"), ("trade_id", "ascending")])
    return trade_columns(symbol, table.take(order))


def _numpy(table: pa.Table, name: str, kind: DTypeLike) -> NDArray[Any]:
    """The column as a NumPy array of ``kind`` (an empty result may come typed otherwise: ADBC
    SQLite types every column of no rows int64), read from Arrow's buffers: pyarrow's own
    ``to_numpy`` imports pandas (~0.9 s holding the interpreter, a server's first chart)."""
    parts: list[NDArray[Any]] = []
    for chunk in table.column(name).chunks:
        if len(chunk) == 0:
            continue
        if chunk.null_count:
            raise ValueError(f"column {name} has {chunk.null_count} nulls")
        dtype = _NUMPY_TYPES.get(str(chunk.type))
        if dtype is None:
            raise TypeError(f"column {name} is {chunk.type}, not a number")
        data = np.frombuffer(chunk.buffers()[1], dtype, len(chunk) + chunk.offset)
        parts.append(data[chunk.offset :])
    if not parts:
        return np.empty(0, kind)
    joined = parts[0] if len(parts) == 1 else np.concatenate(parts)
    array: NDArray[Any] = joined.astype(kind, copy=False)
    return array


# Arrow's fixed-width number types as NumPy's (little-endian, as Arrow stores them)
_NUMPY_TYPES = {
    f"{kind}{bits}": np.dtype(f"<{code}{bits // 8}")
    for kind, code in (("int", "i"), ("uint", "u"))
    for bits in (8, 16, 32, 64)
} | {"float": np.dtype("<f4"), "double": np.dtype("<f8")}

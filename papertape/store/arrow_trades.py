"""Trades from an Arrow table to ``TradeColumns``, for both stores' ``read_trade_columns``.

Every step runs in Arrow's and NumPy's C code, none per row in Python: the point of a columnar
read is that no Python object is built per trade.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from papertape.domain.trade_columns import BUY_CODE, SELL_CODE, UNKNOWN_CODE, TradeColumns


def trade_columns(symbol: str, table: pa.Table) -> TradeColumns:
    """``symbol``'s trades from ``table``'s columns ``ts`` (microseconds), ``price``, ``qty`` and
    ``side`` (text: any side but buy and sell is unknown), in the table's order."""
    if table.num_rows == 0:  # an empty result may be typed otherwise (ADBC SQLite: all int64)
        return TradeColumns(
            symbol,
            np.empty(0, np.int64),
            np.empty(0, np.float64),
            np.empty(0, np.float64),
            np.empty(0, np.int8),
        )
    side = table.column("side")
    codes = pc.if_else(
        pc.equal(side, "buy"),
        BUY_CODE,
        pc.if_else(pc.equal(side, "sell"), SELL_CODE, UNKNOWN_CODE),
    )
    return TradeColumns(
        symbol,
        _numpy(table.column("ts"), pa.int64()),
        _numpy(table.column("price"), pa.float64()),
        _numpy(table.column("qty"), pa.float64()),
        _numpy(codes, pa.int8()),
    )


def _numpy(column: pa.ChunkedArray, kind: pa.DataType) -> NDArray[Any]:
    """``column`` as a NumPy array of ``kind`` (read-only when Arrow's buffer is shared); the
    cast refuses to lose values."""
    array: NDArray[Any] = column.cast(kind).to_numpy()
    return array

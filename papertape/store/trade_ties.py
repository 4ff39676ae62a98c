"""The order of prints that share a timestamp, as a number.

Both stores give one symbol's trades in (timestamp, trade id) order, the id compared byte by byte
(``read_trades``). Sending every trade id along with a columnar read only to order the ties cost
QuestDB's Parquet export 60-65 % of its time (a text column), so the QuestDB store writes each
print's **tie key** beside its id: a number whose order is the id's byte order. An exchange's
trade ids are decimal numbers; a string of at most 18 ASCII digits is read as a number in base
11 with one digit per position, ``0`` for "the id has ended" and ``d + 1`` for the digit ``d``:
a shorter id that is the start of a longer one comes first, as in byte order, and 11^18 < 2^63
fits QuestDB's LONG. An id that is not such a string has no key (``None``): its window is then
ordered by the ids themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

KEY_DIGITS = 18
NO_KEY = -1  # how a read gives a print without a key (every key is >= 0)
_WEIGHTS = [11**i for i in range(KEY_DIGITS + 1)]
# the key of an id of n digits is (its digits read in base 11 + n ones in base 11) * 11^(18 - n):
# each digit d counts as d + 1 and the positions after the id as 0, with one int() in C
_ONES = [(11**n - 1) // 10 for n in range(KEY_DIGITS + 1)]


def tie_key(trade_id: str) -> int | None:
    """The key of ``trade_id``, or ``None`` when it is not a string of 1 to 18 ASCII
    digits."""
    if len(trade_id) > KEY_DIGITS or not trade_id.isascii() or not trade_id.isdigit():
        return None
    n = len(trade_id)
    return (int(trade_id, 11) + _ONES[n]) * _WEIGHTS[KEY_DIGITS - n]


def trade_id_of(key: int) -> str:
    """The trade id whose key is ``key`` (``tie_key``'s inverse)."""
    digits = []
    for weight in reversed(_WEIGHTS[:KEY_DIGITS]):
        digit, key = divmod(key, weight)
        if digit == 0:
            break
        digits.append(str(digit - 1))
    return "".join(digits)


def tie_order(
    ts: NDArray[np.int64],
    keys: NDArray[np.int64],
    ids_without_key: Callable[[], Sequence[str | None]],
) -> NDArray[np.intp] | None:
    """The permutation that puts rows in (timestamp, trade id) order, given rows already in
    timestamp order, their keys (``NO_KEY`` where there is none) and, asked for only when some
    row has no key, the ids of the rows without one (the others' may be ``None``); ``None`` when
    there are no ties to order."""
    if not (ts[1:] == ts[:-1]).any():
        return None
    if not (keys == NO_KEY).any():
        order: NDArray[np.intp] = np.lexsort((keys, ts))
        return order
    given = ids_without_key()
    ids: list[Any] = [
        trade_id_of(int(key)) if key != NO_KEY else given[i] for i, key in enumerate(keys.tolist())
    ]
    ordered = sorted(range(len(ids)), key=lambda i: (int(ts[i]), ids[i]))
    return np.asarray(ordered, dtype=np.intp)

"""The order of prints that share a timestamp, as a number.

Both stores give one symbol's trades in (timestamp, trade id) order, the id compared byte by byte
(``read_trades``). Sending every trade id along with a columnar read only to order the ties cost
QuestDB's Parquet export 60-65 % of its time (a text column), so the QuestDB store writes each
print's **tie key** beside its id: a number whose order is the id's byte order. An exchange's
trade ids are decimal numbers; a string of at most 18 ASCII digits is read as a number in base
11 with one digit per position, ``0`` for "the id has ended" and ``d + 1`` for the digit ``d``:
a shorter id that is the start of a longer one comes first, as in byte order, and 11^18 < 2^63
fits QuestDB's LONG. An id that is not such a string has no key (``None``): prints without a key
that share a timestamp are ordered by their ids, read for it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

KEY_DIGITS = 18
NO_KEY = -1  # how a read gives a print without a key (every key is >= 0)
_POWERS = [11**i for i in range(KEY_DIGITS + 1)]
# the key of an id of n digits is (its digits read in base 11 + n ones in base 11) * 11^(18 - n):
# each digit d counts as d + 1 and the positions after the id as 0, with one int() in C
_ONES = [(11**n - 1) // 10 for n in range(KEY_DIGITS + 1)]


def tie_key(trade_id: str) -> int | None:
    """The key of ``trade_id``, or ``None`` when it is not a string of 1 to 18 ASCII
    digits."""
    if len(trade_id) > KEY_DIGITS or not trade_id.isascii() or not trade_id.isdigit():
        return None
    n = len(trade_id)
    key: int = (int(trade_id, 11) + _ONES[n]) * _POWERS[KEY_DIGITS - n]
    return key


class UnkeyedTies(Exception):
    """Prints without a tie key share a timestamp: only their ids can order them."""


def tie_order(ts: NDArray[np.int64], keys: NDArray[np.int64]) -> NDArray[np.intp] | None:
    """The permutation that puts rows given in timestamp order in (timestamp, trade id) order,
    from their keys (``NO_KEY`` where there is none); ``None`` when they are in that order
    already (no ties, or ties written in id order, as an exchange's prints usually are).
    Raises ``UnkeyedTies`` when a print without a key shares its timestamp."""
    tied = ts[1:] == ts[:-1]
    if not tied.any():
        return None
    unkeyed = keys == NO_KEY
    if unkeyed.any() and (tied & (unkeyed[1:] | unkeyed[:-1])).any():
        raise UnkeyedTies()
    if not (tied & (keys[1:] < keys[:-1])).any():
        return None
    order: NDArray[np.intp] = np.lexsort((keys, ts))
    return order

"""Tie keys (``papertape.store.trade_ties``): a number per trade id whose order is the ids' byte
order, and the order of prints that share a timestamp built from them."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from papertape.store.trade_ties import KEY_DIGITS, NO_KEY, tie_key, tie_order, trade_id_of

numeric_ids = st.text(alphabet="0123456789", min_size=1, max_size=KEY_DIGITS)
any_ids = st.one_of(
    numeric_ids,
    st.text(alphabet="0123456789", min_size=KEY_DIGITS + 1, max_size=25),
    st.text(max_size=12),
)


@given(numeric_ids, numeric_ids)
def test_keys_order_numeric_ids_as_their_bytes(a, b):
    key_a, key_b = tie_key(a), tie_key(b)
    assert key_a is not None and key_b is not None
    assert 0 <= key_a < 2**63
    assert (key_a < key_b) == (a.encode() < b.encode())
    assert (key_a == key_b) == (a == b)
    assert trade_id_of(key_a) == a


@given(st.text())
def test_only_short_ascii_numbers_have_keys(trade_id):
    keyed = trade_id.isascii() and trade_id.isdigit() and len(trade_id) <= KEY_DIGITS
    assert (tie_key(trade_id) is not None) == keyed


def test_keys_at_the_edges():
    assert tie_key("9") > tie_key("10") > tie_key("1") > tie_key("0")  # as bytes: "1" < "10" < "9"
    assert tie_key("0") < tie_key("00") < tie_key("01")
    assert tie_key("9" * KEY_DIGITS) < 2**63
    assert tie_key("1" * (KEY_DIGITS + 1)) is None
    assert tie_key("١٢") is None  # Arabic-Indic digits are digits, but not ASCII
    assert tie_key("") is None
    assert tie_key("-1") is None


@given(st.lists(st.tuples(st.integers(0, 3), any_ids), max_size=40))
def test_tie_order_is_timestamp_then_trade_id_bytes(rows):
    rows.sort(key=lambda row: row[0])  # given in time order, ties in any order
    ts = np.array([t for t, _ in rows], dtype=np.int64)
    keys = np.array([tie_key(i) if tie_key(i) is not None else NO_KEY for _, i in rows], np.int64)
    asked = []

    def ids_without_key():
        asked.append(True)
        return [i if tie_key(i) is None else None for _, i in rows]

    order = tie_order(ts, keys, ids_without_key)
    ordered = rows if order is None else [rows[i] for i in order.tolist()]
    assert order is None or sorted(order.tolist()) == list(range(len(rows)))  # a permutation
    assert ordered == sorted(rows, key=lambda row: (row[0], row[1].encode()))
    # the ids are asked for only when some print has no key and some timestamp is shared
    has_ties = len({t for t, _ in rows}) < len(rows)
    assert bool(asked) == (has_ties and bool((keys == NO_KEY).any()))

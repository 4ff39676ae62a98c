"""Tie keys (``papertape.store.trade_ties``): a number per trade id whose order is the ids' byte
order, and the order of prints that share a timestamp built from them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from papertape.store.trade_ties import KEY_DIGITS, NO_KEY, UnkeyedTies, tie_key, tie_order

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
    keys = np.array([NO_KEY if tie_key(i) is None else tie_key(i) for _, i in rows], np.int64)
    stamps = [t for t, _ in rows]
    unkeyed_tie = any(tie_key(i) is None and stamps.count(t) > 1 for t, i in rows)
    if unkeyed_tie:
        with pytest.raises(UnkeyedTies):
            tie_order(ts, keys)
        return
    order = tie_order(ts, keys)
    assert order is None or sorted(order.tolist()) == list(range(len(rows)))  # a permutation
    ordered = rows if order is None else [rows[i] for i in order.tolist()]
    assert ordered == sorted(rows, key=lambda row: (row[0], row[1].encode()))


def test_ties_already_in_order_need_no_permutation():
    ts = np.array([1, 1, 1, 2, 3, 3], dtype=np.int64)
    ids = ["1", "10", "9", "5", "0", "00"]  # byte order within each timestamp
    keys = np.array([tie_key(i) for i in ids], dtype=np.int64)
    assert tie_order(ts, keys) is None
    assert tie_order(ts, keys[[1, 0, 2, 3, 4, 5]]).tolist() == [1, 0, 2, 3, 4, 5]
    lone = keys.copy()
    lone[3] = NO_KEY  # a print without a key alone at its timestamp needs no id
    assert tie_order(ts, lone) is None

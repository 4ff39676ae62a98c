"""Decoding many market rows at once, cheaply.

A read of trades hands out tens of thousands to millions of small tuples (a ``Trade`` of ints,
floats and strings). Python's cyclic garbage collector cannot free any of them (they hold no
references to containers, so they form no cycles), but it still counts them: every ~25,000
surviving objects start a full collection that walks every tracked object of the process (the
imported modules, the rows decoded so far). Measured on 2 million trades (2026-12-03), those
collections were 60-70% of a store's read: building the rows took 2.3-2.8 s with the collector
on and 0.55-0.65 s with it paused.

``collector_paused`` pauses the collector around such a decoding; it is process-wide, so it is
counted (the collector comes back on when the last of the threads decoding at the same time is
done) and leaves it alone when someone else turned it off. Nothing is lost while it is paused:
garbage cycles made meanwhile (by other threads) are collected at the next collection after.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

R = TypeVar("R", bound=NamedTuple)

_lock = threading.Lock()
_pausing = 0  # threads inside ``collector_paused`` that turned the collector off


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (if it was on)."""
    global _pausing
    with _lock:
        mine = _pausing > 0 or gc.isenabled()
        if mine:
            _pausing += 1
            gc.disable()
    try:
        yield
    finally:
        if mine:
            with _lock:
                _pausing -= 1
                if _pausing == 0:
                    gc.enable()


def build_rows(record: type[R], rows: Iterable[Iterable[Any]]) -> list[R]:
    """``record`` built from each of ``rows`` (values in field order), the collector paused."""
    with collector_paused():
        return list(map(record._make, rows))

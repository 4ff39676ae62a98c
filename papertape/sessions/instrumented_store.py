"""A store that times its writes: ``InstrumentedStore(store, metrics_observer(metrics))`` is
the store the server uses, every write's latency, failure and row count going to ``Metrics``; reads and everything
else go straight through. It wraps rather than edits the store classes, so both stores are
measured the same way."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

from papertape.sessions.metrics import Metrics
from papertape.store.base import Store

RowCount = Callable[[tuple[Any, ...]], int]


def _one(args: tuple[Any, ...]) -> int:
    return 1


def _rows_at(index: int) -> RowCount:
    return lambda args: len(args[index]) if len(args) > index else 1


def _committed(args: tuple[Any, ...]) -> int:
    """A trading commit: its rows and events."""
    return int(args[0].record.rows) if args else 1


# every write operation of the store → how many rows a call writes, from its positional
# arguments
WRITES: dict[str, RowCount] = {
    "create_session": _one,
    "update_session": _one,
    "save_checkpoint": _one,
    "append_events": _rows_at(1),
    "commit": _committed,
    "write_trades": _rows_at(1),
    "write_candles": _rows_at(1),
    "write_books": _rows_at(1),
    "write_funding": _rows_at(1),
    "write_marks": _rows_at(1),
    "record_trials": _rows_at(0),
    "save_dataset": _one,
    "save_strategy": _one,
}


# what a timed write reports: its operation, its seconds, the rows it wrote, whether it failed
WriteObserver = Callable[[str, float, int, bool], None]


def metrics_observer(metrics: Metrics) -> WriteObserver:
    """Writes counted in the server's ``Metrics`` (latency, failures, rows written)."""

    def observe(operation: str, seconds: float, rows: int, failed: bool) -> None:
        metrics.store_seconds.labels(operation).observe(seconds)
        if failed:
            metrics.store_failures.labels(operation).inc()
        else:
            metrics.rows_written.labels(operation).inc(rows)

    return observe


class InstrumentedStore:
    """``store`` with each write timed and reported to ``observe``: the server's metrics, or,
    in a session's worker process, the server that counts them."""

    def __init__(self, store: Store, observe: WriteObserver):
        self._store = store
        self._observe = observe
        for name, count in WRITES.items():
            setattr(self, name, self._timed(name, getattr(store, name), count))

    def _timed(self, name: str, write: Callable[..., Any], count: RowCount) -> Callable[..., Any]:
        @functools.wraps(write)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                result = await write(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._observe(name, time.perf_counter() - began, 0, True)
                raise
            self._observe(name, time.perf_counter() - began, count(args), False)
            return result

        return timed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

"""A store that times its writes: ``InstrumentedStore(store, metrics)`` is the store the server
uses, every write's latency, failure and row count going to ``Metrics``; reads and everything
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


# write operation → how many rows a call writes, from its positional arguments
WRITES: dict[str, RowCount] = {
    "create_session": _one,
    "update_session": _one,
    "save_checkpoint": _one,
    "append_events": _rows_at(1),
    "commit": _committed,
    "write_trades": _rows_at(1),
    "write_candles": _rows_at(1),
    "write_books": _rows_at(1),
    "save_dataset": _one,
    "save_strategy": _one,
}


class InstrumentedStore:
    def __init__(self, store: Store, metrics: Metrics):
        self._store = store
        self._metrics = metrics
        for name, count in WRITES.items():
            setattr(self, name, self._timed(name, getattr(store, name), count))

    def _timed(self, name: str, write: Callable[..., Any], count: RowCount) -> Callable[..., Any]:
        seconds = self._metrics.store_seconds.labels(name)
        failures = self._metrics.store_failures.labels(name)
        written = self._metrics.rows_written.labels(name)

        @functools.wraps(write)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                result = await write(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception:
                failures.inc()
                raise
            finally:
                seconds.observe(time.perf_counter() - began)
            written.inc(count(args))
            return result

        return timed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @property
    def inner(self) -> Store:
        return self._store

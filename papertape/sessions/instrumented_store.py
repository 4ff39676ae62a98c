"""A store that times its writes: ``InstrumentedStore(store, metrics)`` is the store the server
uses, every write's latency, failure and row count going to ``Metrics``; reads and everything
else go straight through. It wraps rather than edits the store classes, so both stores are
measured the same way."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from papertape.sessions.metrics import Metrics
from papertape.store.base import Store

# write operation → which positional argument holds its rows (None: one row)
WRITES: dict[str, int | None] = {
    "create_session": None,
    "update_session": None,
    "save_checkpoint": None,
    "append_events": 1,
    "record_orders": 0,
    "record_fills": 0,
    "record_positions": 0,
    "record_equity": 0,
    "write_trades": 1,
    "write_candles": 1,
    "write_books": 1,
    "save_dataset": None,
    "save_strategy": None,
}


class InstrumentedStore:
    def __init__(self, store: Store, metrics: Metrics):
        self._store = store
        self._metrics = metrics
        for name, rows_at in WRITES.items():
            setattr(self, name, self._timed(name, getattr(store, name), rows_at))

    def _timed(
        self, name: str, write: Callable[..., Any], rows_at: int | None
    ) -> Callable[..., Any]:
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
            rows: Sequence[Any] | None = (
                args[rows_at] if rows_at is not None and len(args) > rows_at else None
            )
            written.inc(len(rows) if rows is not None else 1)
            return result

        return timed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @property
    def inner(self) -> Store:
        return self._store

"""Where a sweep's market data comes from: a file or a stored dataset, described by a small
picklable spec so that each worker process (or Ray actor) decodes it once, itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papertape.domain.errors import DatasetNotFound, ValidationFailed
from papertape.market.importers import read_market_file
from papertape.store import open_store
from papertape.store.base import MarketDataStore

CHUNK_ROWS = 50_000  # rows per read of a streamed dataset


@dataclass(frozen=True, slots=True)
class DataSpec:
    """Exactly one of ``file`` and ``dataset`` (a dataset's name or a collect session's id in the
    store at ``store_url``); ``symbol`` is canonical."""

    symbol: str
    file: str | None = None
    dataset: str | None = None
    store_url: str | None = None

    def describe(self) -> str:
        return self.file if self.file is not None else f"dataset {self.dataset}"


async def _plan(store: MarketDataStore, name: str) -> tuple[Callable[..., Any], int, int, int]:
    """The reader of the dataset's kind (candles when there are any, else trades, else book
    snapshots), its time span ``[first, last)`` and its row count."""
    summary = await store.market_summary(name)
    if not summary:
        raise DatasetNotFound(f"no dataset or recorded session named {name!r}")
    kind = next(k for k in ("candles", "trades", "book") if k in summary)
    read: dict[str, Callable[..., Any]] = {
        "candles": store.read_candles,
        "trades": store.read_trades,
        "book": store.read_books,
    }
    info = summary[kind]
    return read[kind], info["start_ts"], info["end_ts"] + 1, info["rows"]


async def dataset_rows(store_url: str, name: str, symbol: str) -> list[Any]:
    """The rows of a dataset, or of a collect session's recording (``name`` = its id)."""
    store = await open_store(store_url)
    try:
        read, first, last, _ = await _plan(store, name)
        rows: list[Any] = await read(name, [symbol], first, last)
        return rows
    finally:
        await store.close()


def dataset_chunks(
    store_url: str, name: str, symbol: str, target_rows: int = CHUNK_ROWS
) -> tuple[int, Iterator[list[Any]]]:
    """The rows ``dataset_rows`` returns, streamed: read in time windows of about
    ``target_rows`` rows, so that memory holds two windows (the one the caller works on and
    the next, read meanwhile in a thread), never the dataset. Returns the dataset's row count
    (all symbols; a progress bar's total) and the chunks (each non-empty)."""
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(open_store(store_url))
    try:
        read, first, last, count = loop.run_until_complete(_plan(store, name))
    except BaseException:
        loop.run_until_complete(store.close())
        loop.close()
        raise
    window = max(1, (last - first) * target_rows // max(count, 1))

    def fetch(start: int) -> list[Any]:
        rows: list[Any] = loop.run_until_complete(
            read(name, [symbol], start, min(start + window, last))
        )
        return rows

    def chunks() -> Iterator[list[Any]]:
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataset-read-ahead")
        starts = iter(range(first, last, window))
        ahead: Future[list[Any]] | None = None
        try:
            start = next(starts, None)
            ahead = reader.submit(fetch, start) if start is not None else None
            while ahead is not None:
                rows = ahead.result()
                start = next(starts, None)
                ahead = reader.submit(fetch, start) if start is not None else None
                if rows:
                    yield rows
        finally:
            if ahead is not None:
                ahead.cancel()
            reader.submit(lambda: loop.run_until_complete(store.close())).result()
            reader.shutdown()
            loop.close()

    return count, chunks()


def load_rows(spec: DataSpec) -> list[Any]:
    """Decode the spec's rows (in time order), refusing an empty result."""
    if spec.file is not None:
        rows = read_market_file(Path(spec.file), symbol=spec.symbol).rows
    else:
        assert spec.dataset is not None and spec.store_url is not None
        rows = asyncio.run(dataset_rows(spec.store_url, spec.dataset, spec.symbol))
    if not rows:
        raise ValidationFailed(
            f"no rows for {spec.symbol} in {spec.describe()}",
            details=[{"field": "symbol", "message": "no rows"}],
        )
    return rows

"""Where a sweep's market data comes from: a file or a stored dataset, described by a small
picklable spec so that each worker process (or Ray actor) decodes it once, itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from papertape.domain.errors import DatasetNotFound, ValidationFailed
from papertape.domain.trade_columns import TradeColumns
from papertape.market.importers import read_market_file
from papertape.store import open_store
from papertape.store.base import Store, TradeColumnReader

CHUNK_ROWS = 50_000  # rows per read of a streamed dataset
# prints per read of trade columns (6 MB of them): fewer, bigger reads cost the stores less
COLUMN_CHUNK_ROWS = 250_000

MarketRows = Sequence[Any] | TradeColumns  # a dataset as a worker holds it


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


REPLAYED = ("candles", "trades", "book")  # a dataset's kinds a backtest replays, by preference


async def _plan(
    store: Store, name: str, columns: bool = False
) -> tuple[Callable[..., Any], TradeColumnReader | Store, int, int, int]:
    """The reader of the dataset's kind (candles when there are any, else trades, else book
    snapshots), what to close once it is done (the store), its time span ``[first, last)`` and
    its row count. With ``columns``, trades are read as ``TradeColumns`` by the store's
    ``trade_column_reader``, which replaces the store. An imported dataset of one kind says its
    span and count in its record (one row read); a session's recording grows, and only the
    market summary knows them (it counts every stored row: 0.8 s of a 2M-trade dataset's 1.5 s
    read)."""
    dataset = await store.get_dataset(name)
    if (
        dataset is not None
        and dataset.kind in REPLAYED
        and dataset.start_ts is not None
        and dataset.end_ts is not None
    ):
        kind, span = dataset.kind, (dataset.start_ts, dataset.end_ts + 1, dataset.rows)
    else:
        summary = await store.market_summary(name)
        if not summary:
            raise DatasetNotFound(f"no dataset or recorded session named {name!r}")
        kind = next((k for k in REPLAYED if k in summary), "")
        if not kind:
            raise ValidationFailed(
                f"{name!r} holds no candles, trades or book snapshots to replay",
                details=[{"field": "dataset", "message": "nothing to replay"}],
            )
        info = summary[kind]
        span = (info["start_ts"], info["end_ts"] + 1, info["rows"])

    if kind == "trades" and columns:
        reader = await store.trade_column_reader()

        async def trade_columns(
            source: str, symbols: Sequence[str], start: int, end: int
        ) -> TradeColumns:
            (symbol,) = symbols
            return await reader.read_trade_columns(source, symbol, start, end)

        return trade_columns, reader, *span
    read: dict[str, Callable[..., Any]] = {
        "candles": store.read_candles,
        "trades": store.read_trades,
        "book": store.read_books,
    }
    return read[kind], store, *span


def dataset_chunks(
    store_url: str,
    name: str,
    symbol: str,
    target_rows: int | None = None,
    columns: bool = False,
) -> tuple[int, Iterator[Any]]:
    """The rows of a dataset, or of a collect session's recording (``name`` = its id),
    streamed: read in time windows of about ``target_rows`` rows (by default ``CHUNK_ROWS``, or
    ``COLUMN_CHUNK_ROWS`` of columns), so that memory holds two windows (the one the caller
    works on and the next, read meanwhile in a thread), never the dataset. Returns the
    dataset's row count (all symbols; a progress bar's total) and the chunks (each non-empty).
    With ``columns``, a dataset of trades comes as ``TradeColumns``, which the stores decode
    in C without holding the interpreter: the read-ahead then overlaps the engine instead of
    taking turns with it."""
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(open_store(store_url))
    try:
        read, opened, first, last, count = loop.run_until_complete(_plan(store, name, columns))
    except BaseException:
        loop.run_until_complete(store.close())
        loop.close()
        raise
    target = target_rows or (COLUMN_CHUNK_ROWS if columns else CHUNK_ROWS)
    window = max(1, (last - first) * target // max(count, 1))

    def fetch(start: int) -> Any:
        return loop.run_until_complete(read(name, [symbol], start, min(start + window, last)))

    def chunks() -> Iterator[Any]:
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataset-read-ahead")
        starts = iter(range(first, last, window))
        ahead: Future[Any] | None = None
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
            reader.submit(lambda: loop.run_until_complete(opened.close())).result()
            reader.shutdown()
            loop.close()

    return count, chunks()


def load_rows(spec: DataSpec) -> MarketRows:
    """Decode the spec's rows (in time order), refusing an empty result. A dataset of trades
    comes as one ``TradeColumns`` (25 bytes a print: ten million in 250 MB, where rows took
    gigabytes), read in windows and joined as they arrive."""
    rows: MarketRows
    if spec.file is not None:
        rows = read_market_file(Path(spec.file), symbol=spec.symbol).rows
    else:
        assert spec.dataset is not None and spec.store_url is not None
        count, chunks = dataset_chunks(spec.store_url, spec.dataset, spec.symbol, columns=True)
        first = next(chunks, None)
        if isinstance(first, TradeColumns):
            rows = TradeColumns.joined(spec.symbol, chain([first], chunks), count)
        else:
            rows = [row for chunk in chain([first or []], chunks) for row in chunk]
    if not rows:
        raise ValidationFailed(
            f"no rows for {spec.symbol} in {spec.describe()}",
            details=[{"field": "symbol", "message": "no rows"}],
        )
    return rows


def time_span(rows: MarketRows) -> tuple[int, int]:
    """The time ``[first, last)`` that non-empty ``rows`` cover."""
    if isinstance(rows, TradeColumns):
        return int(rows.ts[0]), int(rows.ts[-1]) + 1
    first: int = rows[0].ts
    last: int = rows[-1].ts
    return first, last + 1

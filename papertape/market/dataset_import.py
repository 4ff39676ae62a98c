"""Filing a market-data file in the store as a dataset, in bounded memory.

CSV (plain or gzip) and Parquet files are read ``STREAM_ROWS`` rows at a time: each chunk is
parsed, written and dropped before the next is read, so a file of any size imports with the
memory of one chunk (``bench/big_replay.py`` measures rows/s and peak RSS). The stores order
rows by time when they are read, so chunks need not arrive in order. What cannot be read so is
read whole, as one chunk: JSON documents, raw websocket captures and Binance depth diffs (each
update applies to the book the previous ones built).

A candle file's interval is inferred from its first chunk (or given) and holds for every chunk;
an error names the file's row or line, not the chunk's.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from papertape.domain.errors import DatasetExists
from papertape.domain.funding import FundingRate
from papertape.domain.market import BookSnapshot, Candle, MarkPrice, Trade
from papertape.domain.records import Dataset
from papertape.market.importers import (
    FIRST_ROW,
    KINDS,
    Columns,
    MarketFile,
    bad_file,
    columns_from_arrow,
    csv_columns,
    csv_header,
    guess_kind,
    kind_rows,
    read_market_file,
)
from papertape.store.base import MarketDataStore

STREAM_ROWS = 100_000  # rows parsed (and held) at a time
WRITE_ROWS = 20_000  # rows per store write


def stream_market_file(
    path: str | Path,
    *,
    symbol: str | None = None,
    kind: str | None = None,
    interval: int | None = None,
    chunk_rows: int | None = None,
) -> Iterator[MarketFile]:
    """The file's rows as ``MarketFile`` chunks of up to ``chunk_rows`` (``STREAM_ROWS``) rows,
    each sorted by time (see the module doc)."""
    path = Path(path)
    chunk_rows = chunk_rows or STREAM_ROWS
    if kind is not None and kind not in KINDS:
        raise bad_file(path, f"kind must be one of {', '.join(KINDS)}, not {kind!r}", "kind")
    if _head(path) == b"PAR1":
        yield from _parquet_chunks(path, symbol, kind, interval, chunk_rows)
        return
    if kind == "capture" or not _csv_like(path):
        yield read_market_file(path, symbol=symbol, kind=kind, interval=interval)
        return
    with _text(path) as text:
        reader = csv.reader(text)
        names = csv_header(path, reader)
        detected = kind or guess_kind({n: [] for n in names})
        if detected == "book" and "side" in names:  # depth diffs: in order, whole
            yield read_market_file(path, symbol=symbol, kind=kind, interval=interval)
            return
        chunks = csv_columns(path, reader, names, chunk_rows=chunk_rows)
        yield from _market_chunks(path, chunks, detected, symbol, interval)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(4)
    except FileNotFoundError:
        raise bad_file(path, "no such file") from None
    except OSError as exc:
        raise bad_file(path, f"cannot read: {exc.strerror or exc}") from None


def _text(path: Path) -> IO[str]:
    """The file as text (through gunzip when it is gzip), decoded as it is read."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _csv_like(path: Path) -> bool:
    """The file's first text is neither JSON nor a websocket capture: CSV, read in chunks."""
    try:
        with _text(path) as text:
            start = text.read(200).lstrip()
    except (OSError, EOFError, UnicodeDecodeError):
        return False  # read whole, which says what is wrong with it
    return bool(start) and start[:1] not in ("[", "{") and not start[:1].isdigit()


def _parquet_chunks(
    path: Path, symbol: str | None, kind: str | None, interval: int | None, chunk_rows: int
) -> Iterator[MarketFile]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        batches = (columns_from_arrow(b) for b in file.iter_batches(batch_size=chunk_rows))
        names = [n.lower() for n in file.schema_arrow.names]
    except (pa.ArrowException, OSError) as exc:
        raise bad_file(path, f"unreadable Parquet: {exc}") from None
    detected = kind or guess_kind({n: [] for n in names})
    if detected == "book" and "side" in names:
        yield read_market_file(path, symbol=symbol, kind=kind, interval=interval)
        return
    yield from _market_chunks(path, batches, detected, symbol, interval)


def _market_chunks(
    path: Path,
    chunks: Iterator[Columns],
    kind: str | None,
    symbol: str | None,
    interval: int | None,
) -> Iterator[MarketFile]:
    first_row = 1
    for columns in chunks:
        token = FIRST_ROW.set(first_row)
        try:
            detected, rows = kind_rows(path, columns, kind, symbol, interval)
        finally:
            FIRST_ROW.reset(token)
        first_row += len(next(iter(columns.values()), []))
        if not rows:
            continue
        rows.sort(key=lambda r: r.ts)
        if detected == "candles" and interval is None:
            interval = rows[0].interval  # the first chunk's, for all the others
        yield MarketFile(
            detected,
            rows,
            tuple(sorted({r.symbol for r in rows})),
            rows[0].interval if detected == "candles" else None,
        )


async def import_dataset(
    store: MarketDataStore,
    path: str | Path,
    name: str,
    symbol: str | None = None,
    kind: str | None = None,
) -> Dataset:
    """Read ``path`` and file its rows in ``store`` under ``source=name``, a chunk at a time,
    then save the ``Dataset`` record describing them. An existing dataset name is refused
    (``DatasetExists``): datasets are never overwritten."""
    if await store.get_dataset(name) is not None:
        raise DatasetExists(
            f"dataset {name!r} already exists",
            details=[{"field": "name", "message": "already exists"}],
        )
    writers: dict[type, Any] = {
        Trade: store.write_trades,
        Candle: store.write_candles,
        BookSnapshot: store.write_books,
        FundingRate: store.write_funding,
        MarkPrice: store.write_marks,
    }
    chunks = stream_market_file(path, symbol=symbol, kind=kind)
    summary = _Summary()
    # parsing is CPU work: in a thread, a chunk at a time, so the event loop keeps serving
    while (market := await asyncio.to_thread(next, chunks, None)) is not None:
        summary.add(market)
        for i in range(0, len(market.rows), WRITE_ROWS):
            part = market.rows[i : i + WRITE_ROWS]
            for row_type, write in writers.items():  # a capture mixes trades and books
                rows = [r for r in part if type(r) is row_type]
                if rows:
                    await write(name, rows)
    if not summary.rows:
        raise bad_file(path, "the file holds no rows")
    dataset = Dataset(
        name=name,
        kind=summary.kind,
        symbols=tuple(sorted(summary.symbols)),
        rows=summary.rows,
        start_ts=summary.start_ts,
        end_ts=summary.end_ts,
        created_at=time.time_ns() // 1_000,
        interval=summary.interval,
        origin=Path(path).name,
    )
    await store.save_dataset(dataset)
    return dataset


class _Summary:
    """What the dataset record says of all the chunks read."""

    def __init__(self) -> None:
        self.kind = ""
        self.rows = 0
        self.symbols: set[str] = set()
        self.start_ts: int | None = None
        self.end_ts: int | None = None
        self.interval: int | None = None

    def add(self, market: MarketFile) -> None:
        self.kind = market.kind
        self.interval = self.interval or market.interval
        self.rows += len(market.rows)
        self.symbols.update(market.symbols)
        if market.start_ts is not None and market.end_ts is not None:
            starts = [t for t in (self.start_ts, market.start_ts) if t is not None]
            ends = [t for t in (self.end_ts, market.end_ts) if t is not None]
            self.start_ts, self.end_ts = min(starts), max(ends)

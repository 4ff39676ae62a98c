"""Where a sweep's market data comes from: a file or a stored dataset, described by a small
picklable spec so that each worker process (or Ray actor) decodes it once, itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papertape.domain.errors import DatasetNotFound, ValidationFailed
from papertape.market.importers import read_market_file
from papertape.store import open_store


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


async def dataset_rows(store_url: str, name: str, symbol: str) -> list[Any]:
    """The rows of a dataset, or of a collect session's recording (``name`` = its id): candles
    when there are any, else trades, else book snapshots."""
    store = await open_store(store_url)
    try:
        summary = await store.market_summary(name)
        if not summary:
            raise DatasetNotFound(f"no dataset or recorded session named {name!r}")
        kind = next(k for k in ("candles", "trades", "book") if k in summary)
        first, last = summary[kind]["start_ts"], summary[kind]["end_ts"] + 1
        read = {
            "candles": store.read_candles,
            "trades": store.read_trades,
            "book": store.read_books,
        }[kind]
        return await read(name, [symbol], first, last)
    finally:
        await store.close()


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

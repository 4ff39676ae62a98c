"""Datasets: import a file of trades, candles or book snapshots; list them; chart any recorded
symbol (a dataset, or what a session recorded) as candles."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse

from papertape.api.deps import get_store
from papertape.api.envelope import ok
from papertape.api.schemas import (
    ERRORS,
    TS_US_MAX,
    CandlesResponse,
    DatasetListResponse,
    DatasetResponse,
)
from papertape.domain.errors import DatasetNotFound, ValidationFailed
from papertape.domain.market import iso
from papertape.domain.records import Dataset, check_dataset_name
from papertape.domain.symbols import canonical
from papertape.market.importers import candles_from_trades, import_dataset
from papertape.store.base import Store

router = APIRouter(tags=["datasets"])

StoreDep = Annotated[Store, Depends(get_store)]
MAX_CHART_BARS = 5_000
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def dataset_view(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "kind": dataset.kind,
        "symbols": list(dataset.symbols),
        "rows": dataset.rows,
        "start": iso(dataset.start_ts),
        "end": iso(dataset.end_ts),
        "created_at": iso(dataset.created_at),
        "interval": dataset.interval,
        "origin": dataset.origin,
    }


@router.post("/datasets", status_code=201, response_model=DatasetResponse, responses=ERRORS)
async def create_dataset(
    store: StoreDep,
    file: Annotated[UploadFile, File(description="CSV, JSON or Parquet, optionally gzipped")],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    symbol: Annotated[str | None, Form(max_length=50)] = None,
    kind: Annotated[str | None, Form(max_length=20)] = None,
) -> JSONResponse:
    """Import a file of trades, candles or book snapshots as a named dataset (documented
    columns: see the README's "Datasets" section)."""
    check_dataset_name(name)
    with tempfile.TemporaryDirectory(prefix="papertape-upload-") as folder:
        # the copy carries the upload's own (sanitised) name: errors name it, origin records it
        path = FilePath(folder) / upload_name(file.filename)
        with path.open("wb") as handle:
            while chunk := await file.read(1 << 20):
                handle.write(chunk)
        dataset = await import_dataset(store, path, name, symbol=symbol or None, kind=kind)
    return JSONResponse(ok("dataset_imported", dataset_view(dataset)), status_code=201)


def upload_name(filename: str | None) -> str:
    """The base name of an uploaded file, safe to store and show: no directories (``../``, a
    Windows path), no markup or control characters, at most 100 characters."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    safe = UNSAFE_NAME.sub("_", base).strip(" ._")[:100]
    return safe or "upload"


@router.get("/datasets", response_model=DatasetListResponse, responses=ERRORS)
async def list_datasets(store: StoreDep) -> dict[str, Any]:
    return ok(
        "datasets_listed", {"datasets": [dataset_view(d) for d in await store.list_datasets()]}
    )


@router.get("/datasets/{name}", response_model=DatasetResponse, responses=ERRORS)
async def get_dataset(
    name: Annotated[str, Path(max_length=200)], store: StoreDep
) -> dict[str, Any]:
    dataset = await store.get_dataset(name)
    if dataset is None:
        raise DatasetNotFound(f"dataset {name!r} not found")
    return ok("dataset_found", dataset_view(dataset))


@router.get("/data/{source}/candles", response_model=CandlesResponse, responses=ERRORS)
async def chart_candles(
    source: Annotated[str, Path(max_length=200, description="a dataset name or a session id")],
    store: StoreDep,
    symbol: Annotated[str, Query(min_length=1, max_length=50)],
    interval: Annotated[int, Query(ge=1, le=7 * 86_400, description="seconds")] = 60,
    start_us: Annotated[int, Query(ge=0, le=TS_US_MAX, description="µs since the epoch")] = 0,
    end_us: Annotated[int, Query(ge=0, le=TS_US_MAX, description="µs since the epoch")] = TS_US_MAX,
) -> dict[str, Any]:
    """Candles of one symbol recorded under ``source``: stored candles of that interval, or
    candles built from the recorded trades. At most the last 5,000 bars."""
    try:
        wanted = canonical(symbol)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), details=[{"field": "symbol", "message": str(exc)}]
        ) from exc
    summary = await store.market_summary(source)
    if not summary:
        raise DatasetNotFound(f"nothing is recorded under {source!r}")
    candles = await store.read_candles(source, [wanted], start_us, end_us, interval)
    if not candles and "trades" in summary:
        trades = await store.read_trades(source, [wanted], start_us, end_us)
        candles = candles_from_trades(trades, interval)
    items = [
        {
            "ts": iso(c.ts),
            "time": c.ts // 1_000_000,
            "open": c.open,
            "high": c.high,
            "low": c.low,
            "close": c.close,
            "volume": c.volume,
        }
        for c in candles[-MAX_CHART_BARS:]
    ]
    return ok(
        "candles_listed",
        {"source": source, "symbol": wanted, "interval": interval, "items": items},
    )

"""Datasets: import a file of trades, candles or book snapshots; list them (charts of what is
recorded: ``routes_candles``)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from fastapi.responses import JSONResponse

from papertape.api.deps import get_store
from papertape.api.envelope import ok
from papertape.api.schemas import ERRORS, DatasetListResponse, DatasetResponse
from papertape.domain.errors import DatasetNotFound
from papertape.domain.market import iso
from papertape.domain.records import Dataset, check_dataset_name
from papertape.market.dataset_import import import_dataset
from papertape.store.base import MarketDataStore

router = APIRouter(tags=["datasets"])

StoreDep = Annotated[MarketDataStore, Depends(get_store)]
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

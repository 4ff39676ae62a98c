"""Datasets: import a file of trades, candles or book snapshots; list them (charts of what is
recorded: ``routes_candles``)."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from fastapi.responses import JSONResponse

from papertape.api.deps import get_store
from papertape.api.envelope import ok
from papertape.api.schemas import ERRORS, DatasetListResponse, DatasetResponse
from papertape.domain.errors import DatasetNotFound
from papertape.domain.market import iso
from papertape.domain.records import Dataset, check_dataset_name
from papertape.market.importers import import_dataset
from papertape.store.base import Store

router = APIRouter(tags=["datasets"])

StoreDep = Annotated[Store, Depends(get_store)]


def dataset_view(dataset: Dataset) -> dict:
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
    # saved under the upload's own name, so what the importer says names the user's file
    upload_name = FilePath(file.filename or "upload").name[-100:] or "upload"
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / upload_name
        with path.open("wb") as handle:
            while chunk := await file.read(1 << 20):
                handle.write(chunk)
        dataset = await import_dataset(store, path, name, symbol=symbol or None, kind=kind)
    dataset = dataset._replace(origin=file.filename or dataset.origin)
    await store.save_dataset(dataset)
    return JSONResponse(ok("dataset_imported", dataset_view(dataset)), status_code=201)


@router.get("/datasets", response_model=DatasetListResponse, responses=ERRORS)
async def list_datasets(store: StoreDep) -> dict:
    return ok(
        "datasets_listed", {"datasets": [dataset_view(d) for d in await store.list_datasets()]}
    )


@router.get("/datasets/{name}", response_model=DatasetResponse, responses=ERRORS)
async def get_dataset(name: Annotated[str, Path(max_length=200)], store: StoreDep) -> dict:
    dataset = await store.get_dataset(name)
    if dataset is None:
        raise DatasetNotFound(f"dataset {name!r} not found")
    return ok("dataset_found", dataset_view(dataset))

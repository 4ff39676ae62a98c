"""Candles of any recorded symbol (a dataset, or what a session recorded) at any interval:
stored bars of that interval, else finer stored bars resampled, else bars built from the
recorded trades; a page of at most ``limit`` bars ending at ``end_us``, with where the next
older page ends so a chart can load history as the user scrolls back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from papertape.api.deps import get_store
from papertape.api.envelope import ok, ok_built
from papertape.api.schemas import ERRORS, TS_US_MAX, CandlesResponse
from papertape.domain.errors import DatasetNotFound, ValidationFailed
from papertape.domain.market import MICROS, iso
from papertape.domain.symbols import canonical
from papertape.market.bars import read_bars
from papertape.store.base import MarketDataStore

router = APIRouter(tags=["datasets"])

StoreDep = Annotated[MarketDataStore, Depends(get_store)]
MAX_BARS = 20_000


@router.get("/data/{source}/candles", response_model=CandlesResponse, responses=ERRORS)
async def chart_candles(
    source: Annotated[str, Path(max_length=200, description="a dataset name or a session id")],
    store: StoreDep,
    symbol: Annotated[str, Query(min_length=1, max_length=50)],
    interval: Annotated[int, Query(ge=1, le=7 * 86_400, description="seconds")] = 60,
    start_us: Annotated[int, Query(ge=0, le=TS_US_MAX, description="µs since the epoch")] = 0,
    end_us: Annotated[
        int, Query(ge=0, le=TS_US_MAX, description="bars opening before this time (µs)")
    ] = TS_US_MAX,
    limit: Annotated[int, Query(ge=1, le=MAX_BARS, description="at most this many bars")] = 5_000,
) -> dict[str, Any] | Response:
    """The last ``limit`` bars of ``symbol`` under ``source`` before ``end_us`` (oldest first).
    ``next_end_us`` is set when older bars exist: pass it as ``end_us`` for the page before."""
    try:
        wanted = canonical(symbol)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), details=[{"field": "symbol", "message": str(exc)}]
        ) from exc
    ranges = await _recorded_ranges(store, source, wanted)
    data = {"source": source, "symbol": wanted, "interval": interval, "next_end_us": None}
    if not ranges:
        return ok("candles_listed", {**data, "items": [], "built_from": None})
    first = min(r[0] for r in ranges)
    end = min(end_us, max(r[1] for r in ranges) + 1)
    step = interval * MICROS
    last_open = (end - 1) - (end - 1) % step
    window_start = max(start_us, last_open - (limit - 1) * step, first - first % step)
    candles, built_from = await read_bars(store, source, wanted, interval, window_start, end)
    older = window_start > max(first, start_us)

    def page() -> dict[str, Any]:
        items = [
            {
                "ts": iso(c.ts),
                "time": c.ts // MICROS,
                "open": c.open,
                "high": c.high,
                "low": c.low,
                "close": c.close,
                "volume": c.volume,
            }
            for c in candles[-limit:]
        ]
        return {
            **data,
            "items": items,
            "built_from": built_from,
            "next_end_us": window_start if older else None,
        }

    return await ok_built("candles_listed", page)


async def _recorded_ranges(
    store: MarketDataStore, source: str, symbol: str
) -> list[tuple[int, int]]:
    """The time ranges of ``symbol``'s candles or trades under ``source``. An imported dataset's
    record says them (it never changes after its import: one row read); a session's recording
    grows, and only the market summary, which counts what is stored, knows it (a chart read
    every few seconds paid for that count over a whole dataset before)."""
    dataset = await store.get_dataset(source)
    if dataset is not None and dataset.start_ts is not None and dataset.end_ts is not None:
        held = dataset.kind in ("candles", "trades") and symbol in dataset.symbols
        return [(dataset.start_ts, dataset.end_ts)] if held else []
    summary = await store.market_summary(source)
    if not summary:
        raise DatasetNotFound(f"nothing is recorded under {source!r}")
    return [
        (part["start_ts"], part["end_ts"])
        for kind, part in summary.items()
        if kind in ("candles", "trades") and symbol in part["symbols"]
    ]

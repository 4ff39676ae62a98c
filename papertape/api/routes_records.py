"""The trading record of a session: orders, fills, positions, equity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from papertape.api.deps import get_service
from papertape.api.envelope import ok_built
from papertape.api.schemas import (
    ERRORS,
    EquityResponse,
    FillsResponse,
    FundingResponse,
    OrdersResponse,
    PositionsResponse,
)
from papertape.domain.market import iso
from papertape.domain.orders import OrderStatus
from papertape.domain.records import OrderRecord, PositionRecord
from papertape.sessions.service import SessionService

router = APIRouter(tags=["trading record"])

Service = Annotated[SessionService, Depends(get_service)]
SessionIdPath = Annotated[str, Path(min_length=1, max_length=200)]
TIME_FIELDS = ("ts", "created_ts")


def record_view(row: NamedTuple) -> dict[str, Any]:
    view = row._asdict()
    view.pop("session_id", None)
    for field in TIME_FIELDS:
        if field in view:
            view[f"{field}_us"] = view[field]
            view[field] = iso(view[field])
    return view


async def _records(
    service: SessionService,
    session_id: str,
    status: str,
    read: Callable[[str], Awaitable[Sequence[NamedTuple]]],
) -> Response:
    await service.get(session_id)  # 404 for an unknown session, never an empty list
    rows = await read(session_id)
    return await ok_built(
        status, lambda: {"session_id": session_id, "items": [record_view(r) for r in rows]}
    )


@router.get("/sessions/{session_id}/orders", response_model=OrdersResponse, responses=ERRORS)
async def list_orders(
    session_id: SessionIdPath,
    service: Service,
    open_only: Annotated[
        bool,
        Query(
            alias="open",
            description="only the orders still working (open or partially filled): a long "
            "backtest's record holds thousands of done ones",
        ),
    ] = False,
) -> Response:
    """Each order in its newest state, oldest first."""

    async def read(sid: str) -> Sequence[OrderRecord]:
        rows = await service.store.list_orders(sid)
        return [o for o in rows if OrderStatus(o.status).live] if open_only else rows

    return await _records(service, session_id, "orders_listed", read)


@router.get("/sessions/{session_id}/fills", response_model=FillsResponse, responses=ERRORS)
async def list_fills(session_id: SessionIdPath, service: Service) -> Response:
    return await _records(service, session_id, "fills_listed", service.store.list_fills)


@router.get("/sessions/{session_id}/positions", response_model=PositionsResponse, responses=ERRORS)
async def list_positions(session_id: SessionIdPath, service: Service) -> Response:
    """The newest position per symbol. The record keeps a position as of its last fill; for a
    session running here, open positions are shown marked to the latest price."""

    async def read(sid: str) -> list[PositionRecord]:
        rows = await service.store.list_positions(sid)
        running = service.runtime(sid) or {}  # its engine's view, wherever it runs
        marks = {p["symbol"]: p for p in running.get("positions", [])}
        return [_marked(row, marks.get(row.symbol)) for row in rows]

    return await _records(service, session_id, "positions_listed", read)


def _marked(row: PositionRecord, now: dict[str, Any] | None) -> PositionRecord:
    if now is None or row.qty == 0 or now.get("mark") is None:
        return row
    return row._replace(mark_price=now["mark"], unrealized_pnl=now["unrealized_pnl"])


@router.get("/sessions/{session_id}/equity", response_model=EquityResponse, responses=ERRORS)
async def list_equity(
    session_id: SessionIdPath,
    service: Service,
    limit: Annotated[int, Query(ge=2, le=100_000)] = 5_000,
) -> Response:
    """Equity points, oldest first, evenly thinned to ``limit``."""

    async def read(sid: str) -> Sequence[NamedTuple]:
        return await service.store.list_equity(sid, limit)

    return await _records(service, session_id, "equity_listed", read)


@router.get("/sessions/{session_id}/funding", response_model=FundingResponse, responses=ERRORS)
async def list_funding(session_id: SessionIdPath, service: Service) -> Response:
    """Funding payments of the perpetual positions, oldest first: ``amount`` is the cash
    received (negative = paid), ``rate × qty × mark_price`` with the sign the rate gives;
    ``price_source`` says which price valued the position (``settlement``, ``mark``, ``last``)."""
    return await _records(service, session_id, "funding_listed", service.store.list_funding)

"""A session's closed trades (round trips, flat to flat), rebuilt from its recorded fills and
funding payments with the same portfolio accounting the engine used (``engine.snapshot.fold``,
what a resumed session is checked against), so the table matches the session's metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from papertape.api.deps import get_service
from papertape.api.envelope import ok_built
from papertape.api.schemas import ERRORS, TradesResponse
from papertape.domain.config import SessionConfig
from papertape.domain.market import MICROS, iso
from papertape.domain.portfolio import Portfolio, RoundTrip
from papertape.engine.snapshot import fold
from papertape.sessions.service import SessionService

router = APIRouter(tags=["trading record"])

Service = Annotated[SessionService, Depends(get_service)]


def trade_view(trip: RoundTrip) -> dict[str, Any]:
    return {
        "symbol": trip.symbol,
        "direction": trip.direction,
        "entry_ts": iso(trip.entry_ts),
        "exit_ts": iso(trip.exit_ts),
        "duration_s": (trip.exit_ts - trip.entry_ts) / MICROS,
        "qty": trip.qty,
        "entry_price": trip.entry_price,
        "exit_price": trip.exit_price,
        "gross_pnl": trip.pnl + trip.fees - trip.funding,
        "fees": trip.fees,
        "funding": trip.funding,
        "pnl": trip.pnl,
        "return_pct": trip.return_pct,
    }


@router.get("/sessions/{session_id}/trades", response_model=TradesResponse, responses=ERRORS)
async def list_trades(
    session_id: Annotated[str, Path(min_length=1, max_length=200)], service: Service
) -> Response:
    """Closed trades, oldest exit first. A position still open is not a trade yet."""
    session = await service.get(session_id)
    config = SessionConfig.model_validate(session.config)
    fills = await service.store.list_fills(session_id)
    funding = await service.store.list_funding(session_id)

    def build() -> dict[str, Any]:
        like = Portfolio(config.cash, config.market.market_type, config.leverage)
        trips = fold(config.cash, like, fills, session_id, funding).trips
        return {"session_id": session_id, "items": [trade_view(t) for t in trips]}

    return await ok_built("trades_listed", build)

"""A session's closed trades (round trips, flat to flat), rebuilt from its recorded fills with
the same portfolio accounting the engine used, so the table matches the session's metrics."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from papertape.api.deps import get_service
from papertape.api.envelope import ok
from papertape.api.schemas import ERRORS
from papertape.domain.market import MICROS, iso
from papertape.domain.orders import Fill
from papertape.domain.portfolio import Portfolio, RoundTrip
from papertape.domain.records import FillRecord
from papertape.sessions.service import SessionService

router = APIRouter(tags=["trading record"])

Service = Annotated[SessionService, Depends(get_service)]


class TradeView(BaseModel):
    symbol: str
    direction: Literal["long", "short"]
    entry_ts: str
    exit_ts: str
    duration_s: float
    qty: float = Field(description="the largest size held")
    entry_price: float = Field(description="volume-weighted")
    exit_price: float = Field(description="volume-weighted")
    gross_pnl: float = Field(description="before fees")
    fees: float
    pnl: float = Field(description="net of every fee paid during the trade")
    return_pct: float = Field(description="net PnL relative to the entry notional")


class TradesData(BaseModel):
    session_id: str
    items: list[TradeView]


class TradesResponse(BaseModel):
    status: Literal["trades_listed"]
    data: TradesData


def round_trips(fills: list[FillRecord], cash: float, market_type: str, leverage: float) -> list:
    """The round trips the fills close, in the order they closed."""
    portfolio = Portfolio(cash, market_type, leverage)
    for f in sorted(fills, key=lambda r: r.ts):
        portfolio.apply_fill(
            Fill(f.fill_id, f.order_id, f.ts, f.symbol, f.side, f.qty, f.price, f.fee, f.liquidity)
        )
    return portfolio.trips


def trade_view(trip: RoundTrip) -> dict:
    return {
        "symbol": trip.symbol,
        "direction": trip.direction,
        "entry_ts": iso(trip.entry_ts),
        "exit_ts": iso(trip.exit_ts),
        "duration_s": (trip.exit_ts - trip.entry_ts) / MICROS,
        "qty": trip.qty,
        "entry_price": trip.entry_price,
        "exit_price": trip.exit_price,
        "gross_pnl": trip.pnl + trip.fees,
        "fees": trip.fees,
        "pnl": trip.pnl,
        "return_pct": trip.return_pct,
    }


@router.get("/sessions/{session_id}/trades", response_model=TradesResponse, responses=ERRORS)
async def list_trades(
    session_id: Annotated[str, Path(min_length=1, max_length=200)], service: Service
) -> dict:
    """Closed trades, oldest exit first. A position still open is not a trade yet."""
    session = await service.get(session_id)
    config = session.config
    fills = await service.store.list_fills(session_id)
    trips = round_trips(
        fills,
        float(config.get("cash", 10_000.0)),
        str(config.get("market", {}).get("market_type", "spot")),
        float(config.get("leverage", 1.0)),
    )
    return ok("trades_listed", {"session_id": session_id, "items": [trade_view(t) for t in trips]})

"""``GET /markets``: an exchange's tradable markets for the dashboard's symbol search, from the
market list loaded once per exchange (``papertape.market.exchange.connector``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from papertape.api.envelope import ok
from papertape.api.schemas import ERRORS, ErrorResponse
from papertape.market.exchange import exchange_module

router = APIRouter(tags=["markets"])


class MarketView(BaseModel):
    symbol: str
    exchange_symbol: str | None
    base: str | None
    quote: str | None
    market_type: str
    active: bool
    price_precision: float | None
    amount_precision: float | None
    min_amount: float | None
    min_cost: float | None


class MarketsData(BaseModel):
    exchange: str
    market_type: str
    total: int
    markets: list[MarketView]


class MarketsResponse(BaseModel):
    status: str
    data: MarketsData


@router.get(
    "/markets",
    response_model=MarketsResponse,
    responses={
        **ERRORS,
        503: {
            "model": ErrorResponse,
            "description": "the exchange is unreachable (exchange_unavailable)",
        },
    },
)
async def list_markets(
    exchange: Annotated[
        str, Query(min_length=1, max_length=40, description="a ccxt exchange id")
    ] = "mexc",
    market_type: Annotated[Literal["spot", "swap"], Query()] = "spot",
    q: Annotated[
        str | None, Query(max_length=40, description="case-insensitive substring of the symbol")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 5000,
) -> JSONResponse:
    """Markets of one type on one exchange, canonical symbols (``BTC_USDT``), sorted. Unknown
    exchange → ``422 unknown_exchange``; exchange unreachable → ``503 exchange_unavailable``."""
    connector = await exchange_module("connector")
    rows = await connector.default_hub().list_markets(exchange, market_type)
    if q:
        needle = q.strip().upper().replace("/", "_").replace("-", "_")
        rows = [r for r in rows if needle in r["symbol"]]
    return JSONResponse(
        ok(
            "markets_listed",
            {
                "exchange": exchange,
                "market_type": market_type,
                "total": len(rows),
                "markets": rows[:limit],
            },
        )
    )

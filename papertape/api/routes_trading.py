"""Trading routes: the strategy catalog (``GET/POST /strategies``) and manual paper orders
(``POST /sessions/{id}/orders``)."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from papertape.api.deps import get_service, get_store
from papertape.api.envelope import ok
from papertape.api.schemas import (
    ERRORS,
    OrderPlacedResponse,
    StrategiesResponse,
    StrategySavedResponse,
)
from papertape.domain.errors import SessionNotRunning, ValidationFailed
from papertape.domain.numbers import finite
from papertape.domain.orders import ManualOrder, OrderType, Side
from papertape.domain.records import SavedStrategy
from papertape.domain.session import Mode
from papertape.domain.symbols import canonical
from papertape.sessions.consumers.trading import TradingConsumer
from papertape.sessions.service import SessionService
from papertape.sessions.strategy_catalog import check_saveable, list_strategies
from papertape.store.base import StrategyStore

router = APIRouter()
StoreDep = Annotated[StrategyStore, Depends(get_store)]
ServiceDep = Annotated[SessionService, Depends(get_service)]

STRATEGY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class SaveStrategyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="letters, digits, _ . -")
    base: str = Field(
        "rules",
        min_length=1,
        max_length=100,
        description="the built-in it configures: rules, sma_cross, ...",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="for rules: the rule definition"
    )
    description: str = Field("", max_length=2_000)


class OrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=50)
    side: Side
    type: OrderType = OrderType.MARKET
    qty: float = Field(gt=0, le=1e12, description="base-currency quantity")
    price: float | None = Field(None, gt=0, le=1e12, description="limit price")
    stop_price: float | None = Field(None, gt=0, le=1e12)
    client_order_id: str = Field("", max_length=100)


@router.get("/strategies", response_model=StrategiesResponse, tags=["strategies"], responses=ERRORS)
async def get_strategies(store: StoreDep) -> dict[str, Any]:
    """Built-in strategies with their parameter JSON schemas, rule examples, saved strategies."""
    saved = await store.list_strategies()
    return ok("strategies", {"strategies": list_strategies(saved)})


@router.post(
    "/strategies",
    status_code=201,
    response_model=StrategySavedResponse,
    tags=["strategies"],
    responses=ERRORS,
)
async def save_strategy(body: SaveStrategyBody, store: StoreDep) -> dict[str, Any]:
    """Validate and save (create or replace) a user's strategy, e.g. a rule strategy."""
    if not STRATEGY_NAME.match(body.name):
        raise ValidationFailed(
            f"invalid strategy name {body.name!r}",
            details=[{"field": "name", "message": "letters, digits, '_', '.', '-'"}],
        )
    plan = check_saveable(body.name, body.base, body.params)
    now = time.time_ns() // 1_000
    existing = await store.get_strategy(body.name)
    params = plan.params.model_dump(mode="json", by_alias=True, exclude_unset=True)
    saved = SavedStrategy(
        name=body.name,
        base=plan.cls.name,
        params=params,
        created_at=existing.created_at if existing else now,
        updated_at=now,
        description=body.description,
    )
    await store.save_strategy(saved)
    return ok(
        "strategy_saved",
        {
            "name": saved.name,
            "base": saved.base,
            "params": saved.params,
            "description": saved.description,
            "created_at": saved.created_at,
            "updated_at": saved.updated_at,
        },
    )


@router.post(
    "/sessions/{session_id}/orders",
    status_code=201,
    response_model=OrderPlacedResponse,
    tags=["sessions"],
    responses=ERRORS,
)
async def place_order(session_id: str, body: OrderBody, service: ServiceDep) -> dict[str, Any]:
    """Place a manual order in a running paper session (404 unknown session, 409 not
    running, 422 ``order_rejected`` naming the field or risk rule)."""
    session = await service.get(session_id)
    if session.mode not in (Mode.PAPER, Mode.LIVE):
        raise SessionNotRunning(
            f"session {session_id} is a {session.mode} session: only paper and live sessions "
            "take manual orders",
            session_id=session_id,
        )
    try:
        symbol = canonical(body.symbol)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), details=[{"field": "symbol", "message": str(exc)}]
        ) from None
    consumer = service.running_consumer(session_id, TradingConsumer)  # live: its subclass
    order = await consumer.place_manual_order(
        ManualOrder(
            symbol,
            body.side,
            body.type,
            body.qty,
            price=body.price,
            stop_price=body.stop_price,
            client_order_id=body.client_order_id,
        )
    )
    return ok("order_placed", {"order": finite(order.record(session_id)._asdict())})

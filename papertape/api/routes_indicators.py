"""The indicators a session's strategies read, as series over its price chart (the SMAs of
``sma_cross``, a rule strategy's EMAs and Bollinger bands): computed on the bars the strategy
trades (its ``bar_interval``) from the session's market data, so the lines are the ones its
decisions were made on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from papertape.api.deps import get_service
from papertape.api.envelope import ok
from papertape.api.schemas import ERRORS, TS_US_MAX, IndicatorsResponse
from papertape.domain.config import SessionConfig
from papertape.domain.errors import ValidationFailed
from papertape.domain.market import MICROS
from papertape.domain.symbols import canonical
from papertape.market.bars import read_bars
from papertape.sessions.service import SessionService
from papertape.sessions.strategy_catalog import resolve_strategies

router = APIRouter(tags=["trading record"])

Service = Annotated[SessionService, Depends(get_service)]
MAX_BARS = 200_000


@router.get(
    "/sessions/{session_id}/indicators", response_model=IndicatorsResponse, responses=ERRORS
)
async def list_indicators(
    session_id: Annotated[str, Path(min_length=1, max_length=200)],
    service: Service,
    symbol: Annotated[str, Query(min_length=1, max_length=50)],
    end_us: Annotated[
        int, Query(ge=0, le=TS_US_MAX, description="bars opening before this time (µs)")
    ] = TS_US_MAX,
) -> dict[str, Any]:
    """Each price-overlay indicator of each strategy (its price outputs: a Bollinger indicator's
    three bands, not its width), one point per bar (``time`` in seconds,
    the bar's open), from the first bar with a value. Empty for a session without strategies."""
    session = await service.get(session_id)
    try:
        wanted = canonical(symbol)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), details=[{"field": "symbol", "message": str(exc)}]
        ) from exc
    config = SessionConfig.model_validate(session.config)
    plans = await resolve_strategies(service.store, config.strategies)
    market = config.market
    source = market.dataset if market.source == "replay" and market.dataset else session_id
    series: list[dict[str, Any]] = []
    for plan in plans:
        indicators = plan.cls.chart_indicators(plan.params)
        if not indicators:
            continue
        interval = plan.params.bar_interval
        bars, _ = await read_bars(service.store, source, wanted, interval, 0, end_us)
        bars = bars[-MAX_BARS:]
        points: dict[tuple[str, str], list[dict[str, Any]]] = {
            (name, output): []
            for name, (ind, _) in indicators.items()
            for output in ind.price_outputs
        }
        for bar in bars:
            for name, (indicator, field) in indicators.items():
                indicator.update(getattr(bar, field))
                for output in indicator.price_outputs:
                    value = indicator.output(output)
                    if value is not None:
                        points[(name, output)].append({"time": bar.ts // MICROS, "value": value})
        series += [
            {
                "strategy": plan.label,
                "name": name,
                "output": output,
                "bar_interval": interval,
                "points": found,
            }
            for (name, output), found in points.items()
        ]
    return ok("indicators_listed", {"session_id": session_id, "symbol": wanted, "series": series})

"""The indicators a session's strategies read, as series over its price chart (the SMAs of
``sma_cross``, a rule strategy's EMAs and Bollinger bands): computed on the bars the strategy
trades (its ``bar_interval``) from the session's market data, so the lines are the ones its
decisions were made on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from papertape.api.deps import get_service
from papertape.api.envelope import ok_built
from papertape.api.schemas import ERRORS, TS_US_MAX, IndicatorsResponse
from papertape.domain.config import SessionConfig
from papertape.domain.errors import ValidationFailed
from papertape.domain.market import MICROS, Candle
from papertape.domain.symbols import canonical
from papertape.engine.core import StrategyPlan
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
    start_us: Annotated[
        int,
        Query(
            ge=0,
            le=TS_US_MAX,
            description="points of bars opening at or after this time (µs): the chart's oldest "
            "bar; the indicators are still computed from the first bar, so the values are the "
            "strategy's",
        ),
    ] = 0,
) -> Response:
    """Each price-overlay indicator of each strategy (its price outputs: a Bollinger indicator's
    three bands, not its width), one point per bar (``time`` in seconds,
    the bar's open), from the first bar with a value (or ``start_us``). Empty for a session
    without strategies. Computed and encoded in a worker thread: a 180k-bar backtest's
    indicators took the event loop for seconds."""
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
    charted: list[tuple[StrategyPlan, dict[str, Any], list[Candle]]] = []
    for plan in plans:
        indicators = plan.cls.chart_indicators(plan.params)
        if indicators:
            bars, _ = await read_bars(
                service.store, source, wanted, plan.params.bar_interval, 0, end_us
            )
            charted.append((plan, indicators, bars[-MAX_BARS:]))

    def build() -> dict[str, Any]:
        series: list[dict[str, Any]] = []
        for plan, indicators, bars in charted:
            series += _series(plan.label, plan.params.bar_interval, indicators, bars, start_us)
        return {"session_id": session_id, "symbol": wanted, "series": series}

    return await ok_built("indicators_listed", build)


def _series(
    label: str, interval: int, indicators: dict[str, Any], bars: list[Candle], start_us: int
) -> list[dict[str, Any]]:
    points: dict[tuple[str, str], list[dict[str, Any]]] = {
        (name, output): [] for name, (ind, _) in indicators.items() for output in ind.price_outputs
    }
    for bar in bars:
        for name, (indicator, field) in indicators.items():
            indicator.update(getattr(bar, field))
            if bar.ts < start_us:
                continue
            for output in indicator.price_outputs:
                value = indicator.output(output)
                if value is not None:
                    points[(name, output)].append({"time": bar.ts // MICROS, "value": value})
    return [
        {
            "strategy": label,
            "name": name,
            "output": output,
            "bar_interval": interval,
            "points": found,
        }
        for (name, output), found in points.items()
    ]

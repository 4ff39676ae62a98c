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
from papertape.api.indicator_series import IndicatorCache, IndicatorProgress
from papertape.api.schemas import ERRORS, TS_US_MAX, IndicatorsResponse
from papertape.domain.bar_columns import BarColumns
from papertape.domain.config import SessionConfig
from papertape.domain.errors import ValidationFailed
from papertape.domain.symbols import canonical
from papertape.engine.core import StrategyPlan
from papertape.market.bars import read_bar_columns
from papertape.sessions.service import SessionService
from papertape.sessions.strategy_catalog import resolve_strategies

router = APIRouter(tags=["trading record"])

Service = Annotated[SessionService, Depends(get_service)]
MAX_BARS = 200_000
cache = IndicatorCache()


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
    every: Annotated[
        int | None,
        Query(
            ge=1,
            le=7 * 86_400,
            description="at most one point per this many seconds, the last in each (a chart of "
            "that interval draws one per bar)",
        ),
    ] = None,
) -> Response:
    """Each price-overlay indicator of each strategy (its price outputs: a Bollinger indicator's
    three bands, not its width), one point per bar (``time`` in seconds,
    the bar's open), from the first bar with a value (or ``start_us``). Empty for a session
    without strategies. Computed and encoded in a worker thread (a 180k-bar backtest's
    indicators took the event loop for seconds), and over a replayed dataset computed once and
    extended as the replay advances (``papertape.api.indicator_series``)."""
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
    replayed = market.dataset if market.source == "replay" and market.dataset else None
    # a dataset never changes once imported (a new one under the same name is a new version)
    dataset = await service.store.get_dataset(replayed) if replayed else None
    source = replayed or session_id
    charted: list[tuple[StrategyPlan, IndicatorProgress, BarColumns]] = []
    for plan in plans:
        indicators = plan.cls.chart_indicators(plan.params)
        if not indicators:
            continue
        interval = plan.params.bar_interval

        def make(made: dict[str, Any] = indicators, seconds: int = interval) -> IndicatorProgress:
            return IndicatorProgress(made, seconds)

        progress = (
            cache.progress(
                (
                    id(service.store),
                    source,
                    dataset.created_at,
                    wanted,
                    plan.label,
                    repr(plan.params),
                ),
                make,
            )
            if dataset is not None
            else make()
        )
        bars = await read_bar_columns(
            service.store, source, wanted, interval, progress.next_ts, end_us
        )
        charted.append((plan, progress, bars.last(MAX_BARS)))

    def build() -> dict[str, Any]:
        series: list[dict[str, Any]] = []
        for plan, progress, bars in charted:
            lines = progress.series(bars, start_us, end_us, every)
            series += [
                {
                    "strategy": plan.label,
                    "name": name,
                    "output": output,
                    "bar_interval": plan.params.bar_interval,
                    "points": points,
                }
                for (name, output), points in lines.items()
            ]
        return {"session_id": session_id, "symbol": wanted, "series": series}

    return await ok_built("indicators_listed", build)

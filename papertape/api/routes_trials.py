"""A sweep session's trials: ``GET /sessions/{id}/trials``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from papertape.api.deps import get_service
from papertape.api.envelope import ok
from papertape.api.schemas import ERRORS
from papertape.domain.config import SessionConfig
from papertape.domain.errors import ValidationFailed
from papertape.domain.session import Mode
from papertape.domain.trials import TrialRecord
from papertape.research.sweep import best_of
from papertape.sessions.consumers.sweep import sweep_spec, trial_of
from papertape.sessions.service import SessionService

router = APIRouter(tags=["sweeps"])

Service = Annotated[SessionService, Depends(get_service)]
SessionIdPath = Annotated[str, Path(min_length=1, max_length=200)]


class TrialView(BaseModel):
    number: int = Field(description="the order the search proposed it in")
    params: dict[str, Any] = Field(description="every strategy parameter of the trial")
    metrics: dict[str, Any] | None = Field(
        None, description="as `papertape backtest --json` reports them"
    )
    score: float | None = Field(None, description="the objective; null: not rankable")
    engine: Literal["vectorised", "event"] | None = Field(
        None,
        description="what computed the metrics: the vectorised fast path or the event engine "
        "(the same metrics either way); null: recorded before the engine was kept",
    )


class SkippedView(BaseModel):
    number: int
    params: dict[str, Any]
    error: str = Field(description="why the strategy refused these parameters")


class TrialsData(BaseModel):
    session_id: str
    objective: str
    min_trades: int
    search: str
    total: int = Field(description="trials the sweep will have run when complete")
    axes: list[dict[str, Any]] = Field(description="the swept parameters, in grid order")
    trials: list[TrialView]
    skipped: list[SkippedView]
    best: TrialView | None


class TrialsResponse(BaseModel):
    status: Literal["trials_listed"]
    data: TrialsData


def _view(record: TrialRecord) -> dict[str, Any]:
    return {
        "number": record.number,
        "params": record.params,
        "metrics": record.metrics,
        "score": record.score,
        "engine": record.engine,
    }


@router.get("/sessions/{session_id}/trials", response_model=TrialsResponse, responses=ERRORS)
async def list_trials(session_id: SessionIdPath, service: Service) -> dict[str, Any]:
    """The trials a sweep session recorded so far, by number; ``best`` by its objective."""
    session = await service.get(session_id)
    if session.mode is not Mode.SWEEP:
        raise ValidationFailed(
            f"session {session_id} is a {session.mode.value} session, not a sweep",
            details=[{"field": "session_id", "message": "not a sweep session"}],
            session_id=session_id,
        )
    spec = sweep_spec(SessionConfig.model_validate(session.config))
    records = await service.store.list_trials(session_id)
    best = best_of([trial_of(r) for r in records])
    by_number = {r.number: r for r in records}
    return ok(
        "trials_listed",
        {
            "session_id": session_id,
            "objective": spec.objective,
            "min_trades": spec.min_trades,
            "search": spec.search,
            "total": spec.total,
            "axes": [a.as_json() for a in spec.axes],
            "trials": [_view(r) for r in records if r.metrics is not None],
            "skipped": [
                {"number": r.number, "params": r.params, "error": r.error}
                for r in records
                if r.metrics is None
            ],
            "best": None if best is None else _view(by_number[best.number]),
        },
    )

"""A sweep session's trial as the store keeps it."""

from __future__ import annotations

from typing import Any, NamedTuple


class TrialRecord(NamedTuple):
    """One parameter set a sweep tried: ``number`` orders the trials of the session (the order
    the search proposed them); ``metrics`` are the backtest's, or ``error`` says why the strategy
    refused the parameters; ``score`` is the objective (``None``: not rankable); ``ts`` (µs) when
    it was recorded; ``engine`` what computed the metrics (``"vectorised"``: the fast path,
    ``"event"``: the event engine; ``None``: refused, or recorded before the engine was kept)."""

    session_id: str
    number: int
    ts: int
    params: dict[str, Any]
    metrics: dict[str, Any] | None
    error: str | None
    score: float | None
    engine: str | None = None

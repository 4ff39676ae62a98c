"""Sweep trials as SQL rows (both stores keep params and metrics as JSON text), in the order of
``TRIAL_COLUMNS``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from papertape.domain.trials import TrialRecord

TRIAL_COLUMNS = ("session_id", "number", "ts", "params", "metrics", "error", "score", "engine")


def trial_row(t: TrialRecord) -> tuple[Any, ...]:
    metrics = None if t.metrics is None else json.dumps(t.metrics)
    return (
        t.session_id,
        t.number,
        t.ts,
        json.dumps(t.params),
        metrics,
        t.error,
        t.score,
        t.engine,
    )


def trial_from_row(row: Sequence[Any]) -> TrialRecord:
    session_id, number, ts, params, metrics, error, score, engine = row[:8]
    return TrialRecord(
        session_id,
        int(number),
        int(ts),
        json.loads(params),
        None if metrics is None else json.loads(metrics),
        error,
        None if score is None else float(score),
        engine,
    )

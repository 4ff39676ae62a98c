"""The uncrashed run a crashed session must match: the same session's engine, run in this process
over the same market data in one go, with the user's manual orders placed where the session
placed them (its ``manual_order`` events say after which event) and, for a session stopped by a
user, ended where its record ends."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from papertape.api.routes_records import record_view
from papertape.domain.config import SessionConfig
from papertape.domain.market import MarketEvent, StreamPosition
from papertape.domain.numbers import finite
from papertape.domain.records import RecordBatch
from papertape.engine.core import Engine
from papertape.sessions.consumers.trading import engine_config
from papertape.sessions.strategy_catalog import plan_for


@dataclass
class Reference:
    fills: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    positions: list[dict[str, Any]]
    equity: list[dict[str, Any]]
    results: dict[str, Any]


def index_of(events: list[MarketEvent], timestamps: list[int], position: StreamPosition) -> int:
    """How many events of the stream ``position`` covers."""
    return min(bisect.bisect_left(timestamps, position.ts) + position.seen, len(events))


def reference_run(
    session: dict[str, Any],
    events: list[MarketEvent],
    manual: list[tuple[StreamPosition, dict[str, Any]]],
    end: StreamPosition | None,
) -> Reference:
    """``session``: the API's view of it (config, state); ``manual``: where each manual order
    was placed and its order record (API view); ``end``: where a stopped session's record ends
    (None: the data's end)."""
    config = SessionConfig.model_validate(session["config"])
    identity = SimpleNamespace(session_id=session["session_id"])
    engine = Engine(engine_config(identity, config), [plan_for(s) for s in config.strategies])
    engine.start()
    timestamps = [e.ts for e in events]
    stop = len(events) if end is None else index_of(events, timestamps, end)
    done = 0
    for position, order in sorted(manual, key=lambda m: (m[0].ts, m[0].count)):
        upto = index_of(events, timestamps, position)
        engine.process(events[done:upto])
        done = upto
        engine.place_manual_order(
            order["symbol"],
            order["side"],
            order["type"],
            order["qty"],
            price=order["price"],
            stop_price=order["stop_price"],
            client_order_id=order["client_order_id"],
        )
    engine.process(events[done:stop])
    reason = "completed" if session["state"] == "completed" else "cancelled"
    engine.stop()
    engine.venue.cancel_all(engine.ts, f"session_{reason}")
    results = finite(engine.metrics())
    return _as_stored(engine.drain(), results)


def _as_stored(record: RecordBatch, results: dict[str, Any]) -> Reference:
    """What the store keeps of a record, as the API shows it: the newest row per order and per
    position, one equity point per timestamp."""
    orders = {o.order_id: o for o in record.orders}
    positions: dict[str, Any] = {}
    for p in record.positions:
        if p.symbol not in positions or p.ts >= positions[p.symbol].ts:
            positions[p.symbol] = p
    equity = {p.ts: p for p in record.equity}
    return Reference(
        fills=[record_view(f) for f in sorted(record.fills, key=lambda f: (f.ts, f.fill_id))],
        orders=[
            record_view(o)
            for o in sorted(orders.values(), key=lambda o: (o.created_ts, o.order_id))
        ],
        positions=[record_view(positions[s]) for s in sorted(positions)],
        equity=[record_view(equity[ts]) for ts in sorted(equity)],
        results=results,
    )

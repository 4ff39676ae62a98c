"""Engine snapshots: how a session resumes exactly where its durable record ends.

A trading session commits its record in steps (``Store.commit``): the rows and tape events the
engine produced since the last step, the position in the market data they cover, and the
engine's whole state right after them (``freeze``) — all durable together or not at all. After a
crash the session thaws that state and the source continues from that position, so the engine
sees the same data in the same order and, being deterministic, produces the same record as a run
that never crashed: the same order and fill ids, prices, quantities, fees and equity points.
Strategy state (indicators, trailing stops, cooldowns) and risk state (daily-loss counters, the
drawdown peak) are part of the engine's state, so they continue as if nothing happened.

Two things are left out of a snapshot because the record already holds them and they grow with
the run: the equity curve (the recorded equity points, one per timestamp) and the closed round
trips (rebuilt by folding the recorded fills). The fold is also the resume's proof: the
portfolio a session resumes with must equal the fold of its recorded fills, or the session fails
with ``record_inconsistent`` naming the first fill that does not fit — never with an error from
deep inside the venue.

A snapshot is a pickle of the engine's objects, so it only loads into the code that wrote it:
each carries ``SNAPSHOT_FORMAT`` and the papertape version, and a snapshot of another format is
refused with ``resume_state_unreadable`` (the session keeps its record and says why) instead of
resuming into objects that miss a field and failing somewhere in the middle of a run.
"""

from __future__ import annotations

import math
import pickle
from collections import defaultdict
from collections.abc import Sequence

from papertape import __version__
from papertape.domain.errors import PapertapeError
from papertape.domain.funding import FundingPayment
from papertape.domain.portfolio import Portfolio
from papertape.domain.records import Fill, OrderRecord, RecordBatch
from papertape.engine.core import Engine

SNAPSHOT_FORMAT = 3  # bump whenever a class in the engine's state gains or loses a field
QTY_TOLERANCE = 1e-9  # relative: quantities summed in a different order can differ in the last bit
MONEY_TOLERANCE = 1e-6  # relative, for cash, fees and PnL after thousands of fills


class RecordInconsistent(PapertapeError):
    """The session's recorded fills do not add up to the state saved with them (the store was
    edited, or lost rows)."""

    code = "record_inconsistent"


class ResumeStateUnreadable(PapertapeError):
    """The saved engine state cannot be loaded (written by an incompatible version)."""

    code = "resume_state_unreadable"


def freeze(engine: Engine) -> bytes:
    """The engine's state, without what the record already holds (see the module doc)."""
    curve, trips, record = engine.equity_curve, engine.portfolio.trips, engine.record
    engine.equity_curve, engine.portfolio.trips, engine.record = [], [], RecordBatch()
    try:
        return pickle.dumps(
            (SNAPSHOT_FORMAT, __version__, engine), protocol=pickle.HIGHEST_PROTOCOL
        )
    finally:
        engine.equity_curve, engine.portfolio.trips, engine.record = curve, trips, record


def thaw(
    state: bytes,
    fills: Sequence[Fill],
    orders: Sequence[OrderRecord],
    curve: Sequence[tuple[int, float]],
    session_id: str,
    funding: Sequence[FundingPayment] = (),
) -> Engine:
    """The engine a session resumes with: its saved state, checked against the fold of its
    recorded fills (and funding payments), with the round trips and the equity curve taken from
    the record."""
    engine = unfreeze(state, session_id)
    folded = fold(engine.portfolio.initial_cash, engine.portfolio, fills, session_id, funding)
    _check_orders(fills, orders, session_id)
    _check_same(engine.portfolio, folded, fills, session_id)
    engine.portfolio.trips = folded.trips
    engine.equity_curve = list(curve)
    return engine


def unfreeze(state: bytes, session_id: str) -> Engine:
    """The engine in a snapshot, as it was saved (``thaw`` also checks it against the record)."""
    try:
        saved = pickle.loads(state)
    except Exception as exc:
        raise ResumeStateUnreadable(
            f"the saved state of session {session_id} cannot be loaded: "
            f"{type(exc).__name__}: {exc}",
            session_id=session_id,
        ) from None
    if isinstance(saved, Engine):  # before snapshots carried a format
        saved = (1, "0.1.0 or older", saved)
    if not (isinstance(saved, tuple) and len(saved) == 3 and isinstance(saved[2], Engine)):
        raise ResumeStateUnreadable(
            f"the saved state of session {session_id} is not an engine", session_id=session_id
        )
    form, version, engine = saved
    assert isinstance(engine, Engine)
    if form != SNAPSHOT_FORMAT:
        raise ResumeStateUnreadable(
            f"session {session_id} was saved by papertape {version} (engine snapshot format "
            f"{form}); this papertape {__version__} reads format {SNAPSHOT_FORMAT} only, so the "
            "session cannot continue where it stopped (its record is kept)",
            session_id=session_id,
        )
    return engine


def fold(
    cash: float,
    like: Portfolio,
    fills: Sequence[Fill],
    session_id: str = "",
    funding: Sequence[FundingPayment] = (),
) -> Portfolio:
    """A fresh portfolio (``like``'s market type and leverage) with ``fills`` booked in order,
    and each funding payment booked after the fills before its time (the engine settles funding
    on the first event at or after the funding time)."""
    portfolio = Portfolio(cash, like.market_type, like.leverage, like.tiers)
    payments = sorted(funding, key=lambda p: p.ts)
    paid = 0
    for record in fills:
        while paid < len(payments) and payments[paid].ts < record.ts:
            portfolio.book_funding(payments[paid].symbol, payments[paid].amount)
            paid += 1
        try:
            portfolio.apply_fill(record)
        except Exception as exc:
            raise _inconsistent(
                session_id, record, f"it cannot be booked: {type(exc).__name__}: {exc}"
            ) from None
    for payment in payments[paid:]:
        portfolio.book_funding(payment.symbol, payment.amount)
    return portfolio


def _check_orders(fills: Sequence[Fill], orders: Sequence[OrderRecord], session_id: str) -> None:
    """Each order's fills add up to the quantity its newest record says was filled."""
    filled = {order.order_id: order.filled_qty for order in orders}
    running: dict[str, float] = defaultdict(float)
    last_of: dict[str, Fill] = {}
    for record in fills:
        if record.order_id not in filled:
            raise _inconsistent(session_id, record, f"its order {record.order_id} is not recorded")
        running[record.order_id] += record.qty
        last_of[record.order_id] = record
        if running[record.order_id] > filled[record.order_id] * (1 + QTY_TOLERANCE) + 1e-12:
            raise _inconsistent(
                session_id,
                record,
                f"it takes order {record.order_id} past the {filled[record.order_id]} recorded "
                "as filled",
            )
    for order_id, recorded in filled.items():
        total = running.get(order_id, 0.0)
        if math.isclose(total, recorded, rel_tol=QTY_TOLERANCE, abs_tol=1e-12):
            continue
        why = f"order {order_id} is recorded as {recorded} filled, its fills add to {total}"
        if order_id in last_of:
            raise _inconsistent(session_id, last_of[order_id], why)
        raise RecordInconsistent(
            f"session {session_id}'s record is inconsistent: {why} (a fill is missing)",
            session_id=session_id,
            details=[{"field": "fills", "order_id": order_id, "message": why}],
        )


def _check_same(
    saved: Portfolio, folded: Portfolio, fills: Sequence[Fill], session_id: str
) -> None:
    """The saved portfolio is the fold of the recorded fills."""
    if saved.fill_count != folded.fill_count:
        first_extra = min(saved.fill_count, folded.fill_count)
        culprit = fills[first_extra] if first_extra < len(fills) else fills[-1] if fills else None
        detail = (
            f"the record has {folded.fill_count} fills, the state saved with it {saved.fill_count}"
        )
        if culprit is None:
            raise RecordInconsistent(
                f"session {session_id}: {detail}",
                session_id=session_id,
                details=[{"field": "fills", "message": detail}],
            )
        raise _inconsistent(session_id, culprit, detail)
    checks = [("cash", saved.cash, folded.cash, MONEY_TOLERANCE)]
    checks += [("fees", saved.fees, folded.fees, MONEY_TOLERANCE)]
    for symbol in {p.symbol for p in saved.open_positions()} | {
        p.symbol for p in folded.open_positions()
    }:
        mine, theirs = saved.position(symbol), folded.position(symbol)
        checks += [
            (f"{symbol} qty", mine.qty, theirs.qty, QTY_TOLERANCE),
            (f"{symbol} average price", mine.avg_price, theirs.avg_price, QTY_TOLERANCE),
        ]
    for name, want, got, tolerance in checks:
        if not math.isclose(want, got, rel_tol=tolerance, abs_tol=1e-9):
            symbol = name.split(" ")[0]
            culprit = next(
                (f for f in reversed(fills) if f.symbol == symbol), fills[-1] if fills else None
            )
            detail = f"{name} is {got} by the recorded fills but {want} in the saved state"
            if culprit is None:
                raise RecordInconsistent(f"session {session_id}: {detail}", session_id=session_id)
            raise _inconsistent(session_id, culprit, detail)


def _inconsistent(session_id: str, fill: Fill, why: str) -> RecordInconsistent:
    return RecordInconsistent(
        f"session {session_id}'s record is inconsistent at fill {fill.fill_id} "
        f"(order {fill.order_id}, {fill.side} {fill.qty} {fill.symbol} at {fill.price}): {why}",
        session_id=session_id,
        details=[{"field": "fills", "fill_id": fill.fill_id, "message": why}],
    )

"""Random orders against random markets (hypothesis): whatever happens, the record reconciles.

The fills the engine recorded alone explain its cash, positions and fees; spot never goes short
or below zero cash; every order moves only as ``ORDER_TRANSITIONS`` allows (risk refusals
included) and ends in a consistent state; and the run is deterministic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.domain.errors import OrderRejected
from papertape.domain.market import BookSnapshot, Candle, Trade
from papertape.domain.orders import ORDER_TRANSITIONS, OrderStatus
from papertape.domain.risk import RiskRules
from papertape.engine.core import Engine, EngineConfig

S = "BTC_USDT"
T0 = 1_700_000_000_000_000

prices = st.floats(50, 150, allow_nan=False)
market_event = st.one_of(
    st.tuples(st.just("trade"), prices, st.floats(0.01, 5)),
    st.tuples(st.just("book"), prices, st.floats(0.01, 5)),
    st.tuples(st.just("bar"), prices, st.floats(0.0, 0.05)),
)
order = st.tuples(
    st.sampled_from(("buy", "sell")),
    st.sampled_from(("market", "limit", "stop")),
    st.floats(0.01, 200),
    st.floats(0.8, 1.2),  # limit/stop price relative to the last price
)
steps = st.lists(st.one_of(market_event, order), min_size=5, max_size=80)


def build_event(step, i):
    kind, price, size = step
    ts = T0 + i * 1_000_000
    if kind == "trade":
        return Trade(ts, S, price, size, "buy")
    if kind == "book":
        return BookSnapshot(
            ts,
            S,
            ((price - 0.5, size), (price - 1, size * 2)),
            ((price + 0.5, size), (price + 1, size * 2)),
        )
    return Candle(ts, S, 60, price, price * (1 + size), price * (1 - size), price, 10.0)


def play(market_type: str, leverage: float, script) -> Engine:
    engine = Engine(
        EngineConfig(
            session_id="p",
            symbols=(S,),
            cash=10_000.0,
            market_type=market_type,
            leverage=leverage,
            taker=0.001,
            maker=0.0002,
            slippage_bps=5,
            risk=RiskRules(max_drawdown_pct=50),
        )
    )
    last = 100.0
    for i, step in enumerate(script):
        if step[0] in ("trade", "book", "bar"):
            engine.process([build_event(step, i)])
            last = step[1]
            continue
        side, type_, qty, rel = step
        try:
            engine.place_manual_order(S, side, type_, qty, price=last * rel, stop_price=last * rel)
        except OrderRejected:
            pass
    engine.stop()
    return engine


def check(engine: Engine) -> None:
    portfolio = engine.portfolio
    fills = list(engine.record.fills)
    fees = math.fsum(f.fee for f in fills)
    held = math.fsum(f.qty if f.side == "buy" else -f.qty for f in fills)
    flows = -math.fsum((f.qty if f.side == "buy" else -f.qty) * f.price for f in fills)
    tol = 1e-6 * max(1.0, math.fsum(f.qty * f.price for f in fills))
    assert portfolio.qty(S) == pytest.approx(held, abs=1e-9)
    assert portfolio.fees == pytest.approx(fees, abs=tol)
    if portfolio.market_type == "spot":
        assert portfolio.cash == pytest.approx(10_000 + flows - fees, abs=tol)
        assert portfolio.cash >= -tol and portfolio.qty(S) >= -1e-9
    else:
        assert portfolio.cash == pytest.approx(10_000 + portfolio.realized_pnl - fees, abs=tol)
    mark = portfolio.position(S).mark
    assert portfolio.equity() == pytest.approx(10_000 + flows + held * mark - fees, abs=tol)
    # every order's final record agrees with its fills
    final = {}
    for record in engine.record.orders:
        final[record.order_id] = record
    for record in final.values():
        filled = math.fsum(f.qty for f in fills if f.order_id == record.order_id)
        assert record.filled_qty == pytest.approx(filled, abs=1e-9)
        if record.status == "filled":
            assert record.filled_qty == pytest.approx(record.qty, rel=1e-9)
        assert record.status in ("open", "partially_filled", "filled", "cancelled", "rejected")
    check_transitions(engine)


def check_transitions(engine: Engine) -> None:
    """The recorded life of every order is a path through the transition table: it is born
    open, (partially) filled or refused, and each later record keeps or legally moves its
    status."""
    lives: dict[str, list[OrderStatus]] = {}
    for record in engine.record.orders:
        lives.setdefault(record.order_id, []).append(OrderStatus(record.status))
    for order_id, life in lives.items():
        assert life[0] != OrderStatus.CANCELLED, (order_id, life)
        for before, after in zip(life, life[1:], strict=False):
            assert after == before or after in ORDER_TRANSITIONS[before], (order_id, life)


@settings(max_examples=150, deadline=None)
@given(script=steps)
def test_spot_record_reconciles(script):
    check(play("spot", 1, script))


@settings(max_examples=150, deadline=None)
@given(script=steps, leverage=st.sampled_from((1, 3, 20)))
def test_perp_record_reconciles(script, leverage):
    check(play("swap", leverage, script))


@settings(max_examples=30, deadline=None)
@given(script=steps)
def test_runs_are_deterministic(script):
    first, second = play("swap", 5, script), play("swap", 5, script)
    assert first.record.fills == second.record.fills and first.record.orders == second.record.orders
    assert first.record.equity == second.record.equity

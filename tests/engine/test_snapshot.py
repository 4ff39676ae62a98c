"""Engine snapshots: an engine frozen at any point and thawed from its record continues exactly as
the original, on real data with every strategy; the portfolio is always the fold of the recorded
fills; a record that does not add up is refused naming the first bad fill."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papertape.domain.errors import OrderRejected
from papertape.domain.market import Trade
from papertape.domain.records import RecordBatch
from papertape.domain.risk import RiskRules
from papertape.engine.core import Engine, EngineConfig
from papertape.engine.snapshot import (
    SNAPSHOT_FORMAT,
    RecordInconsistent,
    ResumeStateUnreadable,
    fold,
    freeze,
    thaw,
)
from papertape.market.importers import read_market_file
from papertape.sessions.strategy_catalog import build_plan
from papertape.strategies.examples import RULE_EXAMPLES
from tests.support.data import MARKET_DATA

S = "BTC_USDT"
T0 = 1_700_000_000_000_000
BARS = 4_000  # of the shared January 2022 BTC minute candles

PLANS = {
    "sma_cross": ("sma_cross", {"fast": 5, "slow": 20}),
    "sma_cross_short": ("sma_cross", {"fast": 8, "slow": 30, "allow_short": True}),
    "rsi_reversion": ("rsi_reversion", {}),
    "breakout": ("breakout", {}),
    "ema_trend": ("rules", RULE_EXAMPLES["ema_trend"]["definition"]),
    "bollinger_bounce": ("rules", RULE_EXAMPLES["bollinger_bounce"]["definition"]),
}


@pytest.fixture(scope="module")
def candles():
    return read_market_file(MARKET_DATA / "btc-perp_1m_2022-01.csv.gz", symbol=S).rows[:BARS]


def new_engine(name: str) -> Engine:
    base, params = PLANS[name]
    swap = name == "sma_cross_short"
    return Engine(
        EngineConfig(
            session_id="s",
            symbols=(S,),
            cash=10_000.0,
            market_type="swap" if swap else "spot",
            leverage=2.0 if swap else 1.0,
            taker=0.001,
            maker=0.0005,
            slippage_bps=2,
            equity_interval_us=60_000_000,
            risk=RiskRules(max_drawdown_pct=30, daily_loss_limit=400),
        ),
        [build_plan(name, base, params)],
    )


class Tape:
    """The record as a store would hold it: rows appended batch after batch."""

    def __init__(self) -> None:
        self.all = RecordBatch()

    def take(self, engine: Engine) -> None:
        self.all.extend(engine.drain())

    def orders(self):
        newest = {o.order_id: o for o in self.all.orders}
        return sorted(newest.values(), key=lambda o: (o.created_ts, o.order_id))

    def curve(self):
        return sorted({p.ts: p.equity for p in self.all.equity}.items())


def run_with_crashes(name: str, events, cuts: list[int]) -> tuple[Tape, Engine]:
    """Run ``events`` in batches; at each cut, freeze the engine, drop it, and thaw a new one from
    the snapshot and the record so far (what a resumed session does)."""
    engine = new_engine(name)
    engine.start()
    tape = Tape()
    start = 0
    for cut in [*sorted(set(cuts)), len(events)]:
        engine.process(events[start:cut])
        start = cut
        tape.take(engine)
        if cut < len(events):
            state = freeze(engine)
            engine = thaw(state, tape.all.fills, tape.orders(), tape.curve(), "s")
    engine.stop()
    tape.take(engine)
    return tape, engine


@pytest.mark.parametrize("name", sorted(PLANS))
def test_every_strategy_continues_exactly_after_a_thaw(candles, name):
    reference, ref_engine = run_with_crashes(name, candles, [])
    assert reference.all.fills, f"{name} traded nothing on {BARS} bars: the test proves nothing"
    crashed, engine = run_with_crashes(name, candles, [1, 333, 1_000, 1_001, 2_500, 3_999])
    assert crashed.all.fills == reference.all.fills
    assert crashed.orders() == reference.orders()
    assert crashed.all.positions == reference.all.positions
    assert crashed.curve() == reference.curve()
    assert engine.metrics() == ref_engine.metrics()
    assert engine.risk.state() == ref_engine.risk.state()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(sorted(PLANS)),
    cuts=st.lists(st.integers(1, BARS - 1), min_size=1, max_size=6),
)
def test_a_thaw_at_any_point_changes_nothing(candles, name, cuts):
    reference, _ = run_with_crashes(name, candles, [])
    crashed, _ = run_with_crashes(name, candles, cuts)
    assert crashed.all.fills == reference.all.fills
    assert crashed.orders() == reference.orders()
    assert crashed.curve() == reference.curve()


# portfolio == fold(fills) -------------------------------------------------------------------------
prices = st.floats(50, 150, allow_nan=False)
step = st.one_of(
    st.tuples(st.just("trade"), prices),
    st.tuples(st.sampled_from(("buy", "sell")), st.floats(0.01, 120)),
)


@settings(max_examples=150, deadline=None)
@given(
    market=st.sampled_from((("spot", 1.0), ("swap", 1.0), ("swap", 5.0))),
    script=st.lists(step, min_size=3, max_size=80),
)
def test_the_portfolio_is_the_fold_of_its_recorded_fills(market, script):
    market_type, leverage = market
    engine = Engine(
        EngineConfig(
            session_id="f",
            symbols=(S,),
            cash=10_000.0,
            market_type=market_type,
            leverage=leverage,
            taker=0.001,
            maker=0.0002,
            slippage_bps=3,
        )
    )
    tape = Tape()
    for i, (kind, value) in enumerate(script):
        if kind == "trade":
            engine.process([Trade(T0 + i * 1_000_000, S, value, 1.0, "buy", str(i))])
        else:
            try:
                engine.place_manual_order(S, kind, "market", value)
            except OrderRejected:
                pass
        tape.take(engine)
    folded = fold(10_000.0, engine.portfolio, tape.all.fills)
    assert folded.fill_count == engine.portfolio.fill_count == len(tape.all.fills)
    assert folded.cash == pytest.approx(engine.portfolio.cash, rel=1e-12, abs=1e-9)
    assert folded.fees == pytest.approx(engine.portfolio.fees, rel=1e-12, abs=1e-12)
    assert folded.realized_pnl == pytest.approx(engine.portfolio.realized_pnl, abs=1e-9)
    for position in engine.portfolio.open_positions():
        mine = folded.position(position.symbol)
        assert (mine.qty, mine.avg_price) == pytest.approx((position.qty, position.avg_price))
    # and a thaw from that record accepts it
    thaw(freeze(engine), tape.all.fills, tape.orders(), tape.curve(), "f")


# a record that does not add up ------------------------------------------------------------------
@pytest.fixture(scope="module")
def traded(candles):
    tape, _ = run_with_crashes("sma_cross", candles[:2_000], [])
    engine = new_engine("sma_cross")
    engine.start()
    engine.process(candles[:2_000])
    engine.drain()
    assert len(tape.all.fills) >= 4
    return freeze(engine), tape


def test_a_doubled_fill_is_named(traded):
    state, tape = traded
    fills = list(tape.all.fills)
    doubled = fills[2]._replace(fill_id="f999")
    fills.insert(3, doubled)
    with pytest.raises(RecordInconsistent) as caught:
        thaw(state, fills, tape.orders(), tape.curve(), "s")
    assert caught.value.code == "record_inconsistent"
    assert caught.value.details[0]["fill_id"] == "f999"
    assert "f999" in caught.value.message


def test_an_edited_quantity_is_named(traded):
    state, tape = traded
    fills = list(tape.all.fills)
    edited = fills[1]._replace(qty=fills[1].qty * 2)
    fills[1] = edited
    with pytest.raises(RecordInconsistent) as caught:
        thaw(state, fills, tape.orders(), tape.curve(), "s")
    assert caught.value.details[0]["fill_id"] == edited.fill_id


def test_a_lost_fill_is_refused(traded):
    state, tape = traded
    fills = list(tape.all.fills)
    lost = fills.pop()
    with pytest.raises(RecordInconsistent) as caught:
        thaw(state, fills, tape.orders(), tape.curve(), "s")
    assert lost.order_id in caught.value.message


def test_an_unreadable_state_is_refused(traded):
    _, tape = traded
    with pytest.raises(ResumeStateUnreadable):
        thaw(b"not a pickle", tape.all.fills, tape.orders(), tape.curve(), "s")
    with pytest.raises(ResumeStateUnreadable):
        thaw(pickle.dumps({"an": "engine?"}), tape.all.fills, tape.orders(), tape.curve(), "s")


def test_a_snapshot_of_another_format_is_refused_with_the_reason(traded):
    """A snapshot written by other code (a bare engine, as before formats; or another format)
    is refused up front, not thawed into objects that miss a field."""
    state, tape = traded
    _, version, engine = pickle.loads(state)
    for older in (pickle.dumps(engine), pickle.dumps((SNAPSHOT_FORMAT - 1, "0.0.9", engine))):
        with pytest.raises(ResumeStateUnreadable) as caught:
            thaw(older, tape.all.fills, tape.orders(), tape.curve(), "s")
        assert "cannot continue where it stopped" in caught.value.message
    assert thaw(state, tape.all.fills, tape.orders(), tape.curve(), "s") is not None

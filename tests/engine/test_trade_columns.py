"""Trades fed as columns (``TradeColumns``) give exactly the record their rows give.

The engine folds the runs of prints at which nothing can happen into the bars with NumPy and
sends the others through the row path; these tests run the same random tapes, strategies,
orders, marks and settings both ways and compare everything the engine keeps, bit for bit."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.domain.config import StrategySpec
from papertape.domain.errors import OrderRejected
from papertape.domain.market import MICROS, MarkPrice, Trade
from papertape.domain.risk import RiskRules
from papertape.domain.strategy import Strategy, StrategyParams
from papertape.domain.trade_columns import TradeColumns
from papertape.engine.core import Engine, EngineConfig, StrategyPlan
from papertape.engine.snapshot import freeze
from papertape.sessions.strategy_catalog import RULE_EXAMPLES, plan_for
from tests.support.data import MARKET_DATA

S = "BTC_USDT"
T0 = 1_700_000_000_000_000

STRATEGIES: list[tuple[str, dict[str, Any]]] = [
    ("sma_cross", {"fast": 2, "slow": 5}),
    ("sma_cross", {"fast": 3, "slow": 7, "allow_short": True}),
    ("rsi_reversion", {"period": 3, "oversold": 40, "overbought": 60}),
    ("breakout", {}),
    *((name, {}) for name in RULE_EXAMPLES),
]

# between chunks: nothing, a mark price, or a manual order
interlude = st.one_of(
    st.none(),
    st.tuples(
        st.just("mark"), st.floats(0.97, 1.03), st.sampled_from((0, 1, MICROS, 7_200 * MICROS))
    ),
    st.tuples(
        st.sampled_from(("buy", "sell")),
        st.sampled_from(("market", "limit", "stop")),
        st.floats(0.001, 2),
        st.floats(0.98, 1.02),
    ),
)
setup = st.fixed_dictionaries(
    {
        "strategy": st.sampled_from(STRATEGIES),
        "bar_interval": st.sampled_from((1, 5, 60)),
        "swap": st.booleans(),
        "leverage": st.sampled_from((1.0, 5.0, 50.0)),
        "latency_us": st.sampled_from((0, 0, 500_000)),
        "response_latency_us": st.sampled_from((0, 0, 2 * MICROS)),
        "equity_interval_us": st.sampled_from((MICROS, 10 * MICROS, 600 * MICROS)),
        "mark_stale_us": st.sampled_from((5 * MICROS, 3_600 * MICROS)),
        "drawdown": st.sampled_from((None, 5.0)),
    }
)


def tape(seed: int, length: int, volatility: float) -> list[Trade]:
    """A random walk of ``length`` prints: bursts at one timestamp, dense runs, gaps."""
    draw = random.Random(seed)
    steps = (0, 1, 1_000, 20_000, 20_000, 20_000, 300_000, 3 * MICROS)
    rows, ts, price = [], T0, 100.0
    for _ in range(length):
        ts += draw.choice(steps)
        price = max(1.0, price * (1 + draw.uniform(-volatility, volatility)))
        side = draw.choice(("buy", "sell", "unknown"))
        rows.append(Trade(ts, S, price, draw.uniform(0.001, 3), side))
    return rows


def engine_for(config: dict[str, Any]) -> Engine:
    name, params = config["strategy"]
    swap = config["swap"]
    if not swap and params.get("allow_short"):
        params = {**params, "allow_short": False}
    plan = plan_for(
        StrategySpec(name=name, params={**params, "bar_interval": config["bar_interval"]})
    )
    engine = Engine(
        EngineConfig(
            session_id="c",
            symbols=(S,),
            market_type="swap" if swap else "spot",
            leverage=config["leverage"] if swap else 1.0,
            latency_us=config["latency_us"],
            response_latency_us=config["response_latency_us"],
            equity_interval_us=config["equity_interval_us"],
            mark_stale_us=config["mark_stale_us"],
            risk=RiskRules(max_drawdown_pct=config["drawdown"]),
        ),
        [plan],
    )
    engine.start()
    return engine


def play(config: dict[str, Any], chunks: list[tuple[list[Trade], Any]], columns: bool) -> dict:
    """The record, and the engine's whole state (its snapshot: bars in progress, positions and
    their marks, orders, strategies' indicators) after each chunk."""
    engine = engine_for(config)
    states = []
    for rows, between in chunks:
        engine.process(TradeColumns.from_rows(S, rows) if columns else rows)
        states.append(freeze(engine))
        last = rows[-1]
        if between is None:
            continue
        if between[0] == "mark":
            engine.process([MarkPrice(last.ts + between[2], S, last.price * between[1])])
            continue
        side, type_, qty, rel = between
        price = last.price * rel
        try:
            engine.place_manual_order(S, side, type_, qty, price=price, stop_price=price)
        except OrderRejected:
            pass
    engine.stop()
    return {**the_record(engine), "states": states}


def the_record(engine: Engine) -> dict[str, Any]:
    return {
        "record": engine.record,  # orders, fills, positions, equity, funding, events
        "curve": engine.equity_curve,
        "trips": engine.portfolio.trips,
        "metrics": engine.metrics(),
        "price": engine.last_price(S),
        "mark": engine.portfolio.position(S).mark,
        "halted": engine.halted,
        "ts": engine.ts,
    }


@settings(max_examples=150, deadline=None)
@given(
    config=setup,
    seed=st.integers(0, 2**32),
    length=st.integers(1, 3_000),
    volatility=st.sampled_from((0.0005, 0.003, 0.01)),
    cuts=st.lists(st.tuples(st.integers(1, 1_000), interlude), min_size=1, max_size=12),
)
def test_columns_give_the_record_rows_give(config, seed, length, volatility, cuts) -> None:
    rows = tape(seed, length, volatility)
    chunks, i = [], 0
    for size, between in cuts:
        if i < len(rows):
            chunks.append((rows[i : i + size], between))
            i += size
    if i < len(rows):
        chunks.append((rows[i:], None))
    assert play(config, chunks, columns=True) == play(config, chunks, columns=False)


@pytest.mark.parametrize(("name", "params"), STRATEGIES)
def test_real_prints_give_the_same_backtest(name: str, params: dict[str, Any]) -> None:
    """The shared Binance prints (2,001 over 41 s, repeated 30 times), each strategy on
    one-second bars, rows against 5,000-row columns: the same trips, metrics, record and state."""
    from papertape.market.importers import read_market_file

    base = read_market_file(
        MARKET_DATA / "binance_btcusdt_trades_2021-01-08.parquet", symbol=S
    ).rows
    span = base[-1].ts - base[0].ts + 1_000
    rows = [
        Trade(t.ts + copy * span, S, t.price, t.qty, t.side) for copy in range(30) for t in base
    ]
    config = {
        "strategy": (name, params),
        "bar_interval": 1,
        "swap": bool(params.get("allow_short")),
        "leverage": 3.0,
        "latency_us": 0,
        "response_latency_us": 0,
        "equity_interval_us": 10 * MICROS,
        "mark_stale_us": 3_600 * MICROS,
        "drawdown": None,
    }
    chunks = [(rows[i : i + 5_000], None) for i in range(0, len(rows), 5_000)]
    by_columns = play(config, chunks, columns=True)
    assert by_columns["trips"], "the strategy traded"
    assert by_columns == play(config, chunks, columns=False)


class BuyOnceNoteFills(Strategy[StrategyParams]):
    """Buys on its first bar and notes when each fill's response reaches it."""

    name = "buy_once"
    Params = StrategyParams

    def on_start(self) -> None:
        self.heard: list[int] = []

    def on_bar(self, bar: Any) -> None:
        if not self.heard and self.position == 0:
            self.buy(fraction=0.5)

    def on_fill(self, fill: Any, order: Any) -> None:
        self.heard.append(self.broker.now())


def dense(start: int, count: int, step: int) -> list[Trade]:
    return [Trade(start + k * step, S, 100.0 + (k % 7) * 0.1, 0.5, "buy") for k in range(count)]


@pytest.mark.parametrize("columns", [False, True])
def test_a_fill_response_arrives_at_the_first_print_it_is_due(columns: bool) -> None:
    """Response latency 2.5 s, prints every 100 ms inside one hour-long bar: the strategy
    hears of its fill at the first print 2.5 s after it, even in the middle of a run."""
    engine = Engine(
        EngineConfig(
            session_id="r",
            symbols=(S,),
            response_latency_us=2_500_000,
            equity_interval_us=3_600 * MICROS,
        ),
        [StrategyPlan(BuyOnceNoteFills, StrategyParams(bar_interval=3_600), "buy_once")],
    )
    engine.start()
    hour = 3_600 * MICROS
    rows = dense(T0 - T0 % hour - 1, 2, 1) + dense(T0 - T0 % hour + 1, 100, 100_000)
    engine.process(TradeColumns.from_rows(S, rows) if columns else rows)
    (strategy,) = engine.strategies
    fill_ts = engine.record.fills[0].ts
    due = next(t.ts for t in rows if t.ts >= fill_ts + 2_500_000)
    assert due == fill_ts + 2_500_001
    assert strategy.heard == [due]  # type: ignore[attr-defined]


@pytest.mark.parametrize("columns", [False, True])
def test_a_mark_goes_stale_only_after_mark_stale(columns: bool) -> None:
    """An open position is valued at the newest mark until the mark is older than
    ``mark_stale_us``: a print exactly ``mark_stale_us`` after it still leaves the mark."""
    engine = Engine(
        EngineConfig(
            session_id="m",
            symbols=(S,),
            market_type="swap",
            mark_stale_us=5 * MICROS,
            equity_interval_us=3_600 * MICROS,
        )
    )
    engine.start()
    engine.process([Trade(T0, S, 100.0, 1.0, "buy")])
    engine.place_manual_order(S, "buy", "market", 1.0)
    engine.process([Trade(T0 + 1, S, 100.0, 1.0, "sell"), MarkPrice(T0 + 2, S, 90.0)])
    rows = [Trade(T0 + 3, S, 101.0, 1.0, "buy"), Trade(T0 + 2 + 5 * MICROS, S, 102.0, 1.0, "buy")]
    engine.process(TradeColumns.from_rows(S, rows) if columns else rows)
    assert engine.portfolio.position(S).mark == 90.0
    later = [Trade(T0 + 3 + 5 * MICROS, S, 103.0, 1.0, "buy")]
    engine.process(TradeColumns.from_rows(S, later) if columns else later)
    assert engine.portfolio.position(S).mark == 103.0


def test_columns_round_trip_their_rows() -> None:
    rows = [Trade(T0 + i, S, 100.0 + i, 0.5, side) for i, side in enumerate(("buy", "sell"))]
    columns = TradeColumns.from_rows(S, [*rows, Trade(T0 + 5, S, 99.0, 1.0, "unknown")])
    assert len(columns) == 3
    assert columns.rows()[:2] == rows
    assert columns.row(2) == Trade(T0 + 5, S, 99.0, 1.0, "unknown")
    with pytest.raises(ValueError, match="one symbol"):
        TradeColumns.from_rows("ETH_USDT", rows)


def test_columns_slice_window_and_join() -> None:
    rows = [Trade(T0 + i // 2, S, 100.0 + i, 0.1 * i, "sell") for i in range(10)]
    columns = TradeColumns.from_rows(S, rows)
    assert columns[2:5].rows() == rows[2:5]
    assert columns.between(T0 + 1, T0 + 3).rows() == rows[2:6]  # start in, end out
    assert columns.between(None, T0 + 1).rows() == rows[:2]
    assert columns.between(T0 + 4, None).rows() == rows[8:]
    assert len(columns.between(T0 + 9, None)) == 0
    parts = [columns[0:3], columns[3:3], columns[3:10]]
    assert TradeColumns.joined(S, iter(parts), 10).rows() == rows
    roomy = TradeColumns.joined(S, iter(parts), 25)  # room for more (other symbols' rows)
    assert roomy.rows() == rows and roomy.ts.base is None  # its own, trimmed copy
    with pytest.raises(ValueError, match="more than 9 prints"):
        TradeColumns.joined(S, iter(parts), 9)

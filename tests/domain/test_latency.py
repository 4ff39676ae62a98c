"""Latency per direction: an order reaches the venue after the entry latency, a cancel after the
cancel latency, and the order can fill in between (the cancel then comes too late)."""

from __future__ import annotations

from papertape.domain.market import Trade
from papertape.domain.portfolio import SWAP
from papertape.domain.strategy import Strategy, StrategyParams
from papertape.engine.core import Engine, EngineConfig, StrategyPlan
from papertape.engine.snapshot import freeze, unfreeze

SYMBOL = "BTC_USDT"
MS = 1_000


def _engine(entry_ms: int = 0, cancel_ms: int = 0) -> Engine:
    return Engine(
        EngineConfig(
            "s",
            (SYMBOL,),
            cash=1e6,
            market_type=SWAP,
            taker=0.0,
            maker=0.0,
            latency_us=entry_ms * MS,
            cancel_latency_us=cancel_ms * MS,
        )
    )


def _print(ms: int, price: float) -> Trade:
    return Trade(ms * MS, SYMBOL, price, 1.0, "sell")


def test_entry_latency_delays_the_first_event_that_can_fill():
    engine = _engine(entry_ms=50)
    engine.process([_print(0, 100.0)])
    order = engine.place_manual_order(SYMBOL, "buy", "market", 0.5)
    engine.process([_print(10, 101.0), _print(49, 102.0), _print(60, 103.0)])
    assert [(f.ts, f.price) for f in engine.record.fills] == [(60 * MS, 103.0)]
    assert order.status == "filled"


def test_a_cancel_in_flight_does_not_stop_a_fill():
    engine = _engine(cancel_ms=20)
    engine.process([_print(0, 100.0)])
    order = engine.place_manual_order(SYMBOL, "buy", "limit", 0.5, price=99.0)
    engine.process([_print(5, 100.0)])  # rests
    assert engine.cancel(order.order_id) is order and order.is_live  # asked at 5 ms
    engine.process([_print(15, 98.0)])  # traded through before the cancel arrives (25 ms)
    assert order.status == "filled" and engine.venue.late_cancels == 1


def test_a_cancel_that_arrives_in_time_cancels():
    engine = _engine(cancel_ms=20)
    engine.process([_print(0, 100.0)])
    order = engine.place_manual_order(SYMBOL, "buy", "limit", 0.5, price=99.0)
    engine.process([_print(5, 100.0)])
    engine.cancel(order.order_id)
    engine.process([_print(24, 100.0)])
    assert order.is_live
    engine.process([_print(30, 98.0)])  # the cancel arrived at 25 ms: nothing fills
    assert order.status == "cancelled" and order.updated_ts == 25 * MS
    assert engine.record.fills == [] and engine.venue.late_cancels == 0


def test_without_cancel_latency_a_cancel_is_immediate():
    engine = _engine()
    engine.process([_print(0, 100.0)])
    order = engine.place_manual_order(SYMBOL, "buy", "limit", 0.5, price=99.0)
    engine.cancel(order.order_id)
    assert order.status == "cancelled"


class _BuyOnce(Strategy[StrategyParams]):
    """Buys 0.5 whenever it believes it is flat, and notes what it sees on each print."""

    name = "buy_once"

    def on_start(self) -> None:
        self.seen: list[tuple[int, float]] = []
        self.fills: list[tuple[int, int]] = []

    def on_trade(self, trade: Trade) -> None:
        self.seen.append((trade.ts // MS, self.position))
        if self.position == 0:
            self.buy(0.5)

    def on_fill(self, fill, order) -> None:
        self.fills.append((self.now // MS, fill.ts // MS))


def _strategy_engine(response_ms: int) -> tuple[Engine, _BuyOnce]:
    engine = Engine(
        EngineConfig(
            "s", (SYMBOL,), cash=1e6, market_type=SWAP, taker=0.0, maker=0.0,
            response_latency_us=response_ms * MS,
        ),
        [StrategyPlan(_BuyOnce, StrategyParams(), "buy_once")],
    )  # fmt: skip
    engine.start()
    engine.process([_print(ms, 100.0) for ms in (0, 10, 20, 30, 40)])
    engine.stop()
    return engine, engine.strategies[0]  # type: ignore[return-value]


def test_a_fill_reaches_the_strategy_after_the_response_latency():
    """The buy decided at 0 ms fills at 10 ms. Without response latency the strategy sees 0.5
    from then on; with 25 ms it learns of the fill at the first print at or after 35 ms (40 ms)
    and, still believing itself flat at 10, 20 and 30 ms, buys again each time: four fills."""
    engine, strategy = _strategy_engine(0)
    assert strategy.seen == [(0, 0), (10, 0.5), (20, 0.5), (30, 0.5), (40, 0.5)]
    assert strategy.fills == [(10, 10)] and engine.portfolio.qty(SYMBOL) == 0.5
    engine, strategy = _strategy_engine(25)
    assert [f.ts // MS for f in engine.record.fills] == [10, 20, 30, 40]
    assert strategy.seen == [(0, 0), (10, 0), (20, 0), (30, 0), (40, 0.5)]
    # delivered at 40 ms (due at 35), then the ones due at 45, 55 and 65 ms when the run ends
    assert strategy.fills == [(40, 10), (40, 20), (40, 30), (40, 40)]
    assert strategy.position == engine.portfolio.qty(SYMBOL) == 2.0


# --- random delays, seeded -------------------------------------------------------------------
def _jittered(seed: int, jitter_ms: int = 30, steps: range = range(200)) -> Engine:
    """Market buys placed every 100 ms on a tape printing every millisecond: each fills at the
    first print after its own drawn entry delay (5 ms + an exponential of mean ``jitter_ms``)."""
    engine = Engine(
        EngineConfig(
            "s", (SYMBOL,), cash=1e9, market_type=SWAP, taker=0.0, maker=0.0,
            latency_us=5 * MS, latency_jitter_us=jitter_ms * MS, latency_seed=seed,
        )
    )  # fmt: skip
    return _trade(engine, steps)


def _trade(engine: Engine, steps: range) -> Engine:
    for step in steps:
        start = step * 100
        engine.process([_print(start, 100.0)])
        engine.place_manual_order(SYMBOL, "buy", "market", 0.001)
        engine.process([_print(start + ms, 100.0) for ms in range(1, 100)])
    return engine


def _delays_ms(engine: Engine) -> list[int]:
    placed = {o.order_id: o.created_ts for o in engine.record.orders}
    return [(f.ts - placed[f.order_id]) // MS for f in engine.record.fills]


def test_random_entry_delays_are_the_seeds_and_shaped_as_said():
    delays = _delays_ms(_jittered(seed=7))
    assert len(delays) == 200
    assert delays == _delays_ms(_jittered(seed=7))  # a replay draws the same delays
    assert delays != _delays_ms(_jittered(seed=8))
    assert min(delays) >= 5  # never below the constant part (a fill comes at the next print)
    mean = sum(delays) / len(delays)
    assert 5 + 30 * 0.85 < mean < 5 + 30 * 1.15 + 1  # constant + exponential of mean 30 ms
    assert sum(d > 5 + 60 for d in delays) > 10  # a long tail: e^-2 of them beyond twice the mean


def test_without_jitter_the_seed_changes_nothing():
    constant = Engine(EngineConfig("s", (SYMBOL,), latency_us=5 * MS, latency_seed=1))
    assert constant.venue.latency.draw() == 5 * MS == constant.venue.latency.draw()


class _BuyEach(_BuyOnce):
    """Buys 0.1 on each of the first 30 prints."""

    name = "buy_each"

    def on_trade(self, trade: Trade) -> None:
        if len(self.seen) < 30:
            self.buy(0.1)
        self.seen.append((trade.ts // MS, self.position))


def test_responses_arrive_in_the_order_the_fills_happened():
    """A quick response never overtakes a slow one before it (one connection)."""
    engine = Engine(
        EngineConfig(
            "s", (SYMBOL,), cash=1e9, market_type=SWAP, taker=0.0, maker=0.0,
            response_latency_jitter_us=40 * MS, latency_seed=3,
        ),
        [StrategyPlan(_BuyEach, StrategyParams(), "buy_each")],
    )  # fmt: skip
    engine.start()
    engine.process([_print(ms, 100.0) for ms in range(0, 400, 5)])
    engine.stop()
    strategy = engine.strategies[0]
    heard = [fill_ms for _, fill_ms in strategy.fills]  # type: ignore[attr-defined]
    assert len(heard) == 30 and heard == sorted(heard)
    delivered = [at for at, _ in strategy.fills]  # type: ignore[attr-defined]
    assert delivered == sorted(delivered)


def test_a_resumed_engine_continues_the_same_draws():
    """The generators travel in the engine's snapshot: a session resumed after a crash draws
    what the uncrashed one draws."""
    whole = _delays_ms(_jittered(seed=11))
    before = _jittered(seed=11, steps=range(120))
    resumed = unfreeze(freeze(before), "s")  # the snapshot leaves the record behind
    after = _trade(resumed, range(120, 200))
    assert _delays_ms(before) + _delays_ms(after) == whole

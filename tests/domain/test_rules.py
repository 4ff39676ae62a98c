"""Declarative rule strategies: every field enforced, on bars built by hand."""

from __future__ import annotations

import pytest

from papertape.domain.errors import InvalidStrategyParams
from papertape.domain.market import Candle
from papertape.engine.core import Engine, EngineConfig
from papertape.sessions.strategy_catalog import build_plan

S = "BTC_USDT"
MIN = 60_000_000


def bars(*ohlc):
    return [Candle(i * MIN, S, 60, o, h, lo, c, 1.0) for i, (o, h, lo, c) in enumerate(ohlc)]


def run(definition, data, **config):
    plan = build_plan("r", "rules", definition)
    engine = Engine(
        EngineConfig(session_id="s", symbols=(S,), cash=1_000.0, taker=0.0, maker=0.0, **config),
        [plan],
    )
    engine.start()
    engine.process(data)
    return engine


ALWAYS = {"left": "close", "op": ">", "right": 0}


def test_take_profit_stop_loss_and_cooldown():
    engine = run(
        {"entry": ALWAYS, "stop_loss_pct": 10, "take_profit_pct": 20, "cooldown_bars": 2},
        bars(
            (100, 100, 100, 100),  # b0: entry decided → fills at b1's open
            (100, 105, 95, 100),  # b1: in at 100; stop 90, take-profit 120
            (100, 121, 99, 110),  # b2: take-profit fills at 120; cooldown 2 (b2, b3)
            (110, 111, 109, 110),  # b3: cooling down
            (110, 111, 109, 110),  # b4: entry decided
            (110, 112, 108, 110),  # b5: in at 110; stop 99, take-profit 132
            (108, 109, 98, 100),  # b6: stop fills at 99
        ),
    )
    trips = [
        (t.entry_ts // MIN, t.exit_ts // MIN, t.entry_price, t.exit_price)
        for t in engine.portfolio.trips
    ]
    assert trips == [(1, 2, 100, 120), (5, 6, pytest.approx(110), pytest.approx(99))]
    final = {}
    for o in engine.record.orders:
        final[o.order_id] = o
    by_reason = {(o.reason, o.status) for o in final.values()}
    assert ("take_profit", "filled") in by_reason and ("stop_loss", "filled") in by_reason
    assert ("stop_loss_cancelled", "cancelled") in by_reason  # the other leg of the first exit
    assert ("take_profit_cancelled", "cancelled") in by_reason


def test_trailing_stop_follows_the_high():
    engine = run(
        {"entry": ALWAYS, "trailing_stop_pct": 5},
        bars(
            (100, 100, 100, 100),
            (100, 110, 99, 108),  # in at 100, stop 95 → trails to 110 × 0.95 = 104.5
            (108, 108, 104, 105),  # stop at 104.5
        ),
    )
    [trip] = engine.portfolio.trips
    assert trip.exit_price == pytest.approx(104.5) and trip.exit_ts == 2 * MIN


def test_and_or_not_and_crosses():
    definition = {
        "indicators": {"fast": {"type": "sma", "period": 2}, "slow": {"type": "sma", "period": 3}},
        "entry": {
            "all": [
                {"left": "fast", "op": "crosses_above", "right": "slow"},
                {"not": {"left": "close", "op": ">", "right": 200}},
                {
                    "any": [
                        {"left": "volume", "op": ">", "right": 1000},
                        {"left": "close", "op": ">=", "right": 10},
                    ]
                },
            ]
        },
        "exit": {"left": "fast", "op": "crosses_below", "right": "slow"},
    }
    closes = [10, 9, 8, 12, 14, 11, 9, 8]
    engine = run(definition, bars(*[(c, c, c, c) for c in closes]))
    # fast/slow: b2 8.5/9, b3 10/9.67 (cross above → in at b4 open 14),
    # b5 12.5/12.33, b6 10/11.33 (cross below → out at b7 open 8)
    [trip] = engine.portfolio.trips
    assert (trip.entry_ts // MIN, trip.entry_price, trip.exit_ts // MIN, trip.exit_price) == (
        4,
        14,
        7,
        8,
    )


def test_short_direction_and_sizing():
    definition = {
        "entry": ALWAYS,
        "direction": "short",
        "take_profit_pct": 10,
        "sizing": {"mode": "notional", "value": 500},
    }
    engine = run(
        definition,
        bars((100, 100, 100, 100), (100, 100, 100, 100), (100, 100, 85, 90)),
        market_type="swap",
        leverage=2,
    )
    [trip] = engine.portfolio.trips
    assert trip.direction == "short" and trip.qty == pytest.approx(5)
    assert trip.exit_price == pytest.approx(90)
    with pytest.raises(ValueError, match="go short"):
        run(definition, [])


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"entry": ALWAYS, "stop_loss_pct": 1, "bogus": 1}, "bogus"),
        ({"entry": {"left": "x.y", "op": ">", "right": 1}, "stop_loss_pct": 1}, "neither"),
        (
            {
                "indicators": {"m": {"type": "macd"}},
                "entry": {"left": "m.nope", "op": ">", "right": 0},
                "stop_loss_pct": 1,
            },
            "no output 'nope'",
        ),
        (
            {"indicators": {"s": {"type": "sma", "k": 2}}, "entry": ALWAYS, "stop_loss_pct": 1},
            "has no 'k' parameter",
        ),
        ({"entry": {"left": "close", "op": "==", "right": 1}, "stop_loss_pct": 1}, "op"),
        (
            {"entry": ALWAYS, "stop_loss_pct": 1, "sizing": {"mode": "fraction", "value": 2}},
            "at most 1",
        ),
        ({"entry": {"all": []}, "stop_loss_pct": 1}, "at least 1"),
    ],
)
def test_every_bad_field_is_rejected(definition, message):
    with pytest.raises(InvalidStrategyParams, match=message):
        build_plan("r", "rules", definition)


def test_indicator_sources():
    definition = {
        "indicators": {
            "surge": {"type": "volume_surge", "period": 2},
            "hi": {"type": "sma", "period": 1, "source": "high"},
        },
        "entry": {"left": "surge", "op": ">", "right": 2},
        "stop_loss_pct": 50,
    }
    data = [
        Candle(i * MIN, S, 60, 100, 100 + i, 99, 100, v) for i, v in enumerate([1.0, 1.0, 5.0, 1.0])
    ]
    engine = run(definition, data)
    strategy = engine.strategies[0]
    assert strategy.indicators["hi"].value == 103  # fed the highs
    assert engine.portfolio.trips == [] and engine.portfolio.qty(S) > 0  # 5 / mean(1, 1) = 5
    assert engine.record.fills[0].ts == 3 * MIN
    with pytest.raises(InvalidStrategyParams, match="takes no 'source'"):
        build_plan(
            "r",
            "rules",
            {
                "indicators": {"a": {"type": "atr", "source": "close"}},
                "entry": ALWAYS,
                "stop_loss_pct": 1,
            },
        )

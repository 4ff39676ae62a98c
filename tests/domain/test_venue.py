"""The paper venue through the engine: each order type against trade prints, order books and
bars; partial fills; fees; latency; funds; risk rules."""

from __future__ import annotations

import pytest

from papertape.domain.errors import OrderRejected
from papertape.domain.market import BookSnapshot, Candle, Trade
from papertape.domain.risk import RiskRules
from papertape.domain.strategy import Strategy
from papertape.engine.core import Engine, EngineConfig, StrategyPlan

S = "BTC_USDT"
T0 = 1_700_000_000_000_000


def engine(**overrides) -> Engine:
    config = {
        "session_id": "s",
        "symbols": (S,),
        "cash": 10_000.0,
        "taker": 0.001,
        "maker": 0.0002,
        **overrides,
    }
    return Engine(EngineConfig(**config))


def trade(dt: int, price: float, qty: float = 1.0, side: str = "buy") -> Trade:
    return Trade(T0 + dt, S, price, qty, side)


def book(dt: int, bids, asks) -> BookSnapshot:
    return BookSnapshot(T0 + dt, S, tuple(bids), tuple(asks))


def bar(dt: int, o, h, lo, c) -> Candle:
    return Candle(T0 + dt, S, 60, o, h, lo, c, 10.0)


def fills_of(e: Engine):
    return [(f.side, f.qty, f.price, f.liquidity) for f in e.record.fills]


def test_market_order_fills_at_next_print_with_slippage_and_taker_fee():
    e = engine(slippage_bps=10)
    e.process([trade(0, 100.0)])
    order = e.place_manual_order(S, "buy", "market", 2.0)
    assert order.status == "open" and not e.record.fills
    e.process([trade(1, 101.0)])
    [f] = e.record.fills
    assert f.price == pytest.approx(101.0 * 1.001) and f.qty == 2.0
    assert f.fee == pytest.approx(2.0 * 101.0 * 1.001 * 0.001)
    assert order.status == "filled"
    assert e.portfolio.cash == pytest.approx(10_000 - 2 * 101.101 - f.fee)


def test_latency_delays_the_fill():
    e = engine(latency_us=500_000)
    e.process([trade(0, 100.0)])
    e.place_manual_order(S, "buy", "market", 1.0)
    e.process([trade(100_000, 100.5), trade(400_000, 100.7)])
    assert not e.record.fills
    e.process([trade(600_000, 101.0)])
    assert fills_of(e) == [("buy", 1.0, 101.0, "taker")]


def test_limit_rests_then_fills_only_when_traded_through_partially():
    e = engine()
    e.process([trade(0, 100.0)])
    order = e.place_manual_order(S, "buy", "limit", 3.0, price=99.0)
    e.process([trade(1, 99.5), trade(2, 99.0)])  # touching is not trading through
    assert not e.record.fills
    e.process([trade(3, 98.9, qty=2.0)])
    assert fills_of(e) == [("buy", 2.0, 99.0, "maker")]
    assert order.status == "partially_filled"
    assert e.record.fills[0].fee == pytest.approx(2.0 * 99.0 * 0.0002)
    e.process([trade(4, 98.5, qty=5.0)])
    assert order.status == "filled" and order.filled_qty == 3.0
    assert [f.qty for f in e.record.fills] == [2.0, 1.0]


def test_marketable_limit_takes_the_better_price():
    e = engine()
    e.process([trade(0, 100.0)])
    e.place_manual_order(S, "buy", "limit", 1.0, price=105.0)
    e.process([trade(1, 101.0)])
    assert fills_of(e) == [("buy", 1.0, 101.0, "taker")]


def test_stop_triggers_at_its_price_and_fills_as_market():
    e = engine(slippage_bps=0)
    e.process([trade(0, 100.0)])
    e.place_manual_order(S, "buy", "stop", 1.0, stop_price=102.0)
    e.process([trade(1, 101.0), trade(2, 101.9)])
    assert not e.record.fills
    e.process([trade(3, 102.5)])
    assert fills_of(e) == [("buy", 1.0, 102.5, "taker")]


def test_market_order_walks_the_book_and_waits_for_more_liquidity():
    e = engine()
    e.process([book(0, [(99.0, 1.0)], [(100.0, 1.0)])])
    order = e.place_manual_order(S, "buy", "market", 10.0)
    e.process([book(1, [(99.0, 5.0)], [(100.0, 1.0), (101.0, 2.0), (102.0, 4.0)])])
    assert fills_of(e) == [
        ("buy", 1.0, 100.0, "taker"),
        ("buy", 2.0, 101.0, "taker"),
        ("buy", 4.0, 102.0, "taker"),
    ]
    assert order.status == "partially_filled" and order.filled_qty == 7.0
    assert order.avg_fill_price == pytest.approx((100 + 202 + 408) / 7)
    e.process([book(2, [(99.0, 5.0)], [(103.0, 5.0)])])
    assert (
        order.status == "filled"
        and e.record.fills[-1].qty == 3.0
        and e.record.fills[-1].price == 103.0
    )


def test_orders_on_one_snapshot_share_its_liquidity():
    e = engine()
    e.process([book(0, [(99.0, 1.0)], [(100.0, 1.0)])])
    first = e.place_manual_order(S, "buy", "market", 1.5)
    second = e.place_manual_order(S, "buy", "market", 1.5)
    e.process([book(1, [(99.0, 5.0)], [(100.0, 2.0), (101.0, 2.0)])])
    assert [(f.order_id, f.qty, f.price) for f in e.record.fills] == [
        (first.order_id, 1.5, 100.0),
        (second.order_id, 0.5, 100.0),
        (second.order_id, 1.0, 101.0),
    ]


def test_resting_limit_fills_as_maker_when_the_book_crosses_it():
    e = engine()
    e.process([book(0, [(99.0, 1.0)], [(100.0, 1.0)])])
    order = e.place_manual_order(S, "buy", "limit", 2.0, price=99.5)
    e.process([book(1, [(99.0, 1.0)], [(100.0, 3.0)])])  # not marketable on arrival: rests
    assert not e.record.fills
    e.process([book(2, [(98.0, 1.0)], [(99.4, 0.5), (99.5, 0.5), (99.6, 9.0)])])
    assert fills_of(e) == [("buy", 0.5, 99.5, "maker"), ("buy", 0.5, 99.5, "maker")]
    assert order.status == "partially_filled"


class _BarBuyer(Strategy):
    name = "bar_buyer"

    def on_bar(self, bar):
        if not self.position and bar.close > bar.open:
            self.buy()


def _bar_engine(**overrides) -> Engine:
    plan = StrategyPlan(_BarBuyer, _BarBuyer.Params(), "bar_buyer")
    config = {
        "session_id": "s",
        "symbols": (S,),
        "cash": 1_000.0,
        "taker": 0.001,
        "maker": 0.001,
        **overrides,
    }
    e = Engine(EngineConfig(**config), [plan])
    e.start()
    return e


def test_bar_market_order_fills_at_next_open_all_in():
    e = _bar_engine()
    e.process([bar(0, 100, 101, 99, 100.5)])
    assert not e.record.fills
    e.process([bar(60_000_000, 102, 103, 101, 102)])
    [f] = e.record.fills
    assert f.price == 102 and f.ts == T0 + 60_000_000
    assert f.qty == pytest.approx(1_000 / (102 * 1.001))  # all-in, fee included
    assert e.portfolio.cash == pytest.approx(0, abs=1e-9)


def test_bar_fill_close_option():
    e = _bar_engine(bar_fill="close")
    e.process([bar(0, 100, 101, 99, 100.5)])
    [f] = e.record.fills
    assert f.price == 100.5 and f.ts == T0


def test_bar_limit_and_stop():
    e = engine()
    e.process([bar(0, 100, 101, 99, 100)])
    limit = e.place_manual_order(S, "buy", "limit", 1.0, price=98.0)
    stop = e.place_manual_order(S, "buy", "stop", 1.0, stop_price=103.0)
    e.process([bar(60_000_000, 100, 102, 98.0, 101)])  # low only touches the limit
    assert not e.record.fills
    e.process([bar(120_000_000, 99, 104, 97, 103.5)])
    assert {(f.order_id, f.price, f.liquidity) for f in e.record.fills} == {
        (stop.order_id, 103.0, "taker"),
        (limit.order_id, 98.0, "maker"),
    }
    gap = engine()
    gap.process([bar(0, 100, 101, 99, 100)])
    gap.place_manual_order(S, "buy", "stop", 1.0, stop_price=103.0)
    gap.process([bar(60_000_000, 105, 106, 104, 105)])  # gaps over the stop: fills at the open
    assert gap.record.fills[0].price == 105


def test_insufficient_funds_fills_what_cash_allows():
    e = engine(cash=1_000.0, taker=0.0)
    e.process([trade(0, 100.0)])
    order = e.place_manual_order(S, "buy", "market", 15.0)
    e.process([trade(1, 100.0)])
    assert e.record.fills[0].qty == pytest.approx(10.0)
    assert order.status == "cancelled" and order.reason == "insufficient_funds"


def test_spot_cannot_short():
    e = engine()
    e.process([trade(0, 100.0)])
    with pytest.raises(OrderRejected, match="insufficient_position"):
        e.place_manual_order(S, "sell", "market", 1.0)


def test_perp_short_and_bad_orders():
    e = engine(market_type="swap", leverage=3)
    e.process([trade(0, 100.0)])
    e.place_manual_order(S, "sell", "market", 5.0)
    e.process([trade(1, 100.0)])
    assert e.portfolio.qty(S) == -5.0
    with pytest.raises(OrderRejected, match="limit order needs a positive price"):
        e.place_manual_order(S, "buy", "limit", 1.0)
    with pytest.raises(OrderRejected, match="not one of this session's symbols"):
        e.place_manual_order("ETH_USDT", "buy", "market", 1.0)


def test_risk_rules_reject_orders():
    e = engine(risk=RiskRules(max_position_notional=500.0))
    e.process([trade(0, 100.0)])
    with pytest.raises(OrderRejected, match="max_position_notional"):
        e.place_manual_order(S, "buy", "market", 6.0)
    e.place_manual_order(S, "buy", "market", 4.0)
    assert e.record.events[-1][0] == "order"
    risk_events = [d for k, d in e.record.events if k == "risk"]
    assert risk_events and risk_events[0]["rule"] == "max_position_notional"


def test_drawdown_kill_switch_flattens_and_asks_to_stop():
    e = engine(taker=0.0, risk=RiskRules(max_drawdown_pct=10))
    e.process([trade(0, 100.0)])
    e.place_manual_order(S, "buy", "market", 50.0)
    e.process([trade(1, 100.0)])
    e.process([trade(20_000_000, 95.0), trade(40_000_000, 79.0)])  # equity 10000 → 8950
    assert e.stop_requested == "max_drawdown" and e.halted == "max_drawdown"
    assert e.portfolio.qty(S) == 0
    assert e.record.fills[-1].price == 79.0 and e.record.fills[-1].side == "sell"
    with pytest.raises(OrderRejected, match="halted_by_max_drawdown"):
        e.place_manual_order(S, "buy", "market", 1.0)


def test_perp_liquidation():
    e = engine(market_type="swap", leverage=10, cash=1_000.0, taker=0.0)
    e.process([trade(0, 100.0)])
    e.place_manual_order(S, "buy", "market", 90.0)  # 9000 notional on 1000
    e.process([trade(1, 100.0)])
    liq = e.portfolio.liquidation_price(S)
    # 1000 + 90 (P - 100) = 0.004 × 90 P (Binance's first tier: notional < 50,000 at 0.4 %)
    assert liq == pytest.approx((9_000 - 1_000) / (90 * 0.996))
    e.process([trade(2, 89.5)])
    assert e.halted is None
    e.process([trade(3, 89.0)])
    assert e.halted == "liquidation" and e.portfolio.qty(S) == 0
    assert any(k == "risk" and d["action"] == "liquidation" for k, d in e.record.events)


def test_two_symbols_merged_in_time_order():
    e = Engine(
        EngineConfig(session_id="s", symbols=(S, "ETH_USDT"), cash=10_000.0, taker=0.0, maker=0.0)
    )
    e.process([trade(0, 100.0), Trade(T0 + 1, "ETH_USDT", 10.0, 1.0, "buy")])
    e.place_manual_order(S, "buy", "market", 10.0)
    e.place_manual_order("ETH_USDT", "buy", "market", 100.0)
    e.process(
        [
            Trade(T0 + 2, "ETH_USDT", 11.0, 1.0, "buy"),
            trade(3, 101.0),
            Trade(T0 + 4, "SOL_USDT", 1.0, 1.0, "buy"),
        ]
    )  # not a session symbol: ignored
    assert [(f.symbol, f.price) for f in e.record.fills] == [("ETH_USDT", 11.0), (S, 101.0)]
    e.process([trade(20_000_000, 110.0), Trade(T0 + 20_000_001, "ETH_USDT", 12.0, 1, "sell")])
    assert e.portfolio.equity() == pytest.approx(10_000 + 10 * 9 + 100 * 1)


def test_bar_limit_marketable_on_arrival_vs_resting_through_a_gap():
    e = engine()
    e.process([bar(0, 100, 101, 99, 100)])
    fresh = e.place_manual_order(S, "buy", "limit", 1.0, price=101.0)
    e.process([bar(60_000_000, 99, 100, 98, 99)])  # opens below the limit: taker at the open
    assert [(f.order_id, f.price, f.liquidity) for f in e.record.fills] == [
        (fresh.order_id, 99, "taker")
    ]
    resting = e.place_manual_order(S, "buy", "limit", 1.0, price=97.0)
    e.process([bar(120_000_000, 99, 100, 98, 99)])  # rests
    e.process([bar(180_000_000, 95, 96, 94, 95)])  # gaps through it: filled at its own price
    assert (
        e.record.fills[-1].order_id,
        e.record.fills[-1].price,
        e.record.fills[-1].liquidity,
    ) == (
        resting.order_id,
        97.0,
        "maker",
    )


def test_daily_loss_limit_counts_from_the_days_first_equity():
    day = 86_400_000_000
    e = engine(taker=0.0, risk=RiskRules(daily_loss_limit=300.0))
    e.process([trade(0, 100.0)])
    e.place_manual_order(S, "buy", "market", 50.0)
    e.process([trade(1, 100.0), trade(20_000_000, 95.0)])  # -250 today: allowed
    assert e.halted is None
    e.process([trade(day, 95.0)])  # a new UTC day starts at equity 9750
    e.process([trade(day + 20_000_000, 90.0)])  # -250 today again: allowed
    assert e.halted is None
    e.process([trade(day + 40_000_000, 88.9)])  # -305 today
    assert e.halted == "daily_loss_limit" and e.stop_requested == "daily_loss_limit"


def test_max_open_positions():
    e = Engine(
        EngineConfig(
            session_id="s",
            symbols=(S, "ETH_USDT"),
            cash=10_000.0,
            taker=0.0,
            maker=0.0,
            risk=RiskRules(max_open_positions=1),
        )
    )
    e.process([trade(0, 100.0), Trade(T0 + 1, "ETH_USDT", 10.0, 1.0, "buy")])
    e.place_manual_order(S, "buy", "market", 1.0)
    e.process([trade(2, 100.0)])
    with pytest.raises(OrderRejected, match="max_open_positions"):
        e.place_manual_order("ETH_USDT", "buy", "market", 1.0)
    e.place_manual_order(S, "buy", "market", 1.0)  # adding to the open one is fine

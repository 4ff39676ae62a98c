"""``LiveVenue`` inside the real engine: orders are queued for the exchange, never filled by
market data; the exchange's executions go into the portfolio as they are."""

from __future__ import annotations

import pytest

from papertape.domain.errors import OrderRejected
from papertape.domain.market import Trade
from papertape.domain.orders import CANCELLED, FILLED, PARTIAL
from papertape.engine.core import Engine, EngineConfig
from papertape.market.exchange.live_venue import LiveVenue


@pytest.fixture
def engine() -> Engine:
    engine = Engine(EngineConfig("exec_20260101_000000_0123abcd", ("BTC_USDT",), cash=10_000))
    engine.venue = LiveVenue(engine.venue, engine.last_price)
    engine.start()
    return engine


def test_orders_wait_for_the_exchange_and_market_data_fills_nothing(engine):
    venue = engine.venue
    order = engine.place_manual_order("BTC_USDT", "buy", "limit", 0.1, price=40_000.0)
    assert venue.outbox == [order] and order.status == "open"
    engine.process([Trade(1_000_000, "BTC_USDT", 39_000.0, 5.0, "sell", "1")])  # trades through
    assert order.filled_qty == 0 and engine.portfolio.qty("BTC_USDT") == 0


def test_exchange_executions_go_into_the_portfolio(engine):
    venue = engine.venue
    engine.process([Trade(1_000_000, "BTC_USDT", 39_000.0, 1.0, "sell", "1")])
    order = engine.place_manual_order("BTC_USDT", "buy", "market", 0.1)
    venue.exchange_fill(order, 0.04, 39_010.0, 1.56, 2_000_000, maker=False)
    assert order.status == PARTIAL and engine.portfolio.qty("BTC_USDT") == pytest.approx(0.04)
    venue.exchange_fill(order, 0.06, 39_020.0, 2.34, 3_000_000, maker=False)
    assert order.status == FILLED and order.order_id not in venue.orders
    assert engine.portfolio.qty("BTC_USDT") == pytest.approx(0.1)
    assert engine.portfolio.fees == pytest.approx(3.9)
    fills = engine.drain().fills
    assert [(f.qty, f.price) for f in fills] == [(0.04, 39_010.0), (0.06, 39_020.0)]


def test_cancels_wait_for_the_exchange_and_stops_are_refused(engine):
    venue = engine.venue
    order = engine.place_manual_order("BTC_USDT", "buy", "limit", 0.1, price=30_000.0)
    engine.cancel(order.order_id)
    assert venue.cancels == [(order, "cancelled")] and order.is_live  # until the exchange says so
    venue.exchange_end(order, CANCELLED, 2_000_000, "cancelled on the exchange")
    assert order.status == CANCELLED and order.order_id not in venue.orders
    engine.process([Trade(1_000_000, "BTC_USDT", 39_000.0, 1.0, "sell", "1")])
    with pytest.raises(OrderRejected) as refused:
        engine.place_manual_order("BTC_USDT", "buy", "stop", 0.1, stop_price=45_000.0)
    assert "stop_orders_not_sent_live" in refused.value.message


def test_unsized_orders_are_sized_at_the_last_price_before_they_are_sent(engine):
    engine.process([Trade(1_000_000, "BTC_USDT", 40_000.0, 1.0, "sell", "1")])
    order = engine.place_manual_order("BTC_USDT", "buy", "market", None)
    assert order.qty == pytest.approx(
        10_000 / 40_000 / 1.001, rel=1e-3
    )  # all the cash, fee included
    assert engine.venue.outbox == [order]

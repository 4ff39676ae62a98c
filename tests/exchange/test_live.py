"""Live trading through the exchange double: idempotent submission, rejections, partial fills,
reconciliation after a restart, and keys that never show up in errors."""

from __future__ import annotations

import asyncio

import ccxt
import pytest

from papertape.market.exchange.connector import ExchangeHub
from papertape.market.exchange.credentials import Credentials
from papertape.market.exchange.errors import ExchangeAuthFailed, ExchangeUnavailable
from papertape.market.exchange.live import LiveBroker, client_order_id
from tests.support.exchange_double import DoubleWorld

SESSION = "exec_20260101_000000_0123abcd"
KEYS = Credentials("mexc", "double-key", "double-secret")


async def _broker(world: DoubleWorld, **kwargs) -> LiveBroker:
    broker = LiveBroker(
        SESSION,
        "mexc",
        "spot",
        ["BTC_USDT"],
        KEYS,
        hub=ExchangeHub(world.factory),
        retry_initial=0.01,
        **kwargs,
    )
    await broker.open()
    return broker


def test_client_order_ids_are_stable_short_and_plain():
    first = client_order_id(SESSION, 1)
    assert first == client_order_id(SESSION, 1) != client_order_id(SESSION, 2)
    assert first != client_order_id("exec_20260101_000000_ffffffff", 1)
    assert len(first) <= 36 and first.isalnum()


async def test_market_order_fills_partially_then_fully_against_recorded_prints():
    world = DoubleWorld(speed=20)
    broker = await _broker(world)
    order = await broker.submit("BTC_USDT", "buy", "market", 0.05)
    assert order.status == "open" and order.exchange_order_id
    for _ in range(200):
        await asyncio.sleep(0.05)
        await broker.poll()
        if order.status == "filled":
            break
    assert order.status == "filled"
    [placed] = world.orders.values()
    assert len(placed.trades) > 1  # the recorded prints were smaller than the order: partial fills
    assert sum(f.qty for f in order.fills) == pytest.approx(0.05)
    record = order.record(SESSION)
    assert record.avg_fill_price == pytest.approx(sum(f.qty * f.price for f in order.fills) / 0.05)
    assert 30_000 < record.avg_fill_price < 50_000  # real BTC prices of the recorded day
    await broker.close()


async def test_partially_filled_status_while_a_limit_order_rests():
    world = DoubleWorld(speed=20)
    broker = await _broker(world)
    order = await broker.submit("BTC_USDT", "buy", "limit", 0.5, price=100_000.0)  # marketable
    for _ in range(100):
        await asyncio.sleep(0.02)
        await broker.poll()
        if order.filled_qty:
            break
    assert order.status == "partially_filled" and 0 < order.filled_qty < 0.5
    cancelled = await broker.cancel(order.client_order_id)
    assert cancelled.status == "cancelled" and cancelled.filled_qty > 0
    await broker.close()


async def test_a_lost_answer_is_retried_without_placing_the_order_twice():
    world = DoubleWorld(speed=20)
    broker = await _broker(world)
    world.timeout_after_accept_next_order()
    order = await broker.submit("BTC_USDT", "buy", "limit", 0.01, price=1_000.0)
    assert order.status == "open"
    assert len(world.orders) == 1  # found by its client order id, not placed again
    assert [o.client_order_id for o in world.orders.values()] == [order.client_order_id]
    await broker.close()


async def test_rejections_come_back_as_rejected_orders_with_the_reason():
    world = DoubleWorld(speed=20)
    broker = await _broker(world)
    poor = await broker.submit("BTC_USDT", "buy", "limit", 100.0, price=39_000.0)
    assert poor.status == "rejected" and "InsufficientFunds" in poor.reason
    world.reject_next_order(ccxt.InvalidOrder("mexc order price out of range"))
    bad = await broker.submit("BTC_USDT", "sell", "limit", 0.01, price=1.0)
    assert bad.status == "rejected" and "out of range" in bad.reason
    assert world.orders == {}
    await broker.close()


async def test_reconcile_after_restart_adopts_open_orders_and_settles_unknown_ones():
    world = DoubleWorld(speed=20)
    first = await _broker(world)
    resting = await first.submit("BTC_USDT", "buy", "limit", 0.01, price=1_000.0)
    world.set_unreachable("connection reset")
    with pytest.raises(ExchangeUnavailable):
        await first.submit("BTC_USDT", "buy", "limit", 0.02, price=1_000.0)
    lost = sorted(first.unconfirmed)
    world.set_unreachable(None)
    report = await first.reconcile()
    assert report.unknown_resolved == {lost[0]: "never reached the exchange"}
    # a new broker for the same session (a restarted server) finds the resting order
    second = await _broker(world)
    assert second.orders[resting.client_order_id].status == "open"
    assert second.next_number > int(resting.client_order_id[-6:])
    assert second.balances["USDT"]["used"] == pytest.approx(10.0)
    await first.close()
    await second.close()


async def test_refused_keys_fail_loudly_without_showing_them():
    world = DoubleWorld(speed=20)
    wrong = Credentials("mexc", "AK-visible-if-leaked", "SK-visible-if-leaked")
    broker = LiveBroker(
        SESSION, "mexc", "spot", ["BTC_USDT"], wrong, hub=ExchangeHub(world.factory)
    )
    with pytest.raises(ExchangeAuthFailed) as failure:
        await broker.open()
    assert failure.value.code == "exchange_auth_failed"
    assert "visible-if-leaked" not in failure.value.message
    assert "visible-if-leaked" not in repr(broker.__dict__.get("_credentials"))


async def test_a_retry_from_another_process_is_answered_with_the_existing_order():
    world = DoubleWorld(speed=20)
    first = await _broker(world)
    placed = await first.submit("BTC_USDT", "buy", "limit", 0.01, price=1_000.0)
    second = LiveBroker(
        SESSION,
        "mexc",
        "spot",
        ["BTC_USDT"],
        KEYS,
        hub=ExchangeHub(world.factory),
        retry_initial=0.01,
    )
    second._exchange = second.hub.create("mexc", "spot", KEYS)  # connected, nothing reconciled yet
    again = await second.submit(
        "BTC_USDT", "buy", "limit", 0.01, price=1_000.0, client_id=placed.client_order_id
    )
    assert again.exchange_order_id == placed.exchange_order_id and again.status == "open"
    assert len(world.orders) == 1  # the exchange said DuplicateOrderId; the broker found the order
    await first.close()
    await second.close()

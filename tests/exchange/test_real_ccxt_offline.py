"""The real ccxt client (not the double) when the exchange cannot be reached: every request goes
through a proxy on a closed loopback port, so nothing leaves the machine and every connection is
refused at once, the way an unreachable exchange looks to ccxt."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from papertape.market.exchange.connector import ExchangeHub, ccxt_factory
from papertape.market.exchange.errors import ExchangeUnavailable
from papertape.market.exchange.feed import ExchangeSource, FeedOptions


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # released on exit: nothing listens there


def _refused_factory():
    proxy = f"http://127.0.0.1:{_closed_port()}"

    def factory(exchange_id, config):
        return ccxt_factory(exchange_id, {**config, "httpsProxy": proxy, "wssProxy": proxy})

    return factory


async def test_real_ccxt_unreachable_exchange_keeps_the_feed_reconnecting():
    hub = ExchangeHub(_refused_factory())
    started = time.monotonic()
    assert (
        await hub.validate_symbols("mexc", "spot", ["BTC_USDT"]) is False
    )  # deferred, not refused
    assert time.monotonic() - started < 2.5
    source = ExchangeSource(
        ["BTC_USDT"],
        "mexc",
        "spot",
        hub=hub,
        options=FeedOptions(backoff_initial=0.05, backoff_max=5),
    )
    consumer = asyncio.create_task(anext(source.batches()))
    deadline = time.monotonic() + 20
    while source.status.reconnects < 2:
        assert time.monotonic() < deadline, source.status.as_dict()
        await asyncio.sleep(0.05)
    assert source.status.state == "reconnecting"
    assert source.status.message.startswith("mexc unreachable: ")
    assert not consumer.done()
    began = time.monotonic()
    await source.close()
    assert time.monotonic() - began < 2.5
    with pytest.raises(StopAsyncIteration):  # the batches ended because the feed was closed
        await asyncio.wait_for(consumer, 1)


async def test_real_ccxt_markets_unreachable_is_exchange_unavailable():
    hub = ExchangeHub(_refused_factory())
    try:
        await hub.list_markets("mexc", "spot")
    except ExchangeUnavailable as exc:
        assert exc.code == "exchange_unavailable" and exc.message.startswith("mexc unreachable: ")
    else:
        raise AssertionError("the market list cannot load through a refused proxy")

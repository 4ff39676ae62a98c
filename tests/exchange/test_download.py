"""Historical candles through ``fetch_ohlcv`` into a dataset: paging, resuming, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from papertape.domain.errors import UnknownSymbol, ValidationFailed
from papertape.domain.market import MICROS, to_micros
from papertape.market.exchange.download import download_candles
from papertape.market.exchange.errors import ExchangeUnavailable, InvalidTimeframe
from tests.support import market_tapes

JAN_1 = to_micros(datetime(2022, 1, 1, tzinfo=UTC))
JAN_2 = to_micros(datetime(2022, 1, 2, tzinfo=UTC))


async def test_pages_then_resumes_without_duplicates(world, hub, sqlite_store):
    pages = []
    first = await download_candles(
        sqlite_store,
        exchange_id="mexc",
        symbol="BTC_USDT",
        timeframe="1m",
        since=JAN_1,
        until=JAN_1 + 2500 * 60 * MICROS,
        hub=hub,
        page_limit=1000,
        on_page=pages.append,
    )
    assert first.dataset.name == "mexc_spot_BTC_USDT_1m"
    assert first.rows_added == 2500 and first.pages == 3 and first.resumed_from is None
    assert [p.rows for p in pages] == [1000, 2000, 2500]
    candles = await sqlite_store.read_candles(first.dataset.name, ["BTC_USDT"], JAN_1, JAN_2 * 2)
    recorded = {r[0] * 1000: r for r in market_tapes.btc_perp_candles_1m()}
    assert len(candles) == 2500 and candles[0].ts == JAN_1
    for candle in candles[::250]:
        row = recorded[candle.ts]
        assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == row[1:]
    # run again to a later end: continues after the last stored bar
    calls = world.calls["fetch_ohlcv"]
    second = await download_candles(
        sqlite_store,
        exchange_id="mexc",
        symbol="BTC_USDT",
        timeframe="1m",
        since=JAN_1,
        until=JAN_1 + 3000 * 60 * MICROS,
        hub=hub,
    )
    assert second.resumed_from == JAN_1 + 2500 * 60 * MICROS
    assert second.rows_added == 500 and world.calls["fetch_ohlcv"] == calls + 1
    assert second.dataset.rows == 3000
    stored = await sqlite_store.get_dataset("mexc_spot_BTC_USDT_1m")
    assert (stored.rows, stored.start_ts, stored.interval) == (3000, JAN_1, 60)
    summary = await sqlite_store.market_summary("mexc_spot_BTC_USDT_1m")
    assert summary["candles"]["rows"] == 3000


async def test_interrupted_download_keeps_pages_and_says_how_to_continue(world, hub, sqlite_store):
    done = []

    def cut_after_first_page(progress):
        done.append(progress)
        world.set_unreachable("connection reset")

    with pytest.raises(ExchangeUnavailable) as failure:
        await download_candles(
            sqlite_store,
            exchange_id="mexc",
            symbol="BTC_USDT",
            timeframe="1m",
            since=JAN_1,
            until=JAN_2,
            hub=hub,
            on_page=cut_after_first_page,
            retries=0,
        )
    assert "run the same command again" in failure.value.message
    assert (await sqlite_store.get_dataset("mexc_spot_BTC_USDT_1m")).rows == 1000
    world.set_unreachable(None)
    resumed = await download_candles(
        sqlite_store,
        exchange_id="mexc",
        symbol="BTC_USDT",
        timeframe="1m",
        since=JAN_1,
        until=JAN_2,
        hub=hub,
    )
    assert resumed.resumed_from == JAN_1 + 1000 * 60 * MICROS
    assert resumed.dataset.rows == 1440


async def test_bad_requests_fail_with_specific_codes(hub, sqlite_store):
    with pytest.raises(UnknownSymbol):
        await download_candles(
            sqlite_store,
            exchange_id="mexc",
            symbol="DOGE_USDT",
            timeframe="1m",
            since=JAN_1,
            hub=hub,
        )
    with pytest.raises(InvalidTimeframe):
        await download_candles(
            sqlite_store,
            exchange_id="mexc",
            symbol="BTC_USDT",
            timeframe="7q",
            since=JAN_1,
            hub=hub,
        )
    with pytest.raises(InvalidTimeframe):  # a valid timeframe this exchange does not offer
        await download_candles(
            sqlite_store,
            exchange_id="mexc",
            symbol="BTC_USDT",
            timeframe="3m",
            since=JAN_1,
            hub=hub,
        )
    await download_candles(
        sqlite_store,
        exchange_id="mexc",
        symbol="BTC_USDT",
        timeframe="1m",
        since=JAN_1,
        until=JAN_1 + 10 * 60 * MICROS,
        hub=hub,
        dataset="mine",
    )
    with pytest.raises(ValidationFailed):  # same dataset name, different series
        await download_candles(
            sqlite_store,
            exchange_id="mexc",
            symbol="XRP_ETH",
            timeframe="1m",
            since=JAN_1,
            hub=hub,
            dataset="mine",
        )

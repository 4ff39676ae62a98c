"""Funding-rate history through the unmodified ccxt client (``fetch_funding_rate_history``)
against a loopback Binance serving the shared XRPUSDT funding file: paging, resuming, the CLI's
``--kind funding --exchange-url``; every URL of the client is moved to 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import typer
from typer.testing import CliRunner

from papertape.cli.download import data_download
from papertape.domain.market import MICROS
from papertape.market.exchange.connector import ExchangeHub, ccxt_factory
from papertape.market.exchange.download import _funding_rate, download_funding
from papertape.market.exchange.urls import redirected, rewrite, stray_urls
from papertape.market.importers import read_market_file
from papertape.store import open_store
from tests.support.binance_loopback import BinanceLoopback
from tests.support.data import MARKET_DATA

FUNDING = MARKET_DATA / "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv"
DAY = 86_400 * MICROS


@pytest.fixture(scope="module")
def rates():
    return read_market_file(FUNDING, symbol="XRP_USDT").rows


async def test_pages_then_resumes_through_real_ccxt(rates, tmp_path):
    store = await open_store(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        async with BinanceLoopback(rates) as server:
            hub = ExchangeHub(redirected(ccxt_factory, server.base_url))
            first = await download_funding(
                store,
                exchange_id="binance",
                symbol="XRP_USDT",
                since=rates[0].ts,
                until=rates[59].ts + 1,
                hub=hub,
                page_limit=25,
            )
            assert first.dataset.name == "binance_swap_XRP_USDT_funding"
            assert (first.rows_added, first.pages, first.resumed_from) == (60, 3, None)
            second = await download_funding(
                store, exchange_id="binance", symbol="XRP_USDT", since=rates[0].ts, hub=hub
            )
            assert second.resumed_from == rates[59].ts + 1 and second.rows_added == 31
            pages = [q for path, q in server.requests if path == "/fapi/v1/fundingRate"]
            # each page asks from just after the last rate stored, in ms (rounded up)
            assert [int(q["startTime"]) for q in pages[:3]] == [
                rates[0].ts // 1_000,
                rates[24].ts // 1_000 + 1,
                rates[49].ts // 1_000 + 1,
            ]
        stored = await store.read_funding(
            "binance_swap_XRP_USDT_funding", ["XRP_USDT"], 0, rates[-1].ts + 1
        )
        assert stored == rates  # every time, every rate, as the file has them
        dataset = await store.get_dataset("binance_swap_XRP_USDT_funding")
        assert (dataset.kind, dataset.rows, dataset.start_ts, dataset.end_ts) == (
            "funding",
            91,
            rates[0].ts,
            rates[-1].ts,
        )
    finally:
        await store.close()


def test_every_url_of_the_client_is_moved():
    exchange = redirected(ccxt_factory, "http://127.0.0.1:9")("binance", {})
    assert exchange.urls["api"]["fapiPublic"] == "http://127.0.0.1:9/fapi.binance.com/fapi/v1"
    assert exchange.urls["api"]["ws"]["linear"] == "ws://127.0.0.1:9/fstream.binance.com/ws"
    assert stray_urls(exchange.urls, "http://127.0.0.1:9") == []
    assert stray_urls(rewrite({"a": ["https://x.io/p"]}, "http://h:1"), "http://h:1") == []
    assert stray_urls({"a": ["https://x.io/p"]}, "http://h:1") == ["https://x.io/p"]


def test_mark_price_is_kept_when_the_exchange_sends_it():
    entry = {  # ccxt's parse of Binance's fundingRate row: markPrice stays in ``info``
        "info": {"fundingTime": 1700000000000, "fundingRate": "0.0001", "markPrice": "1.2345"},
        "fundingRate": 0.0001,
        "timestamp": 1700000000000,
    }
    rate = _funding_rate(entry, "XRP_USDT")
    assert rate.mark_price == 1.2345 and rate.ts == 1_700_000_000_000_000
    assert _funding_rate({**entry, "info": {"markPrice": ""}}, "XRP_USDT").mark_price is None
    assert _funding_rate({"timestamp": None, "fundingRate": 0.1}, "XRP_USDT") is None


@contextmanager
def _loopback_in_a_thread(rates) -> Iterator[str]:
    """The server on its own event loop (the CLI runs ``asyncio.run`` itself)."""
    loop = asyncio.new_event_loop()
    server = BinanceLoopback(rates)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(10)
    try:
        yield server.base_url
    finally:
        asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_cli_downloads_funding_from_the_given_url(rates, tmp_path):
    app = typer.Typer()
    app.command()(data_download)  # the only command: invoked without its name
    store = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--exchange", "binance", "--symbol", "XRP_USDT", "--kind", "funding"]
    args += ["--since", "2021-11-18", "--until", "2021-12-19", "--store", store]
    with _loopback_in_a_thread(rates) as url:
        spot = CliRunner().invoke(app, [*args, "--exchange-url", url])
        assert spot.exit_code == 1 and "belong to perpetuals" in spot.output
        result = CliRunner().invoke(app, [*args, "--market-type", "swap", "--exchange-url", url])
    assert result.exit_code == 0, result.output
    assert "binance_swap_XRP_USDT_funding" in result.output
    assert "+91 funding rates" in result.output
    bad_url = CliRunner().invoke(
        app, [*args, "--market-type", "swap", "--exchange-url", "127.0.0.1:1/x"]
    )
    assert bad_url.exit_code == 1 and "exchange URL must look like" in bad_url.output

"""Fixtures: a recorded-data exchange world and a hub whose factory is that world; the shared
futures BTCUSDT capture's lines and its independent rebuild."""

from __future__ import annotations

import gzip

import pytest

from papertape.market.binance_capture import Capture, rebuild
from papertape.market.exchange.connector import ExchangeHub
from tests.support.data import MARKET_DATA
from tests.support.exchange_double import DoubleWorld

FUTURES = MARKET_DATA / "binance-futures_btcusdt_l2-stream_2024-08-08.txt.gz"


@pytest.fixture(scope="session")
def futures_lines() -> list[str]:
    """The raw Binance USD-M capture, a ``<ns> <json>`` line per message."""
    return gzip.decompress(FUTURES.read_bytes()).decode().splitlines()


@pytest.fixture(scope="session")
def futures_capture(futures_lines: list[str]) -> Capture:
    """The capture's trades and books, the book rebuilt the way Binance documents."""
    return rebuild(futures_lines, FUTURES.name)


@pytest.fixture
def world() -> DoubleWorld:
    return DoubleWorld(speed=20)


@pytest.fixture
def hub(world: DoubleWorld) -> ExchangeHub:
    return ExchangeHub(factory=world.factory)


@pytest.fixture
async def sqlite_store(tmp_path):
    from papertape.store import open_store

    store = await open_store(f"sqlite:///{tmp_path / 'exchange.db'}")
    try:
        yield store
    finally:
        await store.close()

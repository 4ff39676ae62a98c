"""Fixtures: a recorded-data exchange world and a hub whose factory is that world."""

from __future__ import annotations

import pytest

from papertape.market.exchange.connector import ExchangeHub
from tests.support.exchange_double import DoubleWorld


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

"""``Store`` is the union of the narrow store interfaces: each of its methods belongs to exactly
one concern, and both stores implement every interface."""

from __future__ import annotations

import pytest

from papertape.store.base import (
    MarketDataStore,
    SessionStore,
    Store,
    StoreConnection,
    StrategyStore,
    TradingRecordStore,
    TrialStore,
)
from papertape.store.questdb import QuestDBStore
from papertape.store.sqlite import SQLiteStore

INTERFACES = (
    StoreConnection,
    SessionStore,
    TradingRecordStore,
    TrialStore,
    MarketDataStore,
    StrategyStore,
)


def _methods(cls: type) -> set[str]:
    return {name for name in vars(cls) if callable(getattr(cls, name)) and not name.startswith("_")}


def test_every_store_method_belongs_to_exactly_one_interface():
    owners: dict[str, list[str]] = {}
    for interface in INTERFACES:
        for name in _methods(interface):
            owners.setdefault(name, []).append(interface.__name__)
    assert {name: o for name, o in owners.items() if len(o) > 1} == {}
    assert set(owners) == {
        name for name in dir(Store) if not name.startswith("_") and callable(getattr(Store, name))
    }
    assert _methods(Store) == set()  # the union adds nothing of its own


@pytest.mark.parametrize("store_class", [SQLiteStore, QuestDBStore])
@pytest.mark.parametrize("interface", INTERFACES)
def test_both_stores_implement_every_interface(store_class, interface):
    assert issubclass(store_class, interface)
    assert not store_class.__abstractmethods__  # nothing left to implement

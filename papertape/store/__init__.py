"""Stores: where sessions, their tape and market data live. ``open_store`` picks one by URL."""

from __future__ import annotations

from papertape.store.base import Store

DEFAULT_STORE_URL = "sqlite:///./var/papertape.db"


def store_for(url: str) -> Store:
    """The store a URL names (not yet opened): ``sqlite:///PATH`` or ``questdb://HOST:PORT``."""
    if url.startswith("sqlite:///"):
        from papertape.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith("questdb://"):
        from papertape.store.questdb import QuestDBStore

        return QuestDBStore(url)
    raise ValueError(f"unknown store URL {url!r}: use sqlite:///PATH or questdb://HOST:PORT")


async def open_store(url: str) -> Store:
    store = store_for(url)
    await store.open()
    return store

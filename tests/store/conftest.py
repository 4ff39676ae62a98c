"""One store test suite, run against every store: each test taking ``store`` runs once on the
embedded SQLite store and once on a real QuestDB server (``questdb_url`` comes from the
``papertape.devtools.pytest_questdb`` plugin the root conftest loads)."""

from __future__ import annotations

import pytest

from papertape.store import store_for
from papertape.store.base import Store


@pytest.fixture(params=["sqlite", "questdb"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("questdb_url")


@pytest.fixture
async def store(store_url: str):
    opened: Store = store_for(store_url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()

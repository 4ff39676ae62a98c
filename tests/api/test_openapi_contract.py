"""The published API contract holds: schemathesis generates requests from the server's own
``/openapi.json`` (valid and invalid ones) and sends them to a real ``papertape serve`` process.
No request may get a 5xx, and every response must match what the schema declares (status code,
content type, body).

Kept bounded (a few examples per operation) so the whole module stays well under a minute;
raise ``PAPERTAPE_SCHEMATHESIS_EXAMPLES`` for a deeper run.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from papertape.api.app import AppSettings, create_app
from papertape.market.dataset_import import import_dataset
from papertape.store import open_store
from tests.api.test_lifecycle_http import TRADES_FILE
from tests.conftest import shared_file
from tests.support.server import ServerProcess, double_server

EXAMPLES = int(os.environ.get("PAPERTAPE_SCHEMATHESIS_EXAMPLES", "6"))


async def import_in_process(url: str, name: str, file: Path, symbol: str) -> None:
    store = await open_store(url)
    try:
        await import_dataset(store, str(file), name, symbol, None)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{root / 'papertape.db'}"
    asyncio.run(import_in_process(url, "btc_trades", shared_file(TRADES_FILE), "BTC_USDT"))
    process = double_server(url, root / "server.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def reached() -> Iterator[Counter]:
    """Requests sent per operation, printed at the end of the module (``-s``) for the record."""
    counts: Counter = Counter()
    yield counts
    if counts:
        documented = {
            f"{method.upper()} {path}"
            for path, item in APP_SCHEMA["paths"].items()
            for method in item
            if method in ("get", "post", "put", "patch", "delete")
        }
        to_documented = {op: n for op, n in counts.items() if op in documented}
        print(
            f"\nschemathesis: {sum(counts.values())} requests ({EXAMPLES} examples per "
            f"operation); {sum(to_documented.values())} to {len(to_documented)} of the "
            f"{len(documented)} documented operations, the rest probing undocumented methods: "
            f"{dict(sorted(to_documented.items()))}"
        )


# The document the server publishes is generated from the app; it is loaded here at import
# time (schemathesis parametrizes at collection) and checked to equal the served one below.
APP_SCHEMA = create_app(AppSettings(store_url="sqlite:///unused.db")).openapi()
schema = schemathesis.openapi.from_dict(APP_SCHEMA)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_the_contract(case, server: ServerProcess, reached: Counter) -> None:
    reached[f"{case.method.upper()} {case.path}"] += 1
    # positive_data_acceptance is left out: a request can be valid by the schema and still be
    # refused for what no schema can say (a dataset or session that does not exist: 404/422)
    case.call_and_validate(
        base_url=server.url, excluded_checks=[positive_data_acceptance], timeout=30
    )


def test_the_served_document_is_the_tested_one(server: ServerProcess) -> None:
    served = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    assert served == APP_SCHEMA


def test_the_schema_lists_the_lifecycle(server: ServerProcess) -> None:
    document = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    paths = document["paths"]
    for path, method in [
        ("/sessions/start", "post"),
        ("/sessions/stop", "post"),
        ("/sessions/{session_id}/stop", "post"),
        ("/sessions", "get"),
        ("/sessions/{session_id}", "get"),
        ("/sessions/{session_id}/events", "get"),
        ("/health", "get"),
        ("/datasets", "get"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} is not in /openapi.json"
    stop = paths["/sessions/stop"]["post"]["responses"]
    for status in ("200", "404", "422", "504"):
        assert status in stop, f"POST /sessions/stop does not declare {status}"


# --- what schemathesis found, pinned ---------------------------------------------------------
def test_a_body_that_cannot_be_parsed_is_a_422(server: ServerProcess) -> None:
    for path, headers, content in [
        ("/sessions/start", {"Content-Type": "application/json"}, b"\xff\x19]d\xfe"),
        ("/sessions/stop", {"Content-Type": "application/json"}, b"\xff\xfe"),
        (
            "/datasets",
            {"Content-Type": "multipart/form-data; boundary=b0"},
            b"--b0\r\nTrue--b0--\r\n",
        ),
    ]:
        response = httpx.post(f"{server.url}{path}", headers=headers, content=content, timeout=10)
        assert response.status_code == 422, (path, response.text)
        body = response.json()
        assert body["error_code"] == "validation_error"
        assert body["details"][0]["field"] == "body"


def test_405_lists_every_method_of_the_path(server: ServerProcess) -> None:
    for path, methods in [
        ("/datasets", "GET, POST"),
        ("/strategies", "GET, POST"),
        ("/sessions/x/orders", "GET, POST"),
        ("/sessions/x", "GET"),
        ("/sessions/start", "POST"),
        ("/sessions/stop_all", "POST"),
    ]:
        response = httpx.request("PATCH", f"{server.url}{path}", timeout=10)
        assert response.status_code == 405
        assert response.headers["allow"] == methods, path
        assert response.json()["error_code"] == "method_not_allowed"

"""Nothing a client sends produces a 5xx: numbers beyond what the stores hold are a 422 naming the
field, non-standard JSON is a 422, and an unexpected crash answers a generic 500 whose error id
is in the log — never the exception's text."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send
from structlog.testing import capture_logs

from papertape.api.errors import CrashMiddleware
from tests.conftest import module_server
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('no5xx') / 'papertape.db'}"
    yield from module_server(url, tmp_path_factory)


def assert_422_naming(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_code"] == "validation_error"
    assert field in [d["field"] for d in body["details"]], body


@pytest.mark.parametrize("value", [2**63, 2**64, -1, 10**30])
def test_integers_beyond_the_store_are_422(server: ServerProcess, value: int) -> None:
    with server.client() as http:
        events = http.get("/sessions/x/events", params={"after_seq": value})
        assert_422_naming(events, "after_seq")
        for field in ("end_us", "start_us"):
            candles = http.get("/data/x/candles", params={"symbol": "BTC_USDT", field: value})
            assert_422_naming(candles, field)


def test_the_largest_values_the_stores_hold_are_accepted(server: ServerProcess) -> None:
    with server.client() as http:
        events = http.get("/sessions/x/events", params={"after_seq": 2**63 - 1})
        assert events.status_code == 404  # a valid number; the session does not exist
        candles = http.get("/data/x/candles", params={"symbol": "BTC_USDT", "end_us": 2**62})
        assert candles.status_code == 404


@pytest.mark.parametrize(
    "text",
    [
        '{"mode": "paper", "symbols": ["BTC_USDT"], "cash": NaN}',
        '{"mode": "paper", "symbols": ["BTC_USDT"], "cash": Infinity}',
        '{"mode": "paper", "symbols": ["BTC_USDT"], "cash": -Infinity}',
        '{"mode": "paper", "symbols": ["BTC_USDT"], "cash": 1e309}',
        '{"mode": "paper", "symbols": ["BTC_USDT"], "label": ' + "[" * 65 + "]" * 65 + "}",
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_non_standard_json_is_422(server: ServerProcess, text: str) -> None:
    with server.client() as http:
        response = http.post(
            "/sessions/start", content=text, headers={"content-type": "application/json"}
        )
    assert_422_naming(response, "body")
    assert response.json()["message"].startswith("invalid request: body: malformed JSON")


def test_nesting_up_to_the_limit_is_read(server: ServerProcess) -> None:
    deep = "[" * 60 + "]" * 60
    text = '{"mode": "paper", "symbols": ["BTC_USDT"], "label": ' + deep + "}"
    with server.client() as http:
        response = http.post(
            "/sessions/start", content=text, headers={"content-type": "application/json"}
        )
    assert_422_naming(response, "label")  # parsed, then refused by the schema: not a string


async def test_a_crash_answers_a_generic_500_with_an_error_id() -> None:
    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret: /var/lib/papertape/db.sqlite at line 42")

    app = CrashMiddleware(crashing)
    transport = httpx.ASGITransport(app=app)
    with capture_logs() as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            response = await http.get("/sessions")
    assert response.status_code == 500
    body = response.json()
    assert body["error_code"] == "internal_error"
    assert "secret" not in response.text and "RuntimeError" not in response.text
    error_id = body["details"]["error_id"]
    assert error_id in body["message"]
    [entry] = [e for e in logs if e["event"] == "api.crash"]
    assert entry["error_id"] == error_id and entry["log_level"] == "error"
    assert json.dumps(entry, default=str)  # the log line is serialisable

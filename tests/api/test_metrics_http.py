"""``GET /metrics`` over real HTTP: the Prometheus text a scraper reads, with figures that move
when sessions start and stop, the store writes and a websocket watches; token-protected like the
rest of the API off loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.api.test_lifecycle_http import TRADES_FILE
from tests.api.test_openapi_contract import import_in_process
from tests.conftest import shared_file
from tests.support.server import ServerProcess

DATASET = "metrics_trades"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("metrics")
    url = f"sqlite:///{root / 'papertape.db'}"
    asyncio.run(import_in_process(url, DATASET, shared_file(TRADES_FILE), "BTC_USDT"))
    process = ServerProcess(url, root / "server.log").start()
    yield process
    process.stop()


def scrape(server: ServerProcess) -> dict[tuple[str, tuple], float]:
    response = httpx.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_sessions_store_and_websockets(server: ServerProcess) -> None:
    paper = {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "market": {"source": "replay", "dataset": DATASET, "speed": 1},
    }
    with server.client() as http:
        sid = http.post("/sessions/start", json=paper).json()["data"]["session_id"]
        ws_url = server.url.replace("http://", "ws://") + "/ws"
        with connect(ws_url) as socket:
            socket.send(json.dumps({"action": "subscribe", "topic": "session", "session_id": sid}))
            time.sleep(1.5)  # ticks flow, coalesced
            during = scrape(server)
            received = []
            while True:
                try:
                    received.append(json.loads(socket.recv(timeout=0.2)))
                except TimeoutError:
                    break
        assert http.post("/sessions/stop", json={"session_id": sid}).status_code == 200
        backtest = {**paper, "mode": "backtest", "market": {**paper["market"], "speed": 0}}
        done = http.post("/sessions/start", json=backtest).json()["data"]["session_id"]
        deadline = time.monotonic() + 30
        while http.get(f"/sessions/{done}").json()["data"]["state"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    after = scrape(server)

    assert value(during, "papertape_sessions", state="running", mode="paper") == 1
    assert value(during, "papertape_sessions_running_here", mode="paper") == 1
    assert value(during, "papertape_feeds", exchange="replay", state="replaying") == 1
    assert value(during, "papertape_ws_subscribers") == 1
    assert value(during, "papertape_engine_events_total") > 0
    assert value(after, "papertape_sessions", state="stopped", mode="paper") == 1
    assert value(after, "papertape_sessions", state="completed", mode="backtest") == 1
    assert value(after, "papertape_session_start_seconds_count", mode="paper") == 1
    assert value(after, "papertape_session_start_seconds_count", mode="backtest") == 1
    assert value(after, "papertape_session_stop_seconds_count", stopped_via="controller") == 1
    assert value(after, "papertape_store_write_seconds_count", operation="create_session") == 2
    # the paper session's feed state, recorded while it ran (a short backtest may end before its
    # feed's first state is recorded, so only the paper session's row is certain)
    written = value(during, "papertape_store_rows_written_total", operation="append_events")
    assert written >= 1
    assert value(after, "papertape_store_rows_written_total", operation="append_events") >= written
    assert value(after, "papertape_store_write_failures_total", operation="update_session") == 0
    assert value(after, "papertape_engine_events_total") >= 2_001  # the backtest read every print
    assert value(after, "papertape_event_loop_lag_seconds_count") > 10
    sent = value(after, "papertape_ws_messages_sent_total")
    assert sent >= len([m for m in received if m["type"] in ("tick", "event", "events", "session")])
    ticks = [m for m in received if m["type"] == "tick"]
    assert ticks and len(ticks) <= 2 * (1.5 / 0.25) + 4  # at most ~4 a second per stream


def test_health_reports_event_loop_lag(server: ServerProcess) -> None:
    data = httpx.get(f"{server.url}/health", timeout=10).json()["data"]
    assert 0 <= data["event_loop_lag_ms"] < 10_000


def test_metrics_need_the_token_beyond_loopback(tmp_path) -> None:
    process = ServerProcess(
        f"sqlite:///{tmp_path / 't.db'}",
        tmp_path / "server.log",
        extra_env={"PAPERTAPE_API_TOKEN": "s3cret"},
    ).start()
    try:
        refused = httpx.get(f"{process.url}/metrics", timeout=10)
        assert refused.status_code == 401 and refused.json()["error_code"] == "unauthorized"
        allowed = httpx.get(
            f"{process.url}/metrics", headers={"Authorization": "Bearer s3cret"}, timeout=10
        )
        assert allowed.status_code == 200 and "papertape_sessions" in allowed.text
    finally:
        process.stop()

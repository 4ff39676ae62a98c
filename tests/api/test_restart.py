"""Crashes and restarts: kill -9 the server with sessions running, start it again on the same
store, and no session is left "running" with nothing running it."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.api.test_lifecycle_http import PAPER_LIVE, TRADES_FILE, import_dataset, replay
from tests.conftest import shared_file
from tests.support.server import ServerProcess


def _start(client: httpx.Client, body: dict) -> str:
    response = client.post("/sessions/start", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["session_id"]


def test_kill9_then_restart_resumes_or_fails_every_session(
    any_store_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    import_dataset(any_store_url, "btc_trades", shared_file(TRADES_FILE), "BTC_USDT")
    first = start_server(any_store_url)
    with first.client() as client:
        paper_replay = _start(client, replay(speed=1))
        paper_live = _start(client, PAPER_LIVE)
        backtest = _start(
            client,
            {**replay(speed=0), "mode": "backtest"}
            | {"market": {"source": "replay", "dataset": "btc_trades"}},
        )
        time.sleep(2.5)  # let the replay checkpoint its progress
        before = client.get(f"/sessions/{paper_replay}").json()["data"]
        assert before["counters"]["events_seen"] > 0
    first.kill()

    second = start_server(any_store_url)
    with second.client() as client:
        details = {
            sid: client.get(f"/sessions/{sid}").json()["data"]
            for sid in (paper_replay, paper_live, backtest)
        }
        for detail in details.values():
            assert detail["state"] in ("running", "failed", "completed"), detail
            if detail["state"] == "running":
                assert detail["running_here"] is True  # really running, not a stale row
            if detail["state"] == "failed":
                assert detail["error_code"] == "interrupted"
        assert details[paper_replay]["state"] == "running"
        assert details[paper_live]["state"] == "running"
        resumed = [
            e
            for e in client.get(f"/sessions/{paper_replay}/events").json()["data"]["events"]
            if e["kind"] == "resumed"
        ]
        assert resumed and resumed[0]["data"]["from_checkpoint"] is not None
        for sid in details:
            response = client.post("/sessions/stop", json={"session_id": sid})
            assert response.status_code == 200, response.text
        listed = client.get("/sessions", params={"state": "running"}).json()["data"]
        assert listed["total"] == 0


def test_graceful_restart_suspends_and_resumes_paper_sessions(
    any_store_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    import_dataset(any_store_url, "btc_trades", shared_file(TRADES_FILE), "BTC_USDT")
    first = start_server(any_store_url)
    with first.client() as client:
        session_id = _start(client, replay(speed=1))
    assert first.stop() in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown
    assert '"outcome": "suspended"' in first.log_path.read_text()
    second = start_server(any_store_url)
    with second.client() as client:
        detail = client.get(f"/sessions/{session_id}").json()["data"]
        assert detail["state"] == "running" and detail["running_here"] is True
        stop = client.post(f"/sessions/{session_id}/stop").json()["data"]
        after = client.get(f"/sessions/{session_id}").json()["data"]
        assert stop["stopped_via"] == "controller" and stop["final_state"] == "stopped", after

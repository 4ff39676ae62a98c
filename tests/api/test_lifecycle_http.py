"""The session lifecycle over real HTTP, against a server started as a user starts it, on both
stores. These are the tests the platform exists to pass: no 404 for an id it handed out, no
half-stopped session, nothing lost across a crash."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import module_server, shared_file
from tests.support.server import ServerProcess

PAPER_LIVE = {"mode": "paper", "symbols": ["BTC_USDT"], "strategies": []}
TRADES_FILE = "binance_btcusdt_trades_2021-01-08.parquet"  # 2,001 trades over ~40 s


def replay(speed: float, dataset: str = "btc_trades", **extra) -> dict:
    return {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "strategies": [],
        "market": {"source": "replay", "dataset": dataset, "speed": speed},
        **extra,
    }


def import_dataset(store_url: str, name: str, file: Path, symbol: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "papertape",
            "data",
            "import",
            str(file),
            "--name",
            name,
            "--symbol",
            symbol,
            "--store",
            store_url,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"data import failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def store_url(module_store_url: str) -> str:
    import_dataset(module_store_url, "btc_trades", shared_file(TRADES_FILE), "BTC_USDT")
    return module_store_url


@pytest.fixture(scope="module")
def server(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from module_server(store_url, tmp_path_factory)


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def start(http: httpx.Client, body: dict) -> dict:
    response = http.post("/sessions/start", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


# --- the three cases of the original root-cause analysis -------------------------------------
def test_start_then_stop_answers_200(http: httpx.Client) -> None:
    started = start(http, PAPER_LIVE)
    assert started["state"] == "running"
    response = http.post("/sessions/stop", json={"session_id": started["session_id"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "session_stopped"
    assert body["data"] == {
        "session_id": started["session_id"],
        "stopped_via": "controller",
        "final_state": "stopped",
        "stop_reason": "user",
        "error_code": None,
    }


def test_stop_twice_answers_200_both_times(http: httpx.Client) -> None:
    session_id = start(http, PAPER_LIVE)["session_id"]
    first = http.post("/sessions/stop", json={"session_id": session_id})
    second = http.post("/sessions/stop", json={"session_id": session_id})
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["data"]["stopped_via"] == "controller"
    assert second.json()["data"]["stopped_via"] == "already_stopped"
    assert second.json()["data"]["final_state"] == "stopped"


def test_stop_unknown_session_is_404(http: httpx.Client) -> None:
    response = http.post("/sessions/stop", json={"session_id": "fake_session_12345"})
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == "error"
    assert body["error_code"] == "session_not_found"
    assert "fake_session_12345" in body["message"]
    assert http.post("/sessions/fake_session_12345/stop").status_code == 404


# --- no window where a handed-out id is unknown -----------------------------------------------
def test_session_is_found_right_after_start(http: httpx.Client) -> None:
    for _ in range(5):
        started = start(http, replay(speed=1))
        detail = http.get(f"/sessions/{started['session_id']}")
        assert detail.status_code == 200
        assert detail.json()["data"]["state"] == "running"
        assert detail.json()["data"]["running_here"] is True
        listed = http.get("/sessions", params={"limit": 500}).json()["data"]["sessions"]
        assert started["session_id"] in [s["session_id"] for s in listed]
        assert http.post(f"/sessions/{started['session_id']}/stop").status_code == 200


def test_path_form_of_stop(http: httpx.Client) -> None:
    session_id = start(http, PAPER_LIVE)["session_id"]
    response = http.post(f"/sessions/{session_id}/stop")
    assert response.status_code == 200
    assert response.json()["data"]["final_state"] == "stopped"
    detail = http.get(f"/sessions/{session_id}").json()["data"]
    assert detail["state"] == "stopped"
    assert detail["stop_reason"] == "user"
    assert detail["ended_at"] is not None


# --- concurrency ------------------------------------------------------------------------------
def test_20_sessions_times_8_concurrent_stops(server: ServerProcess, http: httpx.Client) -> None:
    ids = [start(http, replay(speed=1))["session_id"] for _ in range(20)]

    async def stop_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            calls = [
                client.post("/sessions/stop", json={"session_id": sid})
                for sid in ids
                for _ in range(8)
            ]
            return await asyncio.gather(*calls)

    responses = asyncio.run(stop_all())
    assert [r.status_code for r in responses] == [200] * 160
    for session_id in ids:
        vias = [
            r.json()["data"]["stopped_via"]
            for r in responses
            if r.json()["data"]["session_id"] == session_id
        ]
        assert sorted(vias) == ["already_stopped"] * 7 + ["controller"]
        detail = http.get(f"/sessions/{session_id}").json()["data"]
        assert detail["state"] == "stopped", detail


def test_stop_racing_a_session_that_completes_by_itself(http: httpx.Client) -> None:
    """The 40 s of trades replay at 400x: ~0.1 s. Stops land before, during and after the end."""
    outcomes = set()
    for delay in (0, 0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5):
        session_id = start(http, replay(speed=400))["session_id"]
        time.sleep(delay)
        response = http.post("/sessions/stop", json={"session_id": session_id})
        assert response.status_code == 200, response.text
        final = response.json()["data"]["final_state"]
        assert final in ("stopped", "completed")
        detail = http.get(f"/sessions/{session_id}").json()["data"]
        assert detail["state"] == final
        states = [e["data"]["to"] for e in _events(http, session_id) if e["kind"] == "state"]
        assert states[:2] == ["starting", "running"]
        assert (
            states[-1] == final
            and len([s for s in states if s in ("stopped", "completed", "failed")]) == 1
        )
        outcomes.add(final)
    assert "completed" in outcomes  # the race was really run on both sides
    assert "stopped" in outcomes


def test_replay_completes_by_itself(http: httpx.Client) -> None:
    session_id = start(http, replay(speed=0))["session_id"]
    detail = _wait_for_state(http, session_id, "completed")
    assert detail["counters"]["events_seen"] == 2001
    assert detail["ended_at"] is not None


def test_several_sessions_run_at_once(http: httpx.Client) -> None:
    ids = [start(http, replay(speed=1))["session_id"] for _ in range(3)]
    ids.append(start(http, PAPER_LIVE)["session_id"])
    for session_id in ids:
        assert http.get(f"/sessions/{session_id}").json()["data"]["state"] == "running"
    for session_id in ids:
        assert http.post(f"/sessions/{session_id}/stop").status_code == 200


# --- idempotency, events, listing -----------------------------------------------------------
def test_idempotency_key_returns_the_same_session(http: httpx.Client) -> None:
    key = f"retry-{time.time_ns()}"
    first = http.post("/sessions/start", json={**PAPER_LIVE, "idempotency_key": key})
    second = http.post("/sessions/start", json={**PAPER_LIVE, "idempotency_key": key})
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["status"] == "session_exists"
    assert first.json()["data"]["session_id"] == second.json()["data"]["session_id"]
    http.post(f"/sessions/{first.json()['data']['session_id']}/stop")


def test_events_are_numbered_and_catch_up_from_after_seq(http: httpx.Client) -> None:
    session_id = start(http, PAPER_LIVE)["session_id"]
    http.post(f"/sessions/{session_id}/stop")
    events = _events(http, session_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    states = [e["data"]["to"] for e in events if e["kind"] == "state"]
    assert states == ["starting", "running", "stopping", "stopped"]
    tail = http.get(f"/sessions/{session_id}/events", params={"after_seq": 2}).json()["data"]
    assert [e["seq"] for e in tail["events"]] == list(range(3, len(events) + 1))
    assert tail["last_seq"] == len(events)


def test_list_filters_and_pages_newest_first(http: httpx.Client) -> None:
    ids = [start(http, replay(speed=1, label="page-test"))["session_id"] for _ in range(3)]
    for session_id in ids:
        http.post(f"/sessions/{session_id}/stop")
    page = http.get(
        "/sessions", params={"state": "stopped", "mode": "paper", "symbol": "btc/usdt", "limit": 2}
    ).json()["data"]
    assert page["total"] >= 3 and len(page["sessions"]) == 2
    created = [s["created_at"] for s in page["sessions"]]
    assert created == sorted(created, reverse=True)
    assert all(s["state"] == "stopped" for s in page["sessions"])
    second = http.get("/sessions", params={"state": "stopped", "limit": 2, "offset": 2}).json()
    assert not {s["session_id"] for s in second["data"]["sessions"]} & {
        s["session_id"] for s in page["sessions"]
    }
    none = http.get("/sessions", params={"symbol": "NOPE_USDT"}).json()["data"]
    assert none == {"sessions": [], "total": 0, "limit": 50, "offset": 0}


# --- bad input never gets a 500 ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"mode": "papr", "symbols": ["BTC_USDT"]}, "validation_error", "mode"),
        ({"mode": "paper", "symbols": "BTC_USDT"}, "validation_error", "symbols"),
        ({"mode": "paper", "symbols": []}, "validation_error", "symbols"),
        ({"mode": "paper", "symbols": ["BTC_USDT"], "cash": "lots"}, "validation_error", "cash"),
        ({"mode": "paper", "symbols": ["BTC_USDT"], "surprise": 1}, "validation_error", "surprise"),
        (
            {
                "mode": "paper",
                "symbols": ["BTC_USDT"],
                "market": {"source": "replay", "dataset": "no_such_data"},
            },
            "unknown_dataset",
            "market.dataset",
        ),
        (
            {
                "mode": "paper",
                "symbols": ["ETH_USDT"],
                "market": {"source": "replay", "dataset": "btc_trades"},
            },
            "unknown_symbol",
            "symbols",
        ),
        (
            {"mode": "paper", "symbols": ["BTC_USDT"], "strategies": ["no_such_strategy"]},
            "unknown_strategy",
            "strategies.0.name",
        ),
        ({"mode": "live", "symbols": ["BTC_USDT"]}, "live_trading_disabled", "mode"),
        (
            {
                "mode": "live",
                "symbols": ["BTC_USDT"],
                "market": {"source": "replay", "dataset": "btc_trades"},
            },
            "validation_error",
            "market.source",
        ),
        ({"mode": "backtest", "symbols": ["BTC_USDT"]}, "validation_error", "market.source"),
        (
            {"mode": "paper", "symbols": ["BTC_USDT"], "market": {"source": "replay"}},
            "validation_error",
            "market.dataset",
        ),
        (
            {"mode": "collect", "symbols": ["BTC_USDT"], "strategies": ["sma_cross"]},
            "validation_error",
            "strategies",
        ),
        ({"mode": "paper", "symbols": ["BTC_USDT"], "leverage": 3}, "validation_error", "leverage"),
    ],
)
def test_bad_start_requests_get_specific_422s(
    http: httpx.Client, body: dict, code: str, field: str
) -> None:
    before = http.get("/sessions").json()["data"]["total"]
    response = http.post("/sessions/start", json=body)
    assert response.status_code in (403, 422), response.text
    error = response.json()
    assert error["status"] == "error" and error["error_code"] == code
    assert field in [d["field"] for d in error["details"]]
    assert http.get("/sessions").json()["data"]["total"] == before  # nothing half-created


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b'{"mode": "paper", "symbols": [', 422, "validation_error"),
        (b"not json at all", 422, "validation_error"),
        (b"[1, 2, 3]", 422, "validation_error"),
        (b'{"session_id": 12345}', 422, "validation_error"),
        (b"{}", 422, "validation_error"),
        (json.dumps({"session_id": "x" * 2_000_000}).encode(), 413, "payload_too_large"),
    ],
)
def test_malformed_bodies_get_4xx_envelopes(
    http: httpx.Client, content: bytes, status: int, code: str
) -> None:
    for path in ("/sessions/start", "/sessions/stop"):
        response = http.post(path, content=content, headers={"content-type": "application/json"})
        assert response.status_code == status, response.text
        assert response.json()["error_code"] == code


def test_unknown_routes_and_methods_use_the_error_envelope(http: httpx.Client) -> None:
    assert http.get("/nope").json()["error_code"] == "not_found"
    response = http.get("/sessions/stop")
    assert response.status_code in (404, 405)
    assert response.json()["status"] == "error"


def test_health_reports_the_store(http: httpx.Client, store_url: str) -> None:
    body = http.get("/health").json()
    assert body["status"] == "ok"
    assert body["data"]["store_reachable"] is True
    assert body["data"]["store"] == store_url.split("://")[0]


# --- /ws --------------------------------------------------------------------------------------
def test_websocket_catches_up_then_streams_without_gaps_or_duplicates(
    server: ServerProcess, http: httpx.Client
) -> None:
    session_id = start(http, replay(speed=1))["session_id"]
    with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=10) as ws:
        ws.send(
            json.dumps(
                {
                    "action": "subscribe",
                    "topic": "session",
                    "session_id": session_id,
                    "after_seq": 0,
                }
            )
        )
        seqs, saw_tick, stop_sent = [], False, False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=10))
            if message["type"] == "tick" and message["kind"] == "price":
                saw_tick = True
                assert message["seq"] >= 2 and message["data"]["prices"]["BTC_USDT"]["price"] > 0
            if saw_tick and not stop_sent:  # stop once prices flow; keep reading meanwhile
                stop_sent = True
                threading.Thread(
                    target=lambda: http.post(f"/sessions/{session_id}/stop"), daemon=True
                ).start()
            events = message["events"] if message["type"] == "events" else [message]
            for event in (e for e in events if e["type"] == "event"):
                seqs.append(event["seq"])
            if any(e.get("kind") == "state" and e["data"]["to"] == "stopped" for e in events):
                break
    assert seqs == list(range(1, seqs[-1] + 1))
    assert saw_tick  # prices were pushed while it ran
    assert stop_sent
    assert seqs[-1] == http.get(f"/sessions/{session_id}").json()["data"]["last_seq"]


def test_websocket_rejects_nonsense_without_closing(server: ServerProcess) -> None:
    with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=10) as ws:
        ws.send("not json")
        assert json.loads(ws.recv(timeout=5))["error_code"] == "validation_error"
        ws.send(
            json.dumps(
                {"action": "subscribe", "topic": "session", "session_id": "fake_session_12345"}
            )
        )
        assert json.loads(ws.recv(timeout=5))["error_code"] == "session_not_found"
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "pong"


# --- helpers ----------------------------------------------------------------------------------
def _events(http: httpx.Client, session_id: str) -> list[dict]:
    return http.get(f"/sessions/{session_id}/events").json()["data"]["events"]


def _wait_for_state(http: httpx.Client, session_id: str, state: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = http.get(f"/sessions/{session_id}").json()["data"]
        if detail["state"] == state:
            return detail
        time.sleep(0.05)
    raise AssertionError(f"{session_id} is {detail['state']}, not {state}")


def test_emergency_stop_all_stops_every_running_session(http: httpx.Client) -> None:
    ids = [start(http, replay(speed=1))["session_id"] for _ in range(3)]
    response = http.post("/sessions/stop_all")
    assert response.status_code == 200, response.text
    stopped = {item["session_id"]: item for item in response.json()["data"]["stopped"]}
    assert set(ids) <= set(stopped)
    for session_id in ids:
        detail = http.get(f"/sessions/{session_id}").json()["data"]
        assert detail["state"] == "stopped" and detail["stop_reason"] == "emergency"
    assert http.get("/sessions", params={"state": "running"}).json()["data"]["total"] == 0

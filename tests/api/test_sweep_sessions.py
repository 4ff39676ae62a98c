"""A sweep as a session, over real HTTP on both stores: started, listed, watched over ``/ws``,
stopped with its finished trials kept, and resumed after a kill -9 without running a recorded
trial again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.api.test_lifecycle_http import TRADES_FILE, import_dataset
from tests.cli.test_cli import papertape
from tests.conftest import shared_file
from tests.research.test_sweep_cli import sweep_json
from tests.support.candles import write_candles
from tests.support.server import ServerProcess

GRID = {"fast": "5:25:10", "slow": "15:35:10"}  # the CLI test's grid: 6 trials, 3 refused
LONG_GRID = {"fast": "2:40:1", "slow": [45, 60, 75]}  # 117 trials, 0.05 s each or more


@pytest.fixture(scope="module")
def candles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_candles(tmp_path_factory.mktemp("candles"))


def sweep_body(grid: dict[str, Any], **sweep: Any) -> dict[str, Any]:
    return {
        "mode": "sweep",
        "symbols": ["BTC_USDT"],
        "strategies": ["sma_cross"],
        "market": {"source": "replay", "dataset": "btc_1m"},
        "fees": {"taker": 0.001, "maker": 0.001},
        "sweep": {"grid": grid, **sweep},
    }


def slow_sweep_body(grid: dict[str, Any], **sweep: Any) -> dict[str, Any]:
    """A sweep that takes seconds: slippage keeps every trial on the event engine (on the fast
    path the 117 trials would finish before a test could stop or kill the sweep)."""
    return {**sweep_body(grid, **sweep), "venue": {"slippage_bps": 1.0}}


def start(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post("/sessions/start", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["session_id"]


def trials(client: httpx.Client, session_id: str) -> dict[str, Any]:
    response = client.get(f"/sessions/{session_id}/trials")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_for(check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s")


def state(client: httpx.Client, session_id: str) -> str:
    return client.get(f"/sessions/{session_id}").json()["data"]["state"]


def trial_events(client: httpx.Client, session_id: str) -> list[dict[str, Any]]:
    events = client.get(f"/sessions/{session_id}/events", params={"limit": 10_000}).json()
    return [e["data"] for e in events["data"]["events"] if e["kind"] == "trial"]


def test_a_sweep_session_runs_lists_streams_and_matches_the_cli(
    any_store_url: str, start_server: Callable[..., ServerProcess], candles_file: Path
) -> None:
    import_dataset(any_store_url, "btc_1m", candles_file, "BTC_USDT")
    server = start_server(any_store_url)
    with server.client() as client, connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        session_id = start(client, sweep_body(GRID, objective="return", workers=2))
        ws.send(
            json.dumps(
                {
                    "action": "subscribe",
                    "topic": "session",
                    "session_id": session_id,
                    "after_seq": 0,
                }
            )
        )  # from the first event: refused sets are recorded the moment the sweep starts
        seen, progress = [], []
        subscribed_at = ended_at = None
        while ended_at is None:
            message = json.loads(ws.recv(timeout=60))
            if message["type"] == "subscribed":
                subscribed_at = message["last_seq"]
            if message["type"] == "tick" and message["kind"] == "sweep":
                progress.append(message["data"]["done"])
            # events come one by one, or several in order in one "events" message
            for event in message["events"] if message["type"] == "events" else [message]:
                if event["type"] == "event" and event["kind"] == "trial":
                    seen.append(event["data"]["number"])
                if event["type"] == "event" and event["data"].get("to") == "completed":
                    ended_at = event["seq"]
        assert sorted(seen) == list(range(9))
        assert subscribed_at is not None
        if ended_at > subscribed_at:
            # subscribed while it ran: shown its progress (the latest tick at once, then each
            # new one; coalesced, so not every count) up to the last, which may come a little
            # after the end's event
            while not progress or progress[-1] != 9:
                message = json.loads(ws.recv(timeout=10))
                if message["type"] == "tick" and message["kind"] == "sweep":
                    progress.append(message["data"]["done"])
            assert progress == sorted(progress)
        else:  # it ended before the subscription: an ended session's ticks are not sent
            assert progress == []
        listed = client.get("/sessions", params={"mode": "sweep"}).json()["data"]
        assert [s["session_id"] for s in listed["sessions"]] == [session_id]
        assert listed["sessions"][0]["counters"]["sweep"]["done"] == 9
        data = trials(client, session_id)
    cli = sweep_json(candles_file, "--workers", "1", "--objective", "return")
    assert [t["params"] for t in data["trials"]] == [t["params"] for t in cli["trials"]]
    assert [t["metrics"] for t in data["trials"]] == [t["metrics"] for t in cli["trials"]]
    assert [t["engine"] for t in data["trials"]] == [t["engine"] for t in cli["trials"]]
    assert {t["engine"] for t in data["trials"]} == {"vectorised"}  # sma_cross's fast path
    assert data["best"]["engine"] == "vectorised"
    assert [s["params"] for s in data["skipped"]] == [s["params"] for s in cli["skipped"]]
    assert data["best"]["metrics"] == cli["best"]["metrics"]
    assert data["total"] == 9 and data["objective"] == "return"
    assert [a["name"] for a in data["axes"]] == ["fast", "slow"]


def test_a_sweep_of_a_trades_dataset_matches_the_cli(
    any_store_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    """The session's worker loads the trades beside its own store (on SQLite through
    ``sqlite3``); the CLI's process reads them alone (through the ADBC driver): same trials."""
    import_dataset(any_store_url, "btc_trades", shared_file(TRADES_FILE), "BTC_USDT")
    grid = {"fast": [2, 3], "slow": [5], "bar_interval": [1]}
    server = start_server(any_store_url)
    with server.client() as client:
        body = {
            **sweep_body(grid, workers=2),
            "market": {"source": "replay", "dataset": "btc_trades"},
        }
        session_id = start(client, body)
        wait_for(lambda: state(client, session_id) == "completed")
        data = trials(client, session_id)
    flags = ["--grid", "fast=2,3", "--grid", "slow=5", "--grid", "bar_interval=1"]
    cli = papertape(
        "sweep", "--dataset", "btc_trades", "--store", any_store_url, "--symbol", "BTC_USDT",
        "--strategy", "sma_cross", *flags, "--fee", "0.001", "--workers", "2", "--json",
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)["trials"]
    assert [t["params"] for t in data["trials"]] == [t["params"] for t in expected]
    assert [t["metrics"] for t in data["trials"]] == [t["metrics"] for t in expected]
    assert {t["engine"] for t in data["trials"]} == {"event"}  # trades: the event engine
    assert all(t["metrics"]["trades"] > 0 for t in data["trials"])


def test_a_stopped_sweep_keeps_its_finished_trials(
    any_store_url: str, start_server: Callable[..., ServerProcess], candles_file: Path
) -> None:
    import_dataset(any_store_url, "btc_1m", candles_file, "BTC_USDT")
    server = start_server(any_store_url)
    with server.client() as client:
        session_id = start(client, slow_sweep_body(LONG_GRID, workers=1))
        wait_for(lambda: len(trials(client, session_id)["trials"]) >= 3)
        stopped = client.post(f"/sessions/{session_id}/stop").json()["data"]
        assert stopped["final_state"] == "stopped"
        kept = trials(client, session_id)["trials"]
        assert 3 <= len(kept) < 117
        assert {t["engine"] for t in kept} == {"event"}  # slippage: no fast path
        time.sleep(1.5)  # nothing runs on after the stop
        assert trials(client, session_id)["trials"] == kept
        assert len(trial_events(client, session_id)) == len(kept)


def test_kill9_then_the_sweep_resumes_without_rerunning_trials(
    any_store_url: str, start_server: Callable[..., ServerProcess], candles_file: Path
) -> None:
    import_dataset(any_store_url, "btc_1m", candles_file, "BTC_USDT")
    first = start_server(any_store_url)
    with first.client() as client:
        session_id = start(client, slow_sweep_body(LONG_GRID, workers=1))
        wait_for(lambda: len(trials(client, session_id)["trials"]) >= 4)
    first.kill()

    second = start_server(any_store_url)
    with second.client() as client:
        before = trials(client, session_id)["trials"]
        assert 4 <= len(before) < 117, "the kill came too late to test a resume"
        wait_for(lambda: state(client, session_id) == "completed")
        after = trials(client, session_id)
        events = client.get(f"/sessions/{session_id}/events").json()["data"]["events"]
        assert any(e["kind"] == "resumed" for e in events)
        numbers = [t["number"] for t in trial_events(client, session_id)]
    assert sorted(t["number"] for t in after["trials"]) == list(range(117))
    assert len(numbers) == len(set(numbers))  # no trial ran (and was announced) twice
    assert sorted(numbers) == list(range(117))  # and each recorded one was announced
    recorded = {t["number"]: t for t in after["trials"]}
    assert all(recorded[t["number"]] == t for t in before)

"""Backtests run in worker processes (``papertape.sessions.engine_worker``), on a real
``papertape serve``: the worker is another process, its record is the one the server's own
threads make, and whatever dies — the worker, or the server — nothing is half-written and
nothing is left running."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.api.test_lifecycle_http import import_dataset
from tests.conftest import shared_file
from tests.support.server import ServerProcess

CANDLES = "btc-perp_1m_2022-01.csv.gz"  # 45,031 real 1m candles
BACKTEST = {
    "mode": "backtest",
    "symbols": ["BTC_USDT"],
    "market": {"source": "replay", "dataset": "btc_1m"},
    "strategies": [{"name": "sma_cross", "params": {"fast": 10, "slow": 30}}],
}
ENDED = ("completed", "stopped", "failed")


@pytest.fixture(scope="module")
def store_url(module_store_url: str) -> str:
    """A store holding the shared BTC-PERP month as ``btc_1m``, imported once for the module's
    tests (each of which ends every session it starts, so none resumes in the next one's server)."""
    import_dataset(module_store_url, "btc_1m", shared_file(CANDLES), "BTC_USDT")
    return module_store_url


@pytest.fixture
def server(store_url: str, start_server: Callable[..., ServerProcess]) -> ServerProcess:
    """A real server of its own on the module's store."""
    return start_server(store_url)


def _start(http: httpx.Client, body: dict | None = None) -> str:
    response = http.post("/sessions/start", json=body or BACKTEST)
    assert response.status_code == 201, response.text
    return response.json()["data"]["session_id"]


def _detail(http: httpx.Client, session_id: str) -> dict:
    return http.get(f"/sessions/{session_id}").json()["data"]


def _until(http: httpx.Client, session_id: str, states: tuple[str, ...], timeout=120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = _detail(http, session_id)
        if detail["state"] in states:
            return detail
        time.sleep(0.1)
    raise AssertionError(f"{session_id} never reached {states}: {detail['state']}")


def _worker_pid(http: httpx.Client, session_id: str) -> int:
    """The pid of the process running the session, once it has reported."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        detail = _detail(http, session_id)
        if pid := (detail.get("counters") or {}).get("worker_pid"):
            return int(pid)
        assert detail["state"] not in ENDED, "the backtest ended before its worker reported"
        time.sleep(0.02)
    raise AssertionError("no worker pid reported")


def _record(http: httpx.Client, session_id: str) -> dict:
    fills = http.get(f"/sessions/{session_id}/fills").json()["data"]["items"]
    detail = _detail(http, session_id)
    return {
        "fills": [(f["ts"], f["side"], f["qty"], f["price"], f["fee"]) for f in fills],
        "metrics": detail["metrics"],
    }


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _zombie(pid):
            return True
        time.sleep(0.05)
    return False


def _zombie(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return True


def test_a_backtest_runs_in_a_worker_and_records_what_the_server_itself_would(
    store_url: str, start_server: Callable[..., ServerProcess], server: ServerProcess
) -> None:
    with server.client() as http:
        in_worker = _start(http)
        pid = _worker_pid(http, in_worker)
        assert server.process is not None and pid != server.process.pid
        assert Path(f"/proc/{pid}").exists()
        _until(http, in_worker, ("completed",))
        assert _gone(pid, 10), "the worker outlived its backtest"
        worker_record = _record(http, in_worker)
    server.stop()

    threads = start_server(store_url, extra_args=["--no-engine-workers"])
    with threads.client() as http:
        in_server = _start(http)
        assert "worker_pid" not in (_detail(http, in_server).get("counters") or {})
        _until(http, in_server, ("completed",))
        server_record = _record(http, in_server)
    assert worker_record["metrics"]["trades"] == 931  # sma_cross 10/30 on this month
    assert worker_record == server_record


def test_signals_for_the_server_do_not_cut_a_worker_off(server: ServerProcess) -> None:
    """Ctrl-C in the server's terminal reaches its workers too: they ignore it and end when
    the server ends them (the backtest completes, its record whole)."""
    with server.client() as http:
        session_id = _start(http)
        pid = _worker_pid(http, session_id)
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
        detail = _until(http, session_id, ENDED)
        assert detail["state"] == "completed", detail
        assert detail["metrics"]["trades"] == 931


def test_a_killed_worker_fails_its_session_and_the_server_carries_on(
    server: ServerProcess,
) -> None:
    with server.client() as http:
        session_id = _start(http)
        os.kill(_worker_pid(http, session_id), signal.SIGKILL)
        detail = _until(http, session_id, ENDED)
        assert detail["state"] == "failed", detail
        assert detail["error_code"] == "runner_crashed"
        assert "worker process ended unexpectedly" in detail["error_message"]
        assert http.get("/health").status_code == 200
        assert _until(http, _start(http), ENDED)["state"] == "completed"


@pytest.mark.parametrize("moment", [0.8])
def test_a_killed_server_takes_its_workers_along_and_the_backtest_resumes_the_same(
    store_url: str,
    start_server: Callable[..., ServerProcess],
    server: ServerProcess,
    moment: float,
) -> None:
    with server.client() as http:
        reference = _start(http)
        _until(http, reference, ("completed",))
        expected = _record(http, reference)
        crashed = _start(http)
        pid = _worker_pid(http, crashed)
        time.sleep(moment)
    server.kill()
    assert _gone(pid, 10), "a worker outlived its server"

    second = start_server(store_url)
    with second.client() as http:
        detail = _until(http, crashed, ENDED)
        assert detail["state"] == "completed", detail
        assert _record(http, crashed) == expected


def test_a_stopped_backtest_keeps_a_whole_record(server: ServerProcess) -> None:
    with server.client() as http:
        session_id = _start(http)
        _worker_pid(http, session_id)
        stop = http.post(f"/sessions/{session_id}/stop")
        assert stop.status_code == 200, stop.text
        detail = _until(http, session_id, ENDED)
        assert detail["state"] == "stopped", detail
        fills = http.get(f"/sessions/{session_id}/fills").json()["data"]["items"]
        assert detail["metrics"]["fills"] == len(fills)
        assert [e["kind"] for e in _events(http, session_id)].count("results") == 1


def _events(http: httpx.Client, session_id: str) -> list[dict]:
    events: list[dict] = []
    while True:
        page = http.get(
            f"/sessions/{session_id}/events",
            params={"after_seq": events[-1]["seq"] if events else 0, "limit": 1000},
        )
        assert page.status_code == 200, page.text
        if not (more := page.json()["data"]["events"]):
            return events
        events += more

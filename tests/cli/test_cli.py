"""The CLI as a user runs it: ``python -m papertape ...`` in a subprocess, against a store on disk
and a server started as a user starts it. Plus the API token, checked in-process (binding a
server to a non-loopback address is not possible in a test sandbox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from papertape.api.app import AppSettings, create_app
from tests.conftest import shared_file
from tests.support.server import ServerProcess

TRADES_FILE = "binance_btcusdt_trades_2021-01-08.parquet"  # 2,001 BTCUSDT trades over ~40 s
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token"


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without papertape settings that would change what is tested."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PAPERTAPE_API_TOKEN", "PAPERTAPE_URL", "PAPERTAPE_STORE")
    }
    return {**clean, "COLUMNS": "200", **extra}


def papertape(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "papertape", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=clean_env(**(env or {})),
    )


TOKEN_ENV = {"PAPERTAPE_API_TOKEN": TOKEN}


def run_together(*commands: list[str], env=None) -> list[subprocess.CompletedProcess[str]]:
    """Several CLI runs at once (each is a fresh interpreter: seconds on a busy machine)."""
    envs = env if isinstance(env, list) else [env or {}] * len(commands)
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "papertape", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=clean_env(**extra),
        )
        for args, extra in zip(commands, envs, strict=False)
    ]
    results = []
    for process, args in zip(running, commands, strict=False):
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(args, process.returncode, out, err))
    return results


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('cli') / 'papertape.db'}"


@pytest.fixture(scope="module")
def started(
    store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, subprocess.CompletedProcess[str]]]:
    """``data import`` into the store, and (at the same time, to save a few seconds) a server on
    that store. A loopback server started with PAPERTAPE_API_TOKEN set requires the token too:
    the CLI's sessions commands below send it from their environment."""
    importing = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "papertape",
            "data",
            "import",
            str(shared_file(TRADES_FILE)),
            "--name",
            "btc_day",
            "--symbol",
            "BTC_USDT",
            "--store",
            store_url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=clean_env(),
    )
    process = ServerProcess(
        store_url, tmp_path_factory.mktemp("logs") / "server.log", extra_env=TOKEN_ENV
    )
    try:
        process.start()
        out, err = importing.communicate(timeout=120)
        yield process, subprocess.CompletedProcess(importing.args, importing.returncode, out, err)
    finally:
        importing.kill()
        process.stop()


@pytest.fixture(scope="module")
def imported(started) -> subprocess.CompletedProcess[str]:
    return started[1]


@pytest.fixture(scope="module")
def server(started) -> ServerProcess:
    assert started[1].returncode == 0, started[1].stderr
    return started[0]


def test_data_import_then_list(store_url: str, imported) -> None:
    assert imported.returncode == 0, imported.stderr
    assert "imported btc_day: 2001 trades rows of BTC_USDT" in imported.stdout
    listed = papertape("data", "list", "--store", store_url)
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if "btc_day" in line]
    assert "trades" in row and "BTC_USDT" in row and "2001" in row


def test_sessions_list_show_stop(server: ServerProcess) -> None:
    body = {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "strategies": [],
        "market": {"source": "replay", "dataset": "btc_day", "speed": 1},
    }
    with server.client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        response = http.post("/sessions/start", json=body)
    assert response.status_code == 201, response.text
    session_id = response.json()["data"]["session_id"]
    at = ("--server", server.url)

    listed, shown = run_together(
        ["sessions", "list", *at], ["sessions", "show", session_id, *at], env=TOKEN_ENV
    )
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if session_id in line]
    assert "running" in row and "paper" in row and "BTC_USDT" in row
    assert shown.returncode == 0, shown.stderr
    assert f'"session_id": "{session_id}"' in shown.stdout
    assert '"state": "running"' in shown.stdout

    stopped = papertape("sessions", "stop", session_id, *at, env=TOKEN_ENV)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"{session_id} stopped"

    again = papertape("sessions", "stop", session_id, *at, env=TOKEN_ENV)
    assert again.returncode == 0, again.stderr
    assert f"{session_id} was already stopped" in again.stdout


def test_errors_exit_non_zero_with_their_code(server: ServerProcess, tmp_path: Path) -> None:
    unknown, no_token, unreachable, serve = run_together(
        # an unknown id: exit 1, session_not_found on stderr
        ["sessions", "stop", "fake_session_12345", "--server", server.url],
        # no token for a server that requires one (this one's env has none)
        ["sessions", "list", "--server", server.url],
        ["sessions", "list", "--server", "http://127.0.0.1:9"],
        # beyond loopback without PAPERTAPE_API_TOKEN: refuses with exit 2, opens nothing
        ["serve", "--host", "0.0.0.0", "--port", "9", "--store", f"sqlite:///{tmp_path / 'x.db'}"],
        env=[TOKEN_ENV, {}, {}, {}],
    )
    assert unknown.returncode == 1, unknown
    assert "session_not_found" in unknown.stderr and "fake_session_12345" in unknown.stderr
    assert no_token.returncode == 1 and "unauthorized" in no_token.stderr, no_token
    assert unreachable.returncode == 1 and "server_unreachable" in unreachable.stderr
    assert serve.returncode == 2, serve
    assert "PAPERTAPE_API_TOKEN" in serve.stderr
    assert not (tmp_path / "x.db").exists(), "it refused before opening anything"
    for result in (unknown, no_token, unreachable, serve):
        assert "Traceback" not in result.stderr, result.stderr


# --- the API token, in-process ------------------------------------------------------------------


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        AppSettings(store_url=f"sqlite:///{tmp_path / 't.db'}", api_token=TOKEN, host="testserver")
    )
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
def test_calls_without_the_token_get_401(guarded: TestClient, headers: dict) -> None:
    for method, path, body in [
        ("GET", "/sessions", None),
        ("GET", "/datasets", None),
        ("POST", "/sessions/stop", {"session_id": "x"}),
        ("GET", "/openapi.json", None),
    ]:
        response = guarded.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error_code"] == "unauthorized"


def test_calls_with_the_token_pass(guarded: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/sessions", headers=auth).status_code == 200
    missing = guarded.post("/sessions/stop", headers=auth, json={"session_id": "fake_1"})
    assert missing.status_code == 404 and missing.json()["error_code"] == "session_not_found"


def test_health_is_open(guarded: TestClient) -> None:
    response = guarded.get("/health")
    assert response.status_code == 200
    assert response.json()["data"]["alive"] is True


def test_ws_needs_the_token(guarded: TestClient) -> None:
    for url, headers in [
        ("/ws", {}),
        ("/ws?token=wrong", {}),
        ("/ws", {"Authorization": "Bearer wrong"}),
    ]:
        with pytest.raises(WebSocketDisconnect) as closed:
            with guarded.websocket_connect(url, headers=headers) as socket:
                socket.receive_text()
        assert closed.value.code == 4401
    for url, headers in [(f"/ws?token={TOKEN}", {}), ("/ws", {"Authorization": f"Bearer {TOKEN}"})]:
        with guarded.websocket_connect(url, headers=headers) as socket:
            socket.send_json({"action": "ping"})
            assert socket.receive_json() == {"type": "pong"}


def test_without_a_token_configured_loopback_needs_none(tmp_path: Path) -> None:
    app = create_app(AppSettings(store_url=f"sqlite:///{tmp_path / 'open.db'}", host="testserver"))
    with TestClient(app) as client:
        assert client.get("/sessions").status_code == 200


def test_backtest_liquidation_options(tmp_path: Path) -> None:
    """sma_cross at 50× on the BTC perpetual's minutes: its last trade is liquidated. At the
    bankruptcy price with a 2 % fee the account ends at −2 % of that close's notional; with one
    1 % bracket (ccxt's shape), closed at the liquidation price with a 0.1 % fee, it keeps the
    maintenance margin less the fee, 0.9 % of the notional. A 5 % bracket allows at most 20×."""
    tiers = tmp_path / "tiers.json"
    tiers.write_text('[{"minNotional": 0, "maxNotional": null, "maintenanceMarginRate": 0.01}]')
    too_high = tmp_path / "too_high.json"
    too_high.write_text('[{"minNotional": 0, "maintenanceMarginRate": 0.05}]')
    base = [
        "backtest", "--data", str(shared_file("btc-perp_1m_2022-01.csv.gz")), "--symbol",
        "BTC_USDT", "--strategy", "sma_cross", "--market-type", "swap", "--leverage", "50",
        "--fee", "0", "--json",
    ]  # fmt: skip
    bankrupt, at_liquidation, refused = run_together(
        [*base, "--liquidation-fee", "0.02"],
        [*base, "--margin-tiers", str(tiers), "--liquidation-close", "liquidation",
         "--liquidation-fee", "0.001"],
        [*base, "--margin-tiers", str(too_high)],
    )  # fmt: skip
    for run, share in ((bankrupt, -0.02), (at_liquidation, 0.01 - 0.001)):
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout)
        last = result["trades"][-1]
        assert result["metrics"]["final_equity"] == pytest.approx(
            share * last["qty"] * last["exit_price"]
        )
    assert refused.returncode == 2 and "above what the first margin tier allows" in refused.stderr

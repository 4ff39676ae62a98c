"""A backtest's closed trades over real HTTP: rebuilt from its fills, they agree with the
metrics the engine reported at the end (count, net PnL, fees); its strategy's indicators as
series are the SMAs (or the Bollinger bands) of the bars it traded."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.test_datasets_http import upload
from tests.conftest import module_server
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(
    module_store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from module_server(module_store_url, tmp_path_factory)


SMA_CROSS = {"name": "sma_cross", "params": {"fast": 5, "slow": 20}}


def run_backtest(http: httpx.Client, strategy: dict = SMA_CROSS) -> str:
    body = {
        "mode": "backtest",
        "symbols": ["UNITTEST_BTC"],
        "market": {"source": "replay", "dataset": "unit"},
        "strategies": [strategy],
    }
    response = http.post("/sessions/start", json=body)
    assert response.status_code == 201, response.text
    session_id = response.json()["data"]["session_id"]
    for _ in range(300):
        if http.get(f"/sessions/{session_id}").json()["data"]["state"] == "completed":
            return session_id
        time.sleep(0.1)
    raise AssertionError("the backtest did not complete in 30 s")


def test_closed_trades_match_the_final_metrics(server: ServerProcess) -> None:
    with server.client() as http:
        file = "freqtrade-unittest_btc_1m_2017-11.json.gz"
        assert upload(http, file, "unit", symbol="UNITTEST_BTC").status_code == 201
        session_id = run_backtest(http)
        trades = http.get(f"/sessions/{session_id}/trades").json()["data"]["items"]
        events = http.get(f"/sessions/{session_id}/events", params={"limit": 10_000})
        results = [e["data"] for e in events.json()["data"]["events"] if e["kind"] == "results"]
        missing = http.get("/sessions/exec_nope/trades")
        lines = http.get(f"/sessions/{session_id}/indicators", params={"symbol": "UNITTEST_BTC"})
        bars = http.get(
            "/data/unit/candles", params={"symbol": "UNITTEST_BTC", "interval": 60, "limit": 20_000}
        ).json()["data"]["items"]
    # the SMAs sma_cross decided on, one point per 1m bar once warmed up
    series = {s["name"]: s for s in lines.json()["data"]["series"]}
    assert set(series) == {"fast", "slow"} and series["fast"]["bar_interval"] == 60
    closes = [b["close"] for b in bars]
    assert len(series["fast"]["points"]) == len(bars) - 4
    assert len(series["slow"]["points"]) == len(bars) - 19
    last = series["slow"]["points"][-1]
    assert last["time"] == bars[-1]["time"]
    assert last["value"] == pytest.approx(math.fsum(closes[-20:]) / 20, rel=1e-12)
    # from the chart's oldest bar on: the same values (computed from the first bar), fewer points
    since = bars[-100]["time"]
    with server.client() as http:
        tail = http.get(
            f"/sessions/{session_id}/indicators",
            params={"symbol": "UNITTEST_BTC", "start_us": since * 1_000_000},
        ).json()["data"]["series"]
    for line in tail:
        assert line["points"] == [p for p in series[line["name"]]["points"] if p["time"] >= since]
        assert len(line["points"]) == 100
    final = results[-1]
    assert len(trades) == final["trades"] > 0
    closed_fees = math.fsum(t["fees"] for t in trades)
    assert closed_fees <= final["fees"] + 1e-9  # an open position's entry fee is not a trade's
    for t in trades:
        assert t["direction"] == "long" and t["qty"] > 0  # sma_cross on spot: long only
        assert t["exit_ts"] >= t["entry_ts"] and t["duration_s"] >= 0
        assert t["gross_pnl"] - t["fees"] == pytest.approx(t["pnl"])
        expected = (t["exit_price"] - t["entry_price"]) * t["qty"] - t["fees"]
        assert t["pnl"] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    wins = sum(1 for t in trades if t["pnl"] > 0)
    assert wins / len(trades) * 100 == pytest.approx(final["win_rate_pct"])
    assert missing.status_code == 404


def test_bollinger_bounce_draws_its_three_bands_not_their_width(server: ServerProcess) -> None:
    with server.client() as http:
        if http.get("/datasets/unit").status_code == 404:
            file = "freqtrade-unittest_btc_1m_2017-11.json.gz"
            assert upload(http, file, "unit", symbol="UNITTEST_BTC").status_code == 201
        session_id = run_backtest(http, {"name": "bollinger_bounce"})
        lines = http.get(f"/sessions/{session_id}/indicators", params={"symbol": "UNITTEST_BTC"})
        bars = http.get(
            "/data/unit/candles", params={"symbol": "UNITTEST_BTC", "interval": 60, "limit": 20_000}
        ).json()["data"]["items"]
    series = {(s["name"], s["output"]): s["points"] for s in lines.json()["data"]["series"]}
    # prices only: the width (a ratio) and "value" (the middle again) would squash the chart
    assert set(series) == {("bb", "upper"), ("bb", "middle"), ("bb", "lower")}
    window = [b["close"] for b in bars[-20:]]
    mean = math.fsum(window) / 20
    std = math.sqrt(math.fsum((c - mean) ** 2 for c in window) / 20)
    last = {output: series[("bb", output)][-1] for output in ("upper", "middle", "lower")}
    assert {p["time"] for p in last.values()} == {bars[-1]["time"]}
    assert last["middle"]["value"] == pytest.approx(mean, rel=1e-12)
    assert last["upper"]["value"] == pytest.approx(mean + 2 * std, rel=1e-9)
    assert last["lower"]["value"] == pytest.approx(mean - 2 * std, rel=1e-9)
    assert all(len(points) == len(bars) - 19 for points in series.values())

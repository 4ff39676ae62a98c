"""Sessions on a live feed (paper on an exchange stream, collect) after kill -9: the record so far
is kept exactly, the session resumes from its last commit (the paper engine's strategies and
portfolio as they were), and the outage is on the tape as a ``gap`` event with its duration."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.server import double_server

PAPER = {
    "mode": "paper",
    "symbols": ["BTC_USDT"],
    "strategies": [{"name": "sma_cross", "params": {"fast": 2, "slow": 4, "bar_interval": 1}}],
}
COLLECT = {"mode": "collect", "symbols": ["BTC_USDT"]}


def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _events(http: httpx.Client, session_id: str) -> list[dict]:
    return http.get(f"/sessions/{session_id}/events", params={"limit": 1000}).json()["data"][
        "events"
    ]


def test_a_paper_session_on_a_live_feed_resumes_its_record_and_records_the_gap(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'papertape.db'}"
    first = double_server(url, tmp_path / "first.log", speed=1).start()
    try:
        with first.client() as http:
            paper = http.post("/sessions/start", json=PAPER).json()["data"]["session_id"]
            collect = http.post("/sessions/start", json=COLLECT).json()["data"]["session_id"]
            _wait(lambda: len(http.get(f"/sessions/{paper}/fills").json()["data"]["items"]) >= 2)
            time.sleep(1.5)  # let a commit cover them
            before = http.get(f"/sessions/{paper}/fills").json()["data"]["items"]
    finally:
        first.kill()
    time.sleep(1.0)
    second = double_server(url, tmp_path / "second.log", speed=1).start()
    try:
        with second.client() as http:
            for sid in (paper, collect):
                detail = http.get(f"/sessions/{sid}").json()["data"]
                assert detail["state"] == "running" and detail["running_here"], detail
                _wait(lambda sid=sid: any(e["kind"] == "gap" for e in _events(http, sid)))
                [gap] = [e for e in _events(http, sid) if e["kind"] == "gap"]
                # on the exchange's clock (the double replays at recorded pace, so its clock runs
                # on through the outage like a real exchange's)
                data = gap["data"]
                assert data["from_ts"] <= data["to_ts"]
                assert data["seconds"] == round((data["to_ts"] - data["from_ts"]) / 1e6, 3)
            _wait(
                lambda: (
                    len(http.get(f"/sessions/{paper}/fills").json()["data"]["items"]) > len(before)
                )
            )
            after = http.get(f"/sessions/{paper}/fills").json()["data"]["items"]
            assert after[: len(before)] == before  # kept exactly
            ids = [f["fill_id"] for f in after]
            assert len(ids) == len(set(ids))  # and never written twice
            fill_events = [e for e in _events(http, paper) if e["kind"] == "fill"]
            assert sorted(e["data"]["fill_id"] for e in fill_events) == sorted(ids)
            for sid in (paper, collect):
                assert http.post(f"/sessions/{sid}/stop").status_code == 200
    finally:
        second.stop()

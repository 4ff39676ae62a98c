"""The crash harness: replaying sessions on a real ``papertape serve``, the server killed with
``kill -9`` at seeded random moments and started again, several times; then every session's
whole record (orders, fills, positions, equity points, final metrics, the tape's fill events) is
compared with the same session run once, uncrashed (``tests.support.reference``).

Sessions cover what a crash can break: several strategies (indicators, a stop-loss, a trailing
stop and cooldown, a short-selling perpetual with a drawdown kill switch), a backtest, manual
orders (a market order and a limit order resting across the crashes) and a session stopped by
its user a moment before a kill (the stop's end is finished at the restart). Kills land at
random moments: between a fill and its commit, during a commit, during a stop.
"""

from __future__ import annotations

import gzip
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from papertape.domain.market import StreamPosition
from papertape.market.importers import read_market_file
from papertape.store import store_for
from tests.support.data import MARKET_DATA
from tests.support.reference import reference_run
from tests.support.server import ServerProcess

CANDLES = MARKET_DATA / "btc-perp_1m_2022-01.csv.gz"
CROP = 6_000  # candles of the paper sessions' dataset (100 hours of January 2022)
END_STATES = {"completed", "stopped", "failed"}


def _paper(strategy: Any, speed: float, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "strategies": [strategy] if strategy else [],
        "market": {"source": "replay", "dataset": "crop", "speed": speed},
        "venue": {"slippage_bps": 2},
        **extra,
    }


SESSIONS: dict[str, dict[str, Any]] = {
    "sma": _paper({"name": "sma_cross", "params": {"fast": 5, "slow": 20}}, 14_000),
    "ema_stop_loss": _paper("ema_trend", 17_000),
    "bollinger_trailing": _paper("bollinger_bounce", 20_000),
    "short_perp_killswitch": _paper(
        {"name": "sma_cross", "params": {"fast": 8, "slow": 30, "allow_short": True}},
        16_000,
        leverage=3,
        risk={"max_drawdown_pct": 4},
    )
    | {"market": {"source": "replay", "dataset": "crop", "speed": 16_000, "market_type": "swap"}},
    "manual": _paper(None, 9_000),
    "stopped_by_user": _paper({"name": "sma_cross", "params": {"fast": 3, "slow": 12}}, 8_000),
    "backtest": {
        "mode": "backtest",
        "symbols": ["BTC_USDT"],
        "strategies": [{"name": "rsi_reversion"}],
        "market": {"source": "replay", "dataset": "full", "speed": 0},
    },
}


@dataclass
class CrashReport:
    seed: int
    kills: int = 0
    sessions: int = 0
    fills: int = 0
    orders: int = 0
    equity_points: int = 0
    differences: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"crash harness seed={self.seed}: {self.kills} kills, {self.sessions} sessions, "
            f"{self.fills} fills, {self.orders} orders, {self.equity_points} equity points "
            f"compared, {len(self.differences)} differences"
        )


def crop_dataset(tmp: Path) -> Path:
    """The first CROP candles of the shared month, as a CSV of the same format."""
    with gzip.open(CANDLES, "rt") as source:
        lines = [next(source) for _ in range(CROP + 1)]
    path = tmp / "btc_crop.csv"
    path.write_text("".join(lines))
    return path


def run_harness(
    store_url: str,
    tmp: Path,
    start_server: Callable[[str], ServerProcess],
    import_dataset: Callable[[str, str, Path, str], None],
    *,
    seed: int,
    rounds: int = 3,
) -> CrashReport:
    """Kill the papertape server ``rounds`` times at random moments."""
    rng = random.Random(seed)
    report = CrashReport(seed)
    events = prepare_datasets(store_url, tmp, import_dataset)
    server = start_server(store_url)
    with server.client() as http:
        ids = start_sessions(http, SESSIONS)
    for round_no in range(rounds):
        time.sleep(rng.uniform(0.5, 3.5))
        if round_no == 1:  # a user's stop, and the kill a moment after it was asked for
            _stop_then_kill(server, ids["stopped_by_user"], rng.uniform(0.0, 0.15))
        else:
            server.kill()
        report.kills += 1
        server = start_server(store_url)
    finish_and_compare(report, server, store_url, ids, events)
    return report


def prepare_datasets(
    store_url: str, tmp: Path, import_dataset: Callable[[str, str, Path, str], None]
) -> dict[str, list[Any]]:
    """Import the datasets the sessions replay; their events, by dataset name."""
    crop = crop_dataset(tmp)
    import_dataset(store_url, "crop", crop, "BTC_USDT")
    import_dataset(store_url, "full", CANDLES, "BTC_USDT")
    return {
        "crop": read_market_file(crop, symbol="BTC_USDT").rows,
        "full": read_market_file(CANDLES, symbol="BTC_USDT").rows,
    }


def start_sessions(http: httpx.Client, bodies: dict[str, dict[str, Any]]) -> dict[str, str]:
    ids = {}
    for name, body in bodies.items():
        response = http.post("/sessions/start", json=body)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["data"]["session_id"]
    if "manual" in ids:
        _manual_orders(http, ids["manual"])
    return ids


def finish_and_compare(
    report: CrashReport,
    server: ServerProcess,
    store_url: str,
    ids: dict[str, str],
    events: dict[str, list[Any]],
) -> None:
    """Wait for every session to end, then compare each with its uncrashed reference."""
    with server.client() as http:
        views = {name: _wait_for_end(http, sid) for name, sid in ids.items()}
        records = {name: _records(http, sid) for name, sid in ids.items()}
    server.stop()
    ends = _record_ends(store_url, list(ids.values()))
    for name, view in views.items():
        report.sessions += 1
        dataset = view["config"]["market"]["dataset"]
        _compare(report, name, view, records[name], events[dataset], ends.get(view["session_id"]))


def _manual_orders(http: httpx.Client, session_id: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the first price
        prices = http.get(f"/sessions/{session_id}").json()["data"]["counters"]
        if prices.get("last_prices"):
            break
        time.sleep(0.05)
    price = prices["last_prices"]["BTC_USDT"]["price"]
    buy = {"symbol": "BTC_USDT", "side": "buy", "type": "market", "qty": 0.1}
    response = http.post(f"/sessions/{session_id}/orders", json=buy)
    assert response.status_code in (200, 201), response.text
    # a spot sell needs the bought coins: the market buy fills at the next price, which a loaded
    # machine may not have replayed yet when the sell is sent
    while time.monotonic() < deadline + 20:
        fills = http.get(f"/sessions/{session_id}/fills").json()["data"]["items"]
        if fills:
            break
        time.sleep(0.05)
    sell = {
        "symbol": "BTC_USDT",
        "side": "sell",
        "type": "limit",
        "qty": 0.1,
        "price": price * 1.02,
    }
    response = http.post(f"/sessions/{session_id}/orders", json=sell)
    assert response.status_code in (200, 201), response.text


def _stop_then_kill(server: ServerProcess, session_id: str, delay: float) -> None:
    def stop() -> None:
        try:
            httpx.post(f"{server.url}/sessions/{session_id}/stop", timeout=10)
        except httpx.HTTPError:
            pass  # the kill cut it off: the restart finishes it

    asking = threading.Thread(target=stop)
    asking.start()
    time.sleep(delay)
    server.kill()
    asking.join()


def _wait_for_end(http: httpx.Client, session_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = http.get(f"/sessions/{session_id}").json()["data"]
        if view["state"] in END_STATES:
            return view
        time.sleep(0.2)
    raise AssertionError(f"session {session_id} did not end in {timeout}s: {view}")


def _records(http: httpx.Client, session_id: str) -> dict[str, Any]:
    def items(path: str, **params: Any) -> list[dict[str, Any]]:
        response = http.get(f"/sessions/{session_id}/{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()["data"]["items"]

    events: list[dict[str, Any]] = []
    while True:
        after = events[-1]["seq"] if events else 0
        page = http.get(
            f"/sessions/{session_id}/events", params={"after_seq": after, "limit": 1000}
        ).json()["data"]["events"]
        if not page:
            break
        events += page
    return {
        "fills": items("fills"),
        "orders": items("orders"),
        "positions": items("positions"),
        "equity": items("equity", limit=100_000),
        "events": events,
    }


def _record_ends(store_url: str, session_ids: list[str]) -> dict[str, StreamPosition]:
    """Where the records of sessions stopped mid-data end (their last commit's position)."""
    import asyncio

    async def read() -> dict[str, StreamPosition]:
        store = store_for(store_url)
        await store.open()
        try:
            ends = {}
            for sid in session_ids:
                state = await store.resume_state(sid)
                if state is not None:
                    ends[sid] = state.position
            return ends
        finally:
            await store.close()

    return asyncio.run(read())


def _compare(
    report: CrashReport,
    name: str,
    view: dict[str, Any],
    got: dict[str, Any],
    events: list[Any],
    end: StreamPosition | None,
) -> None:
    def differ(what: str) -> None:
        report.differences.append(f"{name} ({view['session_id']}): {what}")

    if view["state"] == "failed":
        differ(f"failed: {view.get('error_code')}: {view.get('error_message')}")
        return
    stopped_early = view["state"] == "stopped" and view.get("stop_reason") == "user"
    manual = [
        (StreamPosition(*e["data"]["after"]), _order(got["orders"], e["data"]["order_id"]))
        for e in got["events"]
        if e["kind"] == "manual_order"
    ]
    expected = reference_run(view, events, manual, end if stopped_early else None)
    report.fills += len(expected.fills)
    report.orders += len(expected.orders)
    report.equity_points += len(expected.equity)
    for table in ("fills", "orders", "positions", "equity"):
        want, have = getattr(expected, table), got[table]
        if want != have:
            first = next(
                (i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b),
                min(len(want), len(have)),
            )
            differ(
                f"{table}: {len(have)} recorded, {len(want)} expected; first difference at "
                f"{first}: {have[first] if first < len(have) else None} != "
                f"{want[first] if first < len(want) else None}"
            )
    results = [e["data"] for e in got["events"] if e["kind"] == "results"]
    if results != [expected.results]:
        differ(f"results events {results} != [{expected.results}]")
    fill_events = [e["data"]["fill_id"] for e in got["events"] if e["kind"] == "fill"]
    if sorted(fill_events) != sorted(f["fill_id"] for f in got["fills"]):
        differ(
            f"the tape's fill events ({len(fill_events)}) are not the fills ({len(got['fills'])})"
        )
    seqs = [e["seq"] for e in got["events"]]
    if seqs != list(range(1, len(seqs) + 1)):
        differ("the tape's sequence numbers have gaps or repeats")


def _order(orders: list[dict[str, Any]], order_id: str) -> dict[str, Any]:
    return next(o for o in orders if o["order_id"] == order_id)

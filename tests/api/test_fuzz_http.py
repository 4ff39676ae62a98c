"""A seeded, hand-written fuzz of every POST route over real HTTP: wrong types, huge and
non-finite numbers, deep nesting, broken JSON, 2 MiB bodies, path traversal and markup in names.
Every answer must be a 4xx or 2xx with the error envelope or a success envelope — never a 5xx,
never a hang — and the server must be healthy (and still start and stop sessions) afterwards.

Seed and size: ``PAPERTAPE_FUZZ_SEED`` (default 10), ``PAPERTAPE_FUZZ_CASES`` per route (default
40). The request count is printed (``-s``) so a run can be reported.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.test_lifecycle_http import TRADES_FILE
from tests.api.test_openapi_contract import import_in_process
from tests.conftest import shared_file
from tests.support.server import ServerProcess, double_server

SEED = int(os.environ.get("PAPERTAPE_FUZZ_SEED", "10"))
CASES = int(os.environ.get("PAPERTAPE_FUZZ_CASES", "40"))
HANG = 15.0  # seconds: an answer slower than this is a hang
DATASET = "fuzz_trades"

# raw JSON tokens a Python dict cannot carry: spliced into the text after dumping
RAW_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e-400",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1" * 5000,
    "0.1e99999",
]
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**31,
    2**63,
    -(2**63) - 1,
    1e300,
    -1e300,
    5e-324,
    "",
    " ",
    "0",
    "1e9",
    "NaN",
    [],
    {},
    [1, 2, 3],
    {"a": {"b": {"c": 1}}},
    "x" * 10_000,
]
ODD_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "%2e%2e%2f%2e%2e%2f",
    "name\x00null",
    "line\nbreak",
    "'; DROP TABLE sessions; --",
    "ünïcödé_名前_🚀",
    "a" * 300,
    "BTC/USDT",
    "btc-usdt",
    "   ",
    "exec_20250101_000000_deadbeef",
]


def valid_bodies() -> dict[str, dict[str, Any]]:
    return {
        "/sessions/start": {
            "mode": "backtest",
            "symbols": ["BTC_USDT"],
            "strategies": [{"name": "sma_cross", "params": {"fast": 5, "slow": 20}}],
            "market": {"source": "replay", "dataset": DATASET, "speed": 0},
            "cash": 10_000,
            "fees": {"taker": 0.001},
            "risk": {"max_open_positions": 2, "max_drawdown_pct": 50},
            "venue": {"latency_ms": 0, "slippage_bps": 1},
            "label": "fuzz",
        },
        "/sessions/stop": {"session_id": "fake_session_12345"},
        "/strategies": {
            "name": "fuzzed",
            "base": "sma_cross",
            "params": {"fast": 3, "slow": 9},
            "description": "fuzz",
        },
        "orders": {"symbol": "BTC_USDT", "side": "buy", "type": "market", "qty": 0.001},
    }


def leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from leaves(child, (*path, i))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(copy[head], tuple(rest), new)
    return copy


def nested(depth: int, rng: random.Random) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


class Fuzzer:
    """Turns a valid body into a malformed request: ``(content-type, raw bytes)``."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def body(self, base: dict[str, Any]) -> tuple[str, bytes]:
        rng = self.rng
        kind = rng.choice(
            ["type", "type", "raw_number", "name", "nesting", "broken", "huge", "drop", "extra"]
        )
        path = rng.choice(list(leaves(base)))
        if kind == "type":
            return self.json(replaced(base, path, rng.choice(ODD_VALUES)))
        if kind == "raw_number":
            marker = "__RAW__"
            text = json.dumps(replaced(base, path, marker))
            return "application/json", text.replace(f'"{marker}"', rng.choice(RAW_NUMBERS)).encode()
        if kind == "name":
            return self.json(replaced(base, path, rng.choice(ODD_NAMES)))
        if kind == "nesting":
            depth = rng.choice([60, 65, 200, 5_000, 100_000])
            if depth > 1_000:
                return "application/json", ("[" * depth + "]" * depth).encode()
            return self.json(replaced(base, path, nested(depth, rng)))
        if kind == "broken":
            text = json.dumps(base).encode()
            choice = rng.randrange(5)
            if choice == 0:
                return "application/json", text[: rng.randrange(len(text))]
            if choice == 1:
                return "application/json", bytes(rng.randrange(256) for _ in range(64))
            if choice == 2:
                return "application/json", b""
            if choice == 3:
                return "application/json", text.replace(b":", b"=", 1)
            return "application/json", b"\xef\xbb\xbf" + text  # a byte-order mark
        if kind == "huge":
            size = rng.choice([2 << 20, (1 << 20) - 100])
            return self.json(replaced(base, path, "x" * size))
        if kind == "drop" and path:
            return self.json(_without(base, path))
        return self.json({**base, rng.choice(ODD_NAMES): rng.choice(ODD_VALUES)})

    @staticmethod
    def json(value: Any) -> tuple[str, bytes]:
        return "application/json", json.dumps(value).encode()


def _without(value: Any, path: tuple) -> Any:
    head, *rest = path
    if not rest:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k != head}
        return [v for i, v in enumerate(value) if i != head]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _without(copy[head], tuple(rest))
    return copy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{root / 'papertape.db'}"
    asyncio.run(import_in_process(url, DATASET, shared_file(TRADES_FILE), "BTC_USDT"))
    process = double_server(url, root / "server.log").start()
    # The first backtest's start waits for the engine's fork server, which a new server starts
    # in the background (it imports the engine: seconds, more on a loaded machine). The fuzz
    # looks for hangs of a server that is up, so it begins once that wait is behind it.
    warm_up = {
        "mode": "backtest",
        "symbols": ["BTC_USDT"],
        "market": {"source": "replay", "dataset": DATASET},
    }
    started = httpx.post(f"{process.url}/sessions/start", json=warm_up, timeout=120)
    assert started.status_code == 201, started.text
    yield process
    process.stop()


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.slowest = 0.0

    def send(self, client: httpx.Client, label: str, call: Callable[[], httpx.Response]) -> None:
        begun = time.monotonic()
        try:
            response = call()
        except httpx.TimeoutException:
            self.failures.append(f"{label}: no answer in {HANG}s")
            return
        elapsed = time.monotonic() - begun
        self.slowest = max(self.slowest, elapsed)
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{label}: {response.status_code} {response.text[:300]}")
            return
        try:
            body = response.json()
        except ValueError:
            self.failures.append(f"{label}: {response.status_code} without JSON")
            return
        if response.status_code >= 400 and body.get("status") != "error":
            self.failures.append(f"{label}: {response.status_code} without the error envelope")


def running_paper_session(client: httpx.Client) -> str:
    body = {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "market": {"source": "replay", "dataset": DATASET, "speed": 0.05},
    }
    response = client.post("/sessions/start", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["session_id"]


def test_every_post_route_survives_the_fuzz(server: ServerProcess) -> None:
    rng = random.Random(SEED)
    fuzzer = Fuzzer(rng)
    tally = Tally()
    bases = valid_bodies()
    with httpx.Client(base_url=server.url, timeout=HANG) as client:
        paper = running_paper_session(client)
        for _ in range(CASES):
            for route, base in bases.items():
                path = f"/sessions/{paper}/orders" if route == "orders" else route
                content_type, data = fuzzer.body(base)
                tally.send(
                    client,
                    f"POST {path} {data[:120]!r}",
                    lambda p=path, c=content_type, d=data: client.post(
                        p, content=d, headers={"content-type": c}
                    ),
                )
            name = quote(rng.choice(ODD_NAMES), safe="")
            for path in (f"/sessions/{name}/stop", f"/sessions/{name}/orders"):
                tally.send(
                    client,
                    f"POST {path!r}",
                    lambda p=path: client.post(p, json=bases["orders"]),
                )
            tally.send(client, "POST /sessions/stop_all", lambda: client.post("/sessions/stop_all"))
            paper = running_paper_session(client)  # stop_all stopped the previous one
            upload_name, upload = upload_case(rng)
            tally.send(
                client,
                f"POST /datasets {upload_name!r}",
                lambda n=upload_name, u=upload: client.post(
                    "/datasets", files={"file": (n, u)}, data=form_case(rng)
                ),
            )
        health = client.get("/health")
        again = client.post("/sessions/stop", json={"session_id": paper})
    total = sum(tally.statuses.values())
    print(
        f"\nfuzz seed={SEED}: {total} requests over 7 POST routes, statuses "
        f"{dict(sorted(tally.statuses.items()))}, slowest {tally.slowest:.2f} s"
    )
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert health.status_code == 200 and health.json()["data"]["store_reachable"]
    assert again.status_code == 200 and again.json()["data"]["stopped_via"] == "controller"


def upload_case(rng: random.Random) -> tuple[str, bytes]:
    name = rng.choice([*ODD_NAMES, "trades.csv", "x.parquet", "y.json.gz"]) + rng.choice(
        ["", ".csv", ".json"]
    )
    content = rng.choice(
        [
            b"timestamp,price,qty,side\n1609459200000,29000,0.1,buy\n1609459201000,29001,0.2,sell\n",
            b"timestamp,price,qty\n1609459200000,NaN,0.1\n1609459200001,inf,1e400\n",
            b"timestamp,open,high,low,close,volume\n9223372036854775808,1,1,1,1,1\n",
            b"\x1f\x8b\x08\x00garbage",
            b"PAR1\x00\x00garbage",
            b"[" * 10_000,
            b'[{"timestamp": -1, "price": 1e309, "qty": "x"}]',
            b"",
            bytes(rng.randrange(256) for _ in range(512)),
        ]
    )
    return name, content


def form_case(rng: random.Random) -> dict[str, str]:
    return {
        "name": rng.choice([*ODD_NAMES, "ok_name", f"fuzz_{rng.randrange(10**6)}"])[:100],
        "symbol": rng.choice(["BTC_USDT", *ODD_NAMES])[:50],
        "kind": rng.choice(["trades", "candles", "book", "", "other"]),
    }

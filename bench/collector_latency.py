"""End-to-end latency: from a market message reaching the exchange adapter to the price it
carries being visible to a ``/ws`` client, p50 / p99.

A real server process (``python -m tests.support.serve_with_double``) runs a paper session on the
exchange source, whose exchange is the recorded-data double streaming the shared Binance BTCUSDT
trades and quotes of 2021-01-08 at recorded speed, with timestamps shifted so that each message's
timestamp is the wall-clock moment the double publishes it. A client subscribed to the session on
``/ws`` takes every price tick and measures ``now - tick.ts``: publication → adapter →
runner → consumers → event bus → websocket → client. The server pushes at most 4 price ticks a
second per session (``PriceTracker``), so a 30 s run gives about 120 samples. Extra sessions
(``--sessions``) add load: they stream too, each with its own exchange connection.

    python -m bench.collector_latency            # 30 s, 1 measured session + 4 loaded ones
    python -m bench.collector_latency --quick    # 6 s, no extra load
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from tests.support.server import double_server


def start_session(url: str) -> str:
    body = {"mode": "paper", "symbols": ["BTC_USDT"], "strategies": []}
    response = httpx.post(f"{url}/sessions/start", json=body, timeout=30)
    response.raise_for_status()
    return response.json()["data"]["session_id"]


async def measure(url: str, session_id: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
        await ws.send(
            json.dumps({"action": "subscribe", "topic": "session", "session_id": session_id})
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                text = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            received = time.time_ns() // 1_000
            message = json.loads(text)
            if message.get("type") == "tick" and message.get("kind") == "price":
                for price in message["data"]["prices"].values():
                    latencies.append((received - price["ts"]) / 1_000)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s, no extra sessions")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sessions", type=int, default=4, help="extra streaming sessions as load")
    args = parser.parse_args()
    seconds, extra = (6.0, 0) if args.quick else (args.seconds, args.sessions)
    with tempfile.TemporaryDirectory() as tmp:
        server = double_server(
            f"sqlite:///{tmp}/latency.db", Path(tmp) / "server.log", speed=1
        ).start()
        url = server.url
        try:
            measured = start_session(url)
            for _ in range(extra):
                start_session(url)
            time.sleep(1.0)  # past the subscription's first answer
            samples = asyncio.run(measure(url, measured, seconds))
        finally:
            server.stop()
    if not samples:
        raise SystemExit("no price ticks arrived on /ws")
    print(
        f"adapter → /ws latency, paper session on the double (BTCUSDT 2021-01-08 at recorded speed, "
        f"timestamps shifted to now), {1 + extra} sessions streaming, {seconds:g} s:"
    )
    print(
        f"  samples {len(samples)}  p50 {statistics.median(samples):.1f} ms  "
        f"p99 {percentile(samples, 0.99):.1f} ms  max {max(samples):.1f} ms"
    )


if __name__ == "__main__":
    main()

"""``/health`` while a session's page loads, without a browser: four 180k-bar backtests run
(the shared BTC-PERP month filed four times over, as ``api_under_load`` does) while one client
reads what the session page reads — the session, its equity, fills, orders, events and the
chart's bars — every 0.5 s, and another asks ``/health`` every 20 ms. Prints the probes' p50,
p99 and maximum, the stalls over 0.5 s, and each page read's mean and maximum.

    uv run python bench/health_under_page_loads.py            # with the page reads
    uv run python bench/health_under_page_loads.py --no-page  # the backtests alone
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` and `bench` from the repository
sys.path.insert(0, str(ROOT / "bench"))

import api_under_load as load

from tests.support.server import ServerProcess


def read_pages(url: str, session_id: str, stop: threading.Event, seen: dict) -> None:
    paths = [
        f"/sessions/{session_id}",
        f"/sessions/{session_id}/equity",
        f"/sessions/{session_id}/fills",
        f"/sessions/{session_id}/orders",
        f"/sessions/{session_id}/events?limit=1000",
        f"/data/{load.DATASET}/candles?symbol=BTC_USDT&interval=60",
    ]
    with httpx.Client(base_url=url, timeout=120) as client:
        while not stop.is_set():
            for path in paths:
                began = time.monotonic()
                client.get(path)
                seen[path.split("?")[0].replace(session_id, "{id}")].append(
                    time.monotonic() - began
                )
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-page", action="store_true", help="no page reads, backtests only")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="papertape-bench-health-"))
    url = f"sqlite:///{workdir / 'papertape.db'}"
    rows = asyncio.run(load.prepare(url, 4))
    server = ServerProcess(url, workdir / "server.log").start(timeout=300)
    probes: list[float] = []
    stalls: list[tuple[float, float]] = []
    pages: dict[str, list[float]] = defaultdict(list)
    stop = threading.Event()
    try:
        with server.client() as http:
            ids = [load.start_backtest(http, f"load-{i}") for i in range(4)]
            if not args.no_page:
                threading.Thread(
                    target=read_pages, args=(server.url, ids[0], stop, pages), daemon=True
                ).start()
            began = time.monotonic()
            while True:
                asked = time.monotonic()
                http.get("/health", timeout=120)
                took = time.monotonic() - asked
                probes.append(took)
                if took > 0.5:
                    stalls.append((round(asked - began, 1), round(took, 2)))
                if len(probes) % 20 == 0 and all(
                    http.get(f"/sessions/{s}", timeout=120).json()["data"]["state"] != "running"
                    for s in ids
                ):
                    break
                time.sleep(0.02)
            seconds = time.monotonic() - began
    finally:
        stop.set()
        server.stop()
    probes.sort()
    print(
        f"{rows:,} bars x 4 backtests, page reads {'off' if args.no_page else 'on'}: "
        f"{len(probes)} /health probes in {seconds:.1f} s, p50 {probes[len(probes) // 2] * 1e3:.0f} "
        f"ms, p99 {probes[int(len(probes) * 0.99)] * 1e3:.0f} ms, max {probes[-1] * 1e3:.0f} ms; "
        f"stalls over 0.5 s (at s, took s): {stalls}"
    )
    for path, took in pages.items():
        print(
            f"  {path}: {len(took)} reads, mean {sum(took) / len(took):.2f} s, max {max(took):.2f} s"
        )


if __name__ == "__main__":
    main()

"""``/health`` while a session's page loads, without a browser: four 180k-bar backtests run
(the shared BTC-PERP month filed four times over, as ``api_under_load`` does) while one client
reads what the session page reads — the session, its equity, fills, orders, events and the
chart's bars — every 0.5 s, and another asks ``/health`` and ``GET /sessions/{id}`` in turn,
20 ms apart. Prints the probes' p50, p99 and maximum, the stalls over 0.5 s, and each page
read's mean and maximum: with the backtests in worker processes (the default), then on the
server's threads (``--no-engine-workers``), and the ratio of their p99s.

    uv run python bench/health_under_page_loads.py            # with the page reads
    uv run python bench/health_under_page_loads.py --no-page  # the backtests alone
    uv run python bench/health_under_page_loads.py --only workers
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
from typing import Any

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
                try:
                    client.get(path)
                except httpx.TransportError:  # the server was stopped at the end of the run
                    return
                seen[path.split("?")[0].replace(session_id, "{id}")].append(
                    time.monotonic() - began
                )
            time.sleep(0.5)


def measure(url: str, workdir: Path, *, page: bool, workers: bool) -> dict[str, Any]:
    """Four backtests on a fresh server, probed until they end: the probes' times by path."""
    extra = [] if workers else ["--no-engine-workers"]
    server = ServerProcess(url, workdir / "server.log", extra_args=extra).start(timeout=300)
    probes: dict[str, list[float]] = {"/health": [], "/sessions/{id}": []}
    stalls: list[tuple[float, float]] = []
    pages: dict[str, list[float]] = defaultdict(list)
    stop = threading.Event()
    try:
        with server.client() as http:
            ids = [load.start_backtest(http, f"load-{i}") for i in range(4)]
            if page:
                threading.Thread(
                    target=read_pages, args=(server.url, ids[0], stop, pages), daemon=True
                ).start()
            began = time.monotonic()
            running = True
            while running:
                for path, asked_path in (
                    ("/health", "/health"),
                    ("/sessions/{id}", f"/sessions/{ids[-1]}"),
                ):
                    asked = time.monotonic()
                    answer = http.get(asked_path, timeout=120)
                    took = time.monotonic() - asked
                    probes[path].append(took)
                    if took > 0.5:
                        stalls.append((round(asked - began, 1), round(took, 2)))
                    time.sleep(0.02)
                if len(probes["/health"]) % 10 == 0:
                    running = any(
                        http.get(f"/sessions/{s}", timeout=120).json()["data"]["state"] == "running"
                        for s in ids
                    )
                assert answer.status_code == 200
            seconds = time.monotonic() - began
    finally:
        stop.set()
        server.stop()
    return {"probes": probes, "stalls": stalls, "pages": pages, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-page", action="store_true", help="no page reads, backtests only")
    parser.add_argument(
        "--only", choices=("workers", "threads"), help="one engine placement, not both"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="papertape-bench-health-"))
    url = f"sqlite:///{workdir / 'papertape.db'}"
    rows = asyncio.run(load.prepare(url, 4))
    p99s: dict[str, float] = {}
    for placement in ("workers", "threads"):
        if args.only and placement != args.only:
            continue
        seen = measure(url, workdir, page=not args.no_page, workers=placement == "workers")
        print(
            f"{rows:,} bars x 4 backtests in {placement}, page reads "
            f"{'off' if args.no_page else 'on'}: {seen['seconds']:.1f} s; "
            f"stalls over 0.5 s (at s, took s): {seen['stalls']}"
        )
        for path, took in seen["probes"].items():
            took.sort()
            p99 = took[int(len(took) * 0.99)]
            p99s[f"{placement} {path}"] = p99
            print(
                f"  {path}: {len(took)} probes, p50 {took[len(took) // 2] * 1e3:.0f} ms, "
                f"p99 {p99 * 1e3:.0f} ms, max {took[-1] * 1e3:.0f} ms"
            )
        for path, took in seen["pages"].items():
            print(
                f"  page {path}: {len(took)} reads, mean {sum(took) / len(took):.2f} s, "
                f"max {max(took):.2f} s"
            )
    if len(p99s) == 4:
        for path in ("/health", "/sessions/{id}"):
            ratio = p99s[f"workers {path}"] / p99s[f"threads {path}"]
            print(f"{path} p99, workers / threads: {ratio:.2f}x")


if __name__ == "__main__":
    main()

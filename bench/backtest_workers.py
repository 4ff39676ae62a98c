"""What a backtest costs the server's own process, with backtests in worker processes (the
default) and on the server's threads (``--no-engine-workers``), side by side in one run: four
180k-bar ``sma_cross`` backtests at once (the shared BTC-PERP month filed four times over, as
``api_under_load`` does), their wall time, and the CPU seconds the *server process* spent meanwhile
(``/proc/<pid>/stat``: what competes with ``/health`` and the dashboard for its interpreter).

    uv run python bench/backtest_workers.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` and `bench` from the repository
sys.path.insert(0, str(ROOT / "bench"))

import api_under_load as load

from tests.support.server import ServerProcess

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process ``pid`` so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(url: str, workdir: Path, workers: bool, count: int) -> tuple[float, float, list[float]]:
    extra = [] if workers else ["--no-engine-workers"]
    server = ServerProcess(url, workdir / "server.log", extra_args=extra).start(timeout=300)
    assert server.process is not None
    try:
        with server.client() as http:
            before = cpu_seconds(server.process.pid)
            began = time.monotonic()
            ids = [load.start_backtest(http, f"load-{i}") for i in range(count)]
            each = load.wait_ended(http, ids)
            wall = time.monotonic() - began
            spent = cpu_seconds(server.process.pid) - before
    finally:
        server.stop()
    return wall, spent, each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("workers", "threads"), help="one placement only")
    parser.add_argument("--backtests", type=int, default=4, help="backtests at once")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="papertape-bench-workers-"))
    url = f"sqlite:///{workdir / 'papertape.db'}"
    rows = asyncio.run(load.prepare(url, 4))
    seen = {}
    for placement in ("workers", "threads"):
        if args.only and placement != args.only:
            continue
        wall, spent, each = measure(url, workdir, placement == "workers", args.backtests)
        seen[placement] = (wall, spent)
        print(
            f"{rows:,} bars x {args.backtests} backtests in {placement}: {wall:.1f} s wall, each "
            f"{min(each):.1f}-{max(each):.1f} s; server process CPU {spent:.1f} s"
        )
    if len(seen) < 2:
        return
    print(
        f"server CPU, workers / threads: {seen['workers'][1] / seen['threads'][1]:.2f}x; "
        f"wall, workers / threads: {seen['workers'][0] / seen['threads'][0]:.2f}x"
    )


if __name__ == "__main__":
    main()

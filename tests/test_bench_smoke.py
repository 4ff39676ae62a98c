"""Benchmark smoke: ``bench/lifecycle.py --quick`` runs to the end and prints its figures. A
benchmark is not a timed test: the figures must exist and be positive, not meet thresholds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIGURES = [
    "start latency p50, 0 running (baseline)",
    "start latency p99, up to 10 running",
    "stop latency p50, 1 running (baseline)",
    "stop latency p50, 10 running",
    "stop latency p99, 10 running",
    "start latency p99, 5 at once, 10 running",
    "stop latency p99, 10 sessions x 10 stops at once",
    "sessions with exactly one 'controller' stop",
    "server RSS with 10 running",
    "server peak RSS",
    "events appended/s, batches of 100 (direct on the store)",
    "events appended/s, one by one (direct on the store)",
]


def test_lifecycle_bench_quick() -> None:
    result = subprocess.run(
        [sys.executable, "bench/lifecycle.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r"\| sqlite \| (.+?) \| ([\d,.]+) \| (\S+) \|", line)
        if match:
            rows[match.group(1)] = float(match.group(2).replace(",", ""))
    for name in FIGURES:
        assert name in rows, f"missing figure {name!r} in:\n{result.stdout}"
        assert rows[name] > 0, f"{name} = {rows[name]}"
    assert rows["sessions running when the stops began"] == 10
    assert rows["stops that stopped a running session (controller)"] == 10

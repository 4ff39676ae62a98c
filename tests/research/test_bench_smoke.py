"""The big-data benchmark runs (``--quick``) and prints its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_big_replay_bench_quick() -> None:
    done = subprocess.run(
        [sys.executable, "bench/big_replay.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| sqlite |")]
    assert rows, done.stdout
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert float(cells[1].replace(",", "")) > 0  # import rows/s
    assert float(cells[4].replace(",", "")) > 0  # streamed rows/s
    assert "round trips streamed" in done.stdout
    assert "sweep of 4 trials on 2 workers" in done.stdout
    assert "beside another store open in the process" in done.stdout

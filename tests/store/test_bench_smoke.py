"""Benchmark smoke: ``bench/store_bench.py --quick`` runs both stores to the end and prints
positive figures (a benchmark is not a timed test: no thresholds here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_store_bench_quick(questdb_server) -> None:  # the fixture: QuestDB can run here
    result = subprocess.run(
        [sys.executable, "bench/store_bench.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for store in ("questdb", "sqlite"):
        line = next(x for x in result.stdout.splitlines() if x.startswith(store))
        rate = int(re.search(r"ingest\s+([\d,]+) rows/s", line).group(1).replace(",", ""))
        assert rate > 0 and "list p50" in line and "1-day candles" in line
    assert re.search(r"ingest ratio QuestDB/SQLite: [\d.]+x", result.stdout)

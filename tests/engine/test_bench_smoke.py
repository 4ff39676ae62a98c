"""The engine benchmarks run (``--quick``) and print their figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("bench/engine_ticks.py", "ticks/s CPU"),
        ("bench/engine_bars.py", "same trades: True"),
        ("bench/capture_fills.py", "passive limit orders at the touch"),
    ],
)
def test_engine_bench_quick(script, expect):
    done = subprocess.run(
        [sys.executable, script, "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    assert expect in done.stdout

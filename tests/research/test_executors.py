"""The local worker pool outlives nothing: workers of a process killed with kill -9 exit too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from papertape.research.data import DataSpec
from papertape.research.executors import LocalPool
from papertape.research.trials import TrialSettings
from papertape.domain.config import StrategySpec
from papertape.sessions.strategy_catalog import plan_for

pool = LocalPool(DataSpec("BTC_USDT", file=sys.argv[1]), TrialSettings("BTC_USDT"), 2)
plan = plan_for(StrategySpec(name="sma_cross", params={"fast": 5, "slow": 30}))
for key, _ in pool.map_unordered([(n, plan) for n in range(10_000)]):
    if key == 1:
        print("running", flush=True)
"""


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_pool_workers_exit_when_their_process_is_killed(candles_file: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(candles_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "running"
        workers = {p for p in children(parent.pid) if alive(p)}
        assert len(workers) >= 2
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.2)
    assert not any(alive(p) for p in workers)

"""The local pool: this process runs trials itself and starts helper processes only when the
work left is worth their start-up; helpers give exactly the same results, stop with the pool,
and outlive nothing (helpers of a process killed with kill -9 exit too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import CancelledError
from pathlib import Path

import pytest

from papertape.domain.config import StrategySpec
from papertape.engine.core import StrategyPlan
from papertape.research.data import DataSpec
from papertape.research.executors import InProcess, LocalPool
from papertape.research.trials import TrialSettings
from papertape.research.workload import (
    HELPER_IMPORT_SECONDS,
    PROBE_SECONDS,
    Workload,
    helper_start_seconds,
    worth_helpers,
)
from papertape.sessions.strategy_catalog import plan_for

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from papertape.research.data import DataSpec
from papertape.research.executors import LocalPool
from papertape.research.trials import TrialSettings
from papertape.domain.config import StrategySpec
from papertape.sessions.strategy_catalog import plan_for

pool = LocalPool(
    DataSpec("BTC_USDT", file=sys.argv[1]), TrialSettings("BTC_USDT"), 3, start_seconds=0
)
plan = plan_for(StrategySpec(name="sma_cross", params={"fast": 5, "slow": 30}))
for key, _ in pool.map_unordered([(n, plan) for n in range(100_000)]):
    if pool.helped == 1:
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


def test_helpers_exit_when_their_process_is_killed(candles_file: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(candles_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "running"
        workers = {p for p in children(parent.pid) if alive(p)}
        assert len(workers) >= 2  # two helpers (and multiprocessing's resource tracker)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.2)
    assert not any(alive(p) for p in workers)


def plan(name: str, **params: object) -> StrategyPlan:
    return plan_for(StrategySpec(name=name, params=params))


# fast-path trials and event-engine ones (bars of 5 minutes built from the 1-minute candles)
MIXED = [
    *(plan("sma_cross", fast=f, slow=s) for f in (3, 8, 20) for s in (30, 55)),
    *(plan("rsi_reversion", period=p) for p in (7, 14)),
    *(plan("breakout", lookback=n, bar_interval=300) for n in (10, 20)),
]


def test_helpers_give_exactly_the_results_of_one_process(candles_file: Path) -> None:
    data = DataSpec("BTC_USDT", file=str(candles_file))
    settings = TrialSettings("BTC_USDT")
    jobs = [(n, p) for n, p in enumerate(MIXED * 3)]
    with InProcess(data, settings) as alone:
        expected = dict(alone.map_unordered(jobs))
    with LocalPool(data, settings, 2, start_seconds=0) as pool:
        pooled = dict(pool.map_unordered(jobs))
        assert 0 < pool.helped < len(jobs)  # this process ran trials beside the helper
    assert pooled == expected
    assert {o.engine for o in pooled.values()} == {"vectorised", "event"}


def test_a_small_fast_path_grid_starts_no_helper(candles_file: Path) -> None:
    data = DataSpec("BTC_USDT", file=str(candles_file))
    before = children(os.getpid())
    with LocalPool(data, TrialSettings("BTC_USDT"), 2) as pool:
        results = dict(pool.map_unordered(list(enumerate(MIXED[:8]))))
        assert pool.helped == 0
        # no new process (a previous test's helper may still be exiting: it can only leave)
        assert children(os.getpid()) <= before
    assert {o.engine for o in results.values()} == {"vectorised"}
    assert sorted(results) == list(range(8))


def test_closing_the_pool_stops_its_helpers_mid_run(candles_file: Path) -> None:
    data = DataSpec("BTC_USDT", file=str(candles_file))
    jobs = [(n, MIXED[-2]) for n in range(2_000)]  # event-engine trials, ~0.05 s each
    pool = LocalPool(data, TrialSettings("BTC_USDT"), 2, start_seconds=0)
    after_close = 0
    with pytest.raises(CancelledError):  # what a stopped sweep expects
        for _ in pool.map_unordered(jobs):
            if pool.helped == 1:  # the helper is running: stop, as a sweep does, from elsewhere
                stopping = threading.Thread(target=pool.close)
                stopping.start()
                stopping.join()
            elif pool.helped > 1:
                after_close += 1
    assert after_close == 0


def test_a_trials_cost_is_a_prior_per_bar_until_measured() -> None:
    work = Workload(bars=45_000)
    work.left.update({"vectorised": 94})
    assert work.trial_seconds("vectorised") == pytest.approx(45_000 * 0.2e-6)
    work.record("vectorised", 0.1)  # the first trial builds the arrays: not yet a measure
    assert work.trial_seconds("vectorised") == pytest.approx(45_000 * 0.2e-6)
    for _ in range(20):
        work.record("vectorised", PROBE_SECONDS / 20)
    assert work.trial_seconds("vectorised") == pytest.approx((0.1 + PROBE_SECONDS) / 21)
    assert work.trial_seconds("event") == pytest.approx(45_000 * 5e-6)
    work.left.update({"event": 2})
    assert work.seconds_left() == pytest.approx(94 * (0.1 + PROBE_SECONDS) / 21 + 2 * 45_000 * 5e-6)


@pytest.mark.parametrize(
    "left,worth",
    [
        ({"vectorised": 94}, False),  # the grid: done before a helper would start
        ({"vectorised": 1_057}, True),  # bench/sweep.py --fine
        ({"event": 5}, False),
        ({"event": 30}, True),
    ],
)
def test_helpers_start_when_the_work_left_outlasts_their_start_up(left: dict, worth: bool) -> None:
    work = Workload(bars=45_000)
    work.left.update(left)
    start = HELPER_IMPORT_SECONDS + 0.5  # and decoding 45k candles
    assert worth_helpers(work.seconds_left(), start) is worth


def test_a_loaded_machine_starts_helpers_later() -> None:
    """Under a run queue twice its cores a helper imports at half speed: the 1,057-trial grid
    that repays one on an idle machine still does, a grid of 400 no longer does."""
    idle = helper_start_seconds(0.5, load=1.0, cpus=2)
    loaded = helper_start_seconds(0.5, load=4.0, cpus=2)
    assert idle == pytest.approx(HELPER_IMPORT_SECONDS + 0.5)
    assert loaded == pytest.approx(2 * HELPER_IMPORT_SECONDS + 0.5)
    work = Workload(bars=45_000)
    work.left.update({"vectorised": 400})
    assert worth_helpers(work.seconds_left(), idle)
    assert not worth_helpers(work.seconds_left(), loaded)
    work.left.update({"vectorised": 657})
    assert worth_helpers(work.seconds_left(), loaded)

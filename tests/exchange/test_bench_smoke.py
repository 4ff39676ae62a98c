"""Smoke runs of the collector benchmark (``bench/collector_throughput.py``: each scenario for a
moment on SQLite; everything delivered is written, nothing fails) and of the mark-stream benchmark
(``bench/ccxt_marks.py``: two copies of the real marks at 100 messages/s through ccxt) and of the
collect-latency benchmark (``bench/ccxt_collect_latency.py``: a few seconds of the real capture
through a real server's collect session to ``/ws``)."""

from __future__ import annotations

import pytest

from bench import ccxt_collect_latency
from bench.ccxt_marks import run, shifted_copies
from bench.collector_throughput import SCENARIOS, run_once


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_collector_bench_runs(tmp_path, scenario):
    result = await run_once(
        f"sqlite:///{tmp_path / 'bench.db'}", f"smoke {scenario}", 0.5, True, scenario
    )
    assert result.trades + result.books > 0
    assert result.written["trades"] == result.trades and result.written["book"] == result.books
    assert sum(result.failed.values()) == 0


async def test_mark_bench_runs():
    messages = shifted_copies(2)
    result = await run(messages, 100.0)
    assert result["sent"] == len(messages) == 78 and 0 < result["delivered"] <= 78
    assert result["p50"] > 0
    assert result["funding"].endswith("(0 twice, 0 at another rate)"), result["funding"]


def test_collect_latency_bench_runs(tmp_path):
    result = ccxt_collect_latency.measure(4.0, tmp_path)
    # every trade sent is recorded but the last, which ccxt holds until a next message
    assert result.trades_sent > 0 and result.trades_recorded >= result.trades_sent - 1
    assert result.volume_stored == pytest.approx(result.volume_sent) and result.volume_sent > 0
    assert 0 < len(result.record_ms) <= result.trades_recorded and min(result.record_ms) > 0
    assert result.ticks > 0

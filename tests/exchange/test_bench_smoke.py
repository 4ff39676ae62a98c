"""Smoke run of the collector benchmark (``bench/collector_throughput.py``): each scenario for a
moment on SQLite; everything delivered is written, nothing fails."""

from __future__ import annotations

import pytest

from bench.collector_throughput import SCENARIOS, run_once


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_collector_bench_runs(tmp_path, scenario):
    result = await run_once(
        f"sqlite:///{tmp_path / 'bench.db'}", f"smoke {scenario}", 0.5, True, scenario
    )
    assert result.trades + result.books > 0
    assert result.written["trades"] == result.trades and result.written["book"] == result.books
    assert sum(result.failed.values()) == 0

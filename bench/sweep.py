"""``papertape sweep`` throughput on all cores and on one, beside vectorbt on the same grid and
the same candles, in one run.

The grid is the issue's: sma_cross over ``fast=5:50:5`` x ``slow=30:210:20`` on the shared 45k
one-minute candles (94 valid trials, 6 refused: fast >= slow). Both sides: SMA crosses as
papertape's sma_cross defines them (strictly below on the previous bar, strictly above on this
one), all-in entries, market orders filled at the next bar's open, fees 0.1 % per fill, 10,000
cash. vectorbt is timed cold (its first call compiles its numba kernels) and warm. The 10/30
trial's trades and final equity are compared between the two.

papertape's figures include everything a user waits for: decoding the candles file, starting
helper processes where the pool finds them worth it (each decodes the file again; a grid this
small runs in one process: ``papertape.research.workload``), and every trial — on the vectorised
fast path
(``papertape.research.fastpath``), which this grid qualifies for. The same 94 trials are then run
one by one through the event engine in this process (what every trial cost before the fast path)
and their metrics compared with the sweep's: they must be equal, number for number.

    uv run python bench/sweep.py            # the issue's grid on 45,031 bars
    uv run python bench/sweep.py --quick    # fast=10,20 x slow=30,50 on 5,000 bars
    uv run python bench/sweep.py --fine     # papertape alone, 1 and 2 workers, on a grid of
                                            # 1,100+ trials (fast=2:60:1 x slow=30:210:10)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from papertape.domain.config import StrategySpec
from papertape.domain.grid import parse_grid
from papertape.domain.numbers import finite
from papertape.market.importers import read_market_file
from papertape.research.data import DataSpec, load_rows
from papertape.research.executors import LocalPool, make_executor
from papertape.research.sweep import Sweep, SweepResult, SweepSpec
from papertape.research.trials import TrialSettings, backtest
from papertape.sessions.strategy_catalog import plan_for
from tests.support.data import MARKET_DATA

CANDLES = MARKET_DATA / "btc-perp_1m_2022-01.csv.gz"
FEE = 0.001
CASH = 10_000.0


def plans(params: dict):
    return plan_for(StrategySpec(name="sma_cross", params=params))


SETTINGS = TrialSettings("BTC_USDT", cash=CASH, taker=FEE, maker=FEE)


def papertape_sweep(
    data: DataSpec, grid: list[str], workers: int
) -> tuple[float, SweepResult, int]:
    """Seconds, the result, and how many trials helper processes ran (the rest ran here)."""
    began = time.perf_counter()
    spec = SweepSpec(tuple(parse_grid(grid)), objective="return")
    with make_executor(data, SETTINGS, workers) as executor:
        result = Sweep(spec, plans, executor).run()
    helped = executor.helped if isinstance(executor, LocalPool) else 0
    return time.perf_counter() - began, result, helped


def event_engine_trials(rows: list, result: SweepResult) -> tuple[float, int]:
    """The sweep's trials one by one through the event engine; seconds, and how many of them
    have exactly the sweep's metrics."""
    began = time.perf_counter()
    same = 0
    for trial in result.ran:
        metrics = finite(backtest(rows, plans(trial.params), SETTINGS).metrics)
        same += metrics == trial.metrics
    return time.perf_counter() - began, same


def vectorbt_sweep(rows: list, fasts: list[int], slows: list[int]) -> tuple[float, dict]:
    """Every valid (fast, slow) pair in one vectorised portfolio; returns seconds and, per pair,
    (closed trades, final value)."""
    import numpy as np
    import pandas as pd
    import vectorbt as vbt

    began = time.perf_counter()
    index = pd.to_datetime([r.ts for r in rows], unit="us")
    close = pd.Series([r.close for r in rows], index=index)
    open_ = pd.Series([r.open for r in rows], index=index)
    pairs = [(f, s) for f in fasts for s in slows if f < s]
    fast_ma = vbt.MA.run(close, window=[f for f, _ in pairs], short_name="fast").ma
    slow_ma = vbt.MA.run(close, window=[s for _, s in pairs], short_name="slow").ma
    columns = pd.MultiIndex.from_tuples(pairs, names=["fast", "slow"])
    diff = pd.DataFrame(fast_ma.values - slow_ma.values, index=index, columns=columns)
    prev = diff.shift(1)
    entries = (prev < 0) & (diff > 0)
    exits = (prev > 0) & (diff < 0)
    # decided on a bar's close, filled at the next bar's open
    portfolio = vbt.Portfolio.from_signals(
        close,
        entries.shift(1, fill_value=False),
        exits.shift(1, fill_value=False),
        price=np.broadcast_to(open_.values[:, None], diff.shape),
        fees=FEE,
        init_cash=CASH,
        size=np.inf,
        freq="1min",
    )
    closed = portfolio.trades.closed.count()
    final = portfolio.final_value()
    seconds = time.perf_counter() - began
    return seconds, {p: (int(closed[p]), float(final[p])) for p in pairs}


def fine_scaling() -> None:
    """The scaling from 1 to 2 workers where the trials, not starting workers, take the time."""
    rows = read_market_file(CANDLES, symbol="BTC_USDT").rows
    grid = ["fast=2:60:1", "slow=30:210:10"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candles.json"
        path.write_text(
            json.dumps([[r.ts // 1_000, r.open, r.high, r.low, r.close, r.volume] for r in rows])
        )
        data = DataSpec("BTC_USDT", file=str(path))
        timed = {n: papertape_sweep(data, grid, n) for n in (1, 2)}
    trials = len(timed[1][1].ran)
    assert [t.metrics for t in timed[1][1].ran] == [t.metrics for t in timed[2][1].ran]
    print(f"sma_cross {' x '.join(grid)}: {trials} trials on {len(rows):,} bars")
    print("| run | seconds | trials/s | bar-evaluations/s | trials run by helpers |")
    print("|---|---:|---:|---:|---:|")
    for workers, (seconds, _, helped) in timed.items():
        print(
            f"| papertape, {workers} worker(s) | {seconds:.2f} | {trials / seconds:,.1f} | "
            f"{trials * len(rows) / seconds:,.0f} | {helped} |"
        )
    print(f"scaling 1 -> 2 workers: {timed[1][0] / timed[2][0]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fine", action="store_true")
    args = parser.parse_args()
    if args.fine:
        fine_scaling()
        return
    if args.quick:
        grid, fasts, slows, bars = ["fast=10,20", "slow=30,50"], [10, 20], [30, 50], 5_000
    else:
        grid = ["fast=5:50:5", "slow=30:210:20"]
        fasts, slows, bars = list(range(5, 51, 5)), list(range(30, 211, 20)), None
    rows = read_market_file(CANDLES, symbol="BTC_USDT").rows[:bars]
    # kept to the end: a pool worker still starting when its sweep is done reads the file too
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candles.json"
        path.write_text(
            json.dumps([[r.ts // 1_000, r.open, r.high, r.low, r.close, r.volume] for r in rows])
        )
        data = DataSpec("BTC_USDT", file=str(path))
        rows = load_rows(data)
        all_cores, pooled, helped = papertape_sweep(data, grid, 2)
        one_core, alone, _ = papertape_sweep(data, grid, 1)
        cold, vbt_results = vectorbt_sweep(rows, fasts, slows)
        warm, _ = vectorbt_sweep(rows, fasts, slows)
        event, same_as_event = event_engine_trials(rows, alone)

    trials = len(pooled.ran)
    assert [t.metrics for t in pooled.ran] == [t.metrics for t in alone.ran]
    engines = sorted({t.engine or "?" for t in pooled.ran})
    evaluations = trials * len(rows)
    print(f"sma_cross sweep, {trials} trials ({len(pooled.skipped)} refused) on {len(rows):,} bars")
    print(f"trials ran on: {', '.join(engines)}")
    print(f"trials run by helper processes on 2 workers: {helped} of {trials}")
    print("| run | seconds | trials/s | bar-evaluations/s | vs vectorbt cold |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds in (
        ("papertape, 2 workers (all cores)", all_cores),
        ("papertape, 1 worker", one_core),
        ("vectorbt 1.2, cold (numba compile)", cold),
        ("vectorbt 1.2, warm", warm),
        ("papertape event engine, trial by trial, 1 core (no fast path)", event),
    ):
        print(
            f"| {name} | {seconds:.2f} | {trials / seconds:,.1f} | "
            f"{evaluations / seconds:,.0f} | {seconds / cold:.2f}x |"
        )
    if helped:
        print(f"scaling 1 -> 2 workers: {one_core / all_cores:.2f}x")
    else:  # the same in-process run twice: any difference is noise or warm-up, not scaling
        print(
            "scaling 1 -> 2 workers: none (no helper started: the grid takes less than one's start-up)"
        )
    print(f"trials whose metrics equal the event engine's exactly: {same_as_event} of {trials}")
    trial = next(t for t in pooled.ran if t.params == {"fast": 10, "slow": 30})
    vbt_trades, vbt_final = vbt_results[(10, 30)]
    assert trial.metrics is not None
    print(
        f"10/30 trial: papertape {trial.metrics['trades']} trades, final equity "
        f"{trial.metrics['final_equity']:,.2f}; vectorbt {vbt_trades} trades, final value "
        f"{vbt_final:,.2f}"
    )
    same = sum(
        1
        for t in pooled.ran
        if t.metrics and t.metrics["trades"] == vbt_results[(t.params["fast"], t.params["slow"])][0]
    )
    print(f"trials with the same closed-trade count on both: {same} of {trials}")
    print(f"same trades: {trial.metrics['trades'] == vbt_trades}")


if __name__ == "__main__":
    main()

"""Bars per second for sma_cross on the shared real 1-minute candles, beside backtesting.py
running the same strategy on the same candles in the same process.

Both sides: SMA(10) and SMA(30) of the close, buy on an upward cross (backtesting.py's
``crossover``: below on the previous bar, above on this one), close on a downward cross, market
orders filled at the next bar's open, no commission (so that backtesting.py's whole-unit sizing
cannot change which trades happen). The round trips of both are compared and must agree. Each
side runs ``--repeat`` times; the best run counts (the machine is shared; CPU time is shown too).

    uv run python bench/engine_bars.py            # 45,031 bars, 3 runs each
    uv run python bench/engine_bars.py --quick    # 5,000 bars, 1 run each
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from papertape.engine.backtest import run_backtest
from papertape.market.importers import read_market_file
from papertape.sessions.strategy_catalog import build_plan
from tests.support.backtesting_reference import round_trips, sma_cross_backtest
from tests.support.data import MARKET_DATA

CANDLES = MARKET_DATA / "btc-perp_1m_2022-01.csv.gz"


def timed(fn):
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def papertape_run(bars):
    plan = build_plan("sma_cross", "sma_cross", {"fast": 10, "slow": 30})
    result = run_backtest(bars, ["BTC_USDT"], [plan], cash=10_000, taker=0.0)
    return [(t["entry_ts"], t["exit_ts"]) for t in result.trades]


def backtesting_py_run(bars):
    backtest = sma_cross_backtest(bars)  # building the DataFrame is not timed

    def go():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = backtest.run()
        return [(entry, exit_) for entry, exit_, _, _ in round_trips(stats)]

    return go


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    bars = read_market_file(CANDLES, symbol="BTC_USDT").rows
    if args.quick:
        bars = bars[:5_000]
    repeat = args.repeat or (1 if args.quick else 3)
    print(f"data: {CANDLES.name}, {len(bars):,} real 1-minute candles; best of {repeat}")
    ours = [timed(lambda: papertape_run(bars)) for _ in range(repeat)]
    theirs_fn = backtesting_py_run(bars)  # building the DataFrame is not timed
    theirs = [timed(theirs_fn) for _ in range(repeat)]
    our_wall, our_cpu, our_trades = min(ours, key=lambda r: r[0])
    bt_wall, bt_cpu, bt_trades = min(theirs, key=lambda r: r[0])
    agree = our_trades == bt_trades[: len(our_trades)] and len(bt_trades) - len(our_trades) <= 1
    n = len(bars)
    print(
        f"papertape     {n / our_wall:>10,.0f} bars/s wall  {n / our_cpu:>10,.0f} bars/s CPU  "
        f"({our_wall:.3f} s; {len(our_trades)} round trips)"
    )
    print(
        f"backtesting.py{n / bt_wall:>10,.0f} bars/s wall  {n / bt_cpu:>10,.0f} bars/s CPU  "
        f"({bt_wall:.3f} s; {len(bt_trades)} trades, the last may still be open)"
    )
    print(
        f"ratio papertape / backtesting.py: {bt_wall / our_wall:.1f}x wall, "
        f"{bt_cpu / our_cpu:.1f}x CPU; same trades: {agree}"
    )
    if not agree:
        raise SystemExit("the two engines disagree on the trades")


if __name__ == "__main__":
    main()

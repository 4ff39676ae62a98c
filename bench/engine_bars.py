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
import time
import warnings
from pathlib import Path

from papertape.engine.backtest import run_backtest
from papertape.engine.catalog import build_plan
from papertape.market.importers import read_market_file

CANDLES = Path("/work/shared/data/market/btc-perp_1m_2022-01.csv.gz")


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
    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    frame = pd.DataFrame(
        {"Open": [b.open for b in bars], "High": [b.high for b in bars],
         "Low": [b.low for b in bars], "Close": [b.close for b in bars],
         "Volume": [b.volume for b in bars]},
        index=pd.to_datetime([b.ts for b in bars], unit="us"),
    )

    def sma(values, n):
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, 10)
            self.slow = self.I(sma, self.data.Close, 30)

        def next(self):
            if crossover(self.fast, self.slow) and not self.position:
                self.buy()
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    def go():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = Backtest(frame, SmaCross, cash=1e9, commission=0.0).run()
        return [(int(r.EntryTime.value // 1_000), int(r.ExitTime.value // 1_000))
                for r in stats._trades.itertuples()]

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
    agree = our_trades == bt_trades[:len(our_trades)] and len(bt_trades) - len(our_trades) <= 1
    n = len(bars)
    print(f"papertape     {n / our_wall:>10,.0f} bars/s wall  {n / our_cpu:>10,.0f} bars/s CPU  "
          f"({our_wall:.3f} s; {len(our_trades)} round trips)")
    print(f"backtesting.py{n / bt_wall:>10,.0f} bars/s wall  {n / bt_cpu:>10,.0f} bars/s CPU  "
          f"({bt_wall:.3f} s; {len(bt_trades)} trades, the last may still be open)")
    print(f"ratio papertape / backtesting.py: {bt_wall / our_wall:.1f}x wall, "
          f"{bt_cpu / our_cpu:.1f}x CPU; same trades: {agree}")
    if not agree:
        raise SystemExit("the two engines disagree on the trades")


if __name__ == "__main__":
    main()

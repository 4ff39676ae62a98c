"""Engine throughput on real trades: ticks per second through the synchronous core.

The shared Binance BTCUSDT trades (2,001 real prints over ~40 s) are replayed many times, each
copy shifted in time to follow the previous one, so the stream is long but every print is real.
Two strategies are measured, each with two indicators, the paper venue (orders filled against
the prints, taker fees) and the recorder (orders, fills, positions and equity points accumulated
by the engine and drained after each batch, as a session's consumer does — the store write itself
is not part of the core and is not timed):

- ``bars``: sma_cross(5, 20) on 1-second bars the engine builds from the trades (the indicators
  update per bar; every tick still goes through bar building, the venue and marking);
- ``ticks``: two EMAs updated on every trade, crossing decisions per tick.

    uv run python bench/engine_ticks.py            # ~2,000,000 ticks per strategy
    uv run python bench/engine_ticks.py --quick    # smoke run
    uv run python bench/engine_ticks.py --profile  # pyinstrument profile of the bars case
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from papertape.domain.indicators import Ema
from papertape.domain.market import Trade
from papertape.domain.strategy import Strategy, StrategyParams
from papertape.engine.core import Engine, EngineConfig, StrategyPlan
from papertape.market.importers import read_market_file
from papertape.sessions.strategy_catalog import build_plan
from tests.support.data import MARKET_DATA

TRADES = MARKET_DATA / "binance_btcusdt_trades_2021-01-08.parquet"
BATCH = 2_001 * 25  # ticks handed to process() at once (a replay source's chunk)


class TickEmaCross(Strategy):
    """Two EMAs on every trade; long when fast > slow, flat otherwise."""

    name = "tick_ema_cross"

    def on_start(self) -> None:
        self.fast, self.slow = Ema(50), Ema(200)
        self.above = False

    def on_trade(self, trade: Trade) -> None:
        fast = self.fast.update(trade.price)
        slow = self.slow.update(trade.price)
        if slow is None:
            return
        above = fast > slow
        if above != self.above:
            self.above = above
            if above:
                self.buy()
            elif self.position > 0:
                self.close()


def shifted_batches(base: list[Trade], copies: int) -> list[list[Trade]]:
    span = base[-1].ts - base[0].ts + 1_000
    stream: list[Trade] = []
    for k in range(copies):
        shift = k * span
        stream.extend(
            Trade(t.ts + shift, t.symbol, t.price, t.qty, t.side, t.trade_id) for t in base
        )
    return [stream[i : i + BATCH] for i in range(0, len(stream), BATCH)]


def run(plan: StrategyPlan, batches: list[list[Trade]]) -> tuple[float, float, Engine, int]:
    """Wall and CPU seconds for the whole stream (the machine is shared: CPU time is the
    steadier figure)."""
    engine = Engine(
        EngineConfig(
            session_id="bench", symbols=("BTC_USDT",), cash=10_000.0, taker=0.001, maker=0.001
        ),
        [plan],
    )
    engine.start()
    recorded = 0
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        engine.process(batch)
        recorded += engine.drain().rows
    engine.stop()
    return time.perf_counter() - start, time.process_time() - cpu, engine, recorded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--profile", action="store_true", help="profile with pyinstrument")
    parser.add_argument("--copies", type=int, default=None)
    args = parser.parse_args()
    base = read_market_file(TRADES, symbol="BTC_USDT").rows
    copies = args.copies or (25 if args.quick else 1_000)
    batches = shifted_batches(base, copies)
    ticks = sum(len(b) for b in batches)
    print(
        f"data: {TRADES.name}, {len(base):,} real trades replayed {copies:,} times with "
        f"shifted timestamps = {ticks:,} ticks"
    )
    plans = {
        "bars": build_plan("sma_cross", "sma_cross", {"fast": 5, "slow": 20, "bar_interval": 1}),
        "ticks": StrategyPlan(TickEmaCross, StrategyParams(), "tick_ema_cross"),
    }
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        run(plans["bars"], batches)
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        return
    for label, plan in plans.items():
        seconds, cpu, engine, recorded = run(plan, batches)
        metrics = engine.metrics()
        print(
            f"{label:5s} {plan.label:15s} {ticks / seconds:>12,.0f} ticks/s wall "
            f"{ticks / cpu:>12,.0f} ticks/s CPU  ({seconds:.2f} s wall, {cpu:.2f} s CPU; "
            f"{metrics['fills']} fills, {metrics['trades']} round trips, "
            f"{recorded:,} records)"
        )


if __name__ == "__main__":
    main()

"""What exactly-once recording costs a session: bars/s of backtest sessions (the session service,
the SQLite store, the replay source, commits with engine snapshots) against the bare engine on the
same bars, and the stop latency of running paper sessions.

    python bench/session_replay.py [--quick] [--against ../other-checkout]

``--against`` runs the same measurements on another checkout's code (its ``.venv``) in the same
run, so a change is compared with what it replaced on the same, equally noisy, machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
# the shared data beside the repository (as tests.support.data finds it; not imported from there,
# so that --against can measure a checkout whose tests differ)
MARKET_DATA = Path(
    os.environ.get("PAPERTAPE_MARKET_DATA") or HERE.parents[2] / "shared" / "data" / "market"
)


def measure(quick: bool) -> dict[str, float]:
    from papertape.domain.session import SessionState
    from papertape.engine.core import Engine, EngineConfig
    from papertape.market.dataset_import import import_dataset
    from papertape.market.importers import read_market_file

    try:
        from papertape.domain.config import SessionConfig
    except ImportError:  # --against a checkout from before the config moved to the domain
        from papertape.sessions.config import SessionConfig  # type: ignore[no-redef]
    from papertape.sessions.service import SessionService
    from papertape.sessions.strategy_catalog import build_plan
    from papertape.store.sqlite import SQLiteStore

    candles = MARKET_DATA / "btc-perp_1m_2022-01.csv.gz"
    bars = read_market_file(candles, symbol="BTC_USDT").rows
    if quick:
        bars = bars[:5_000]
    params = {"fast": 10, "slow": 30}

    engine = Engine(
        EngineConfig(session_id="b", symbols=("BTC_USDT",), taker=0.001, maker=0.001),
        [build_plan("sma_cross", "sma_cross", params)],
    )
    engine.start()
    began = time.perf_counter()
    for i in range(0, len(bars), 10_000):
        engine.process(bars[i : i + 10_000])
    engine.stop()
    bare = len(bars) / (time.perf_counter() - began)

    async def sessions() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            store = SQLiteStore(f"sqlite:///{tmp}/bench.db")
            await store.open()
            if quick:
                path = Path(tmp) / "crop.csv"
                with gzip.open(candles, "rt") as source:
                    path.write_text("".join(next(source) for _ in range(5_001)))
                await import_dataset(store, path, "bars", symbol="BTC_USDT")
            else:
                await import_dataset(store, candles, "bars", symbol="BTC_USDT")
            service = SessionService(store, stop_timeout=60)
            body = {
                "mode": "backtest",
                "symbols": ["BTC_USDT"],
                "strategies": [{"name": "sma_cross", "params": params}],
                "market": {"source": "replay", "dataset": "bars", "speed": 0},
            }
            rates = []
            for _ in range(3):
                began = time.perf_counter()
                session, _ = await service.start(SessionConfig.model_validate(body))
                while not (await store.get_session(session.session_id)).state.terminal:
                    await asyncio.sleep(0.005)
                rates.append(len(bars) / (time.perf_counter() - began))
                state = (await store.get_session(session.session_id)).state
                assert state is SessionState.COMPLETED, state
            paper = {**body, "mode": "paper", "market": {**body["market"], "speed": 3_000}}
            started = [
                (await service.start(SessionConfig.model_validate(paper)))[0]
                for _ in range(5 if quick else 20)
            ]
            await asyncio.sleep(1.5)
            stops = []
            for session in started:
                began = time.perf_counter()
                await service.stop(session.session_id)
                stops.append((time.perf_counter() - began) * 1000)
            await store.close()
            return {
                "session_bars_per_s": statistics.median(rates),
                "stop_p50_ms": statistics.median(stops),
                "stop_max_ms": max(stops),
            }

    return {"bars": len(bars), "bare_engine_bars_per_s": bare, **asyncio.run(sessions())}


def report(label: str, figures: dict[str, float]) -> None:
    share = figures["session_bars_per_s"] / figures["bare_engine_bars_per_s"]
    print(
        f"{label:>10}: {figures['bars']:,} bars; bare engine "
        f"{figures['bare_engine_bars_per_s']:,.0f} bars/s; backtest session "
        f"{figures['session_bars_per_s']:,.0f} bars/s ({share:.0%} of the bare engine); "
        f"stop p50 {figures['stop_p50_ms']:.1f} ms, max {figures['stop_max_ms']:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--against", type=Path, help="another checkout to measure side by side")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.quick)))
        return
    here = measure(args.quick)
    report("this", here)
    if args.against:
        other = args.against.resolve()
        done = subprocess.run(
            [str(other / ".venv/bin/python"), str(HERE), "--json", *(["--quick"] * args.quick)],
            env={"PYTHONPATH": str(other), "PATH": "/usr/bin:/bin"},
            cwd=other,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"--against {other} failed:\n{done.stderr[-2000:]}")
        there = json.loads(done.stdout.strip().splitlines()[-1])
        report(other.name, there)
        ratio = here["session_bars_per_s"] / there["session_bars_per_s"]
        bare = here["bare_engine_bars_per_s"] / there["bare_engine_bars_per_s"]
        print(
            f"     ratio: session throughput this/{other.name} {ratio:.2f} "
            f"(bare engine {bare:.2f}: the machine's noise)"
        )


if __name__ == "__main__":
    main()

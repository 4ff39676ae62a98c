"""Store benchmark: SQLite vs QuestDB, in one run.

- Ingest throughput of trades (rows/s) through ``Store.write_trades`` in batches, and for QuestDB
  also until the rows are readable (WAL applied). Printed as a QuestDB/SQLite ratio.
- With 1,000 sessions and ``--trades`` trades (10 million by default) in each store: latency of
  ``list_sessions`` (the first page, newest first) and of a one-day 1-minute candle range query.

The trades are the shared real Binance BTCUSDT prints of 2021-01-08 (2,001 rows, 40 s), replayed
back to back with shifted timestamps and trade ids until the count is reached; the candles are
built from those trades. QuestDB runs from the project's own files on free loopback ports.

    python bench/store_bench.py                  # 10M trades, 1,000 sessions
    python bench/store_bench.py --trades 1000000  # a quicker run
    python bench/store_bench.py --quick           # smoke run: 200,000 trades, 50 sessions
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from papertape.devtools.questdb_server import QuestDBServer
from papertape.domain.market import MICROS, Trade
from papertape.domain.session import Mode, NewEvent, Session, SessionState, state_event, transition
from papertape.market.importers import candles_from_trades, read_market_file
from papertape.store import store_for
from papertape.store.base import SessionFilter, Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "market"
TAPE = DATA / "binance_btcusdt_trades_2021-01-08.parquet"
BATCH = 100_000
DAY = 86_400 * MICROS


def trade_tape(total: int) -> list[Trade]:
    """``total`` trades: the real tape repeated end to end, shifted in time and renumbered."""
    tape = read_market_file(TAPE, symbol="BTC_USDT").rows
    span = tape[-1].ts - tape[0].ts + 1_000
    rows: list[Trade] = []
    copy = 0
    while len(rows) < total:
        shift = copy * span
        rows.extend(
            t._replace(ts=t.ts + shift, trade_id=f"{copy}-{t.trade_id}")
            for t in tape[: total - len(rows)]
        )
        copy += 1
    return rows


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) used so far by this process, or by ``pid``."""
    if pid is None:
        return time.process_time()
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def ingest(store: Store, trades: list[Trade], server_pid: int | None) -> dict:
    """Wall seconds until every write returned and until the rows are readable, and the CPU
    seconds this process and the QuestDB server spent on it."""
    cpu0, server0 = cpu_seconds(None), cpu_seconds(server_pid) if server_pid else 0.0
    started = time.perf_counter()
    for i in range(0, len(trades), BATCH):
        await store.write_trades("bench", trades[i : i + BATCH])
    written = time.perf_counter() - started
    # the first read waits for WAL apply; it reads a tiny range to keep the read itself cheap
    await store.read_trades("bench", ["BTC_USDT"], trades[-1].ts, trades[-1].ts + 1)
    return {
        "written_s": written,
        "readable_s": time.perf_counter() - started,
        "client_cpu_s": cpu_seconds(None) - cpu0,
        "server_cpu_s": cpu_seconds(server_pid) - server0 if server_pid else 0.0,
    }


async def add_sessions(store: Store, count: int) -> None:
    base = 1_700_000_000_000_000
    for n in range(count):
        session = Session(
            session_id=f"exec_20231114_221320_{n:08x}",
            mode=Mode.PAPER if n % 3 else Mode.COLLECT,
            state=SessionState.STARTING,
            symbols=("BTC_USDT",),
            config={"mode": "paper", "symbols": ["BTC_USDT"]},
            created_at=base + n * MICROS,
            updated_at=base + n * MICROS,
        )
        await store.create_session(
            session, NewEvent("state", {"to": "starting"}, session.created_at)
        )
        running = transition(session, SessionState.RUNNING, at=session.created_at + 1)
        await store.update_session(running, SessionState.STARTING, state_event(session, running))
        if n % 2:
            done = transition(running, SessionState.COMPLETED, at=session.created_at + 2)
            await store.update_session(done, SessionState.RUNNING, state_event(running, done))


async def latency_ms(call, runs: int = 30) -> tuple[float, float]:
    await call()  # warm-up (and, for QuestDB, the WAL wait of earlier writes)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


async def measure(
    url: str, trades: list[Trade], sessions: int, label: str, server_pid: int | None = None
) -> dict:
    store = store_for(url)
    await store.open()
    try:
        timing = await ingest(store, trades, server_pid)
        candles = candles_from_trades(trades, 60)
        await store.write_candles("bench", candles)
        t0 = time.perf_counter()
        await add_sessions(store, sessions)
        session_seconds = time.perf_counter() - t0
        # the first whole UTC day the trades cover (or their start, for a short run)
        spans_days = trades[-1].ts - trades[0].ts > 2 * DAY
        day_start = (trades[0].ts // DAY + 1) * DAY if spans_days else trades[0].ts
        day = await store.read_candles("bench", ["BTC_USDT"], day_start, day_start + DAY, 60)
        list_p50, list_p99 = await latency_ms(lambda: store.list_sessions(SessionFilter(limit=50)))
        candle_p50, candle_p99 = await latency_ms(
            lambda: store.read_candles("bench", ["BTC_USDT"], day_start, day_start + DAY, 60)
        )
        result = {
            "store": label,
            "trades": len(trades),
            "ingest_rows_per_s": len(trades) / timing["written_s"],
            "readable_rows_per_s": len(trades) / timing["readable_s"],
            "client_cpu_rows_per_s": len(trades) / timing["client_cpu_s"],
            "server_cpu_rows_per_s": (
                len(trades) / timing["server_cpu_s"] if timing["server_cpu_s"] else None
            ),
            "sessions": sessions,
            "session_create_ms": session_seconds / sessions * 1000,
            "list_p50_ms": list_p50,
            "list_p99_ms": list_p99,
            "candles_in_day": len(day),
            "candle_day_p50_ms": candle_p50,
            "candle_day_p99_ms": candle_p99,
        }
        server_cpu = result["server_cpu_rows_per_s"]
        print(
            f"{label:8} ingest {result['ingest_rows_per_s']:>11,.0f} rows/s "
            f"(readable {result['readable_rows_per_s']:,.0f}/s; per CPU second: client "
            f"{result['client_cpu_rows_per_s']:,.0f}"
            + (f", server {server_cpu:,.0f}" if server_cpu else "")
            + f") | {sessions} sessions "
            f"({result['session_create_ms']:.1f} ms each, 2-3 writes) | list p50 {list_p50:.1f} ms "
            f"p99 {list_p99:.1f} ms | 1-day candles ({len(day)}) p50 {candle_p50:.1f} ms "
            f"p99 {candle_p99:.1f} ms",
            flush=True,
        )
        return result
    finally:
        await store.close()


async def main(total: int, sessions: int) -> None:
    print(f"{total:,} trades: {TAPE.name} (2,001 real prints) replayed with shifted timestamps")
    print(f"load average before the run: {', '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    trades = trade_tape(total)
    with tempfile.TemporaryDirectory(prefix="papertape-bench-") as tmp:
        server = QuestDBServer(Path(tmp) / "questdb")
        server.start()
        try:
            questdb = await measure(server.url, trades, sessions, "questdb", server.process.pid)
        finally:
            server.stop()
        sqlite = await measure(f"sqlite:///{tmp}/bench.db", trades, sessions, "sqlite")
    print(
        f"ingest ratio QuestDB/SQLite: {questdb['ingest_rows_per_s'] / sqlite['ingest_rows_per_s']:.1f}x "
        f"(until readable: {questdb['readable_rows_per_s'] / sqlite['readable_rows_per_s']:.1f}x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=None, help="default 10,000,000")
    parser.add_argument("--sessions", type=int, default=None, help="default 1,000")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 200,000 trades, 50 sessions"
    )
    args = parser.parse_args()
    trades = args.trades or (200_000 if args.quick else 10_000_000)
    sessions = args.sessions or (50 if args.quick else 1_000)
    asyncio.run(main(trades, sessions))

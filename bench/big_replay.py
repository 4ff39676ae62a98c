"""Big data, bounded memory: a backtest over millions of trades streamed from the store in chunks,
beside the same backtest with every row in memory.

The tape is the shared Binance trades (2,001 BTCUSDT prints over ~40 s) replayed end to end with
shifted timestamps and trade ids (numbers, as the exchange's) until it holds ``--rows`` trades.
It is written out as a gzip CSV file (not timed), which is imported into the store as a dataset
the way ``papertape data import`` does it, parsed and filed a chunk at a time (rows/s and peak RSS reported), then
``papertape backtest --dataset`` runs ``sma_cross`` over it in a subprocess, streaming it from the
store as ``TradeColumns`` (wall time, rows/s and the subprocess's peak RSS), and again streaming
it as rows (what it did before columns). The baselines run the engine alone on the tape held in
memory (``--baseline-rows`` of it) as ``Trade`` rows and as columns, and the first
``--baseline-rows`` of the dataset read whole from the same store into a list (read and run timed
together). Last, ``papertape sweep --dataset`` of four parameter sets on 2 workers, whose
processes each hold the whole dataset as columns (largest peak RSS of them). Each phase runs in
its own process, so each peak RSS is that phase's own; imports are not timed.

On a machine shared with other work, wall times swing by 2x from one run to the next: the
streamed and the read-whole runs alternate ``--repeat`` times and the best of each is compared
(the in-memory runs are the best of as many); the CPU seconds each run took, in the backtest's
process and in the QuestDB server, are printed beside the wall times, as load hardly moves them.

    uv run python bench/big_replay.py                      # 10M trades, SQLite and QuestDB
    uv run python bench/big_replay.py --rows 2000000 --stores sqlite
    uv run python bench/big_replay.py --quick              # 200,000 trades, SQLite
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from papertape.domain.market import Trade
from papertape.market.importers import read_market_file
from tests.support.data import MARKET_DATA

TRADES = MARKET_DATA / "binance_btcusdt_trades_2021-01-08.parquet"
CHUNK = 50_000


def tape(rows: int) -> Iterator[Trade]:
    """``rows`` trades: the shared prints again and again, each copy after the previous one,
    its trade ids after the previous copy's too (numbers, as the exchange's are)."""
    base = read_market_file(TRADES, symbol="BTC_USDT").rows
    span = base[-1].ts - base[0].ts + 1_000
    ids = [int(t.trade_id) for t in base]
    id_span = max(ids) - min(ids) + 1
    made, copy = 0, 0
    while True:
        shift = copy * span
        for t, trade_id in zip(base, ids, strict=True):
            if made == rows:
                return
            yield t._replace(ts=t.ts + shift, trade_id=str(trade_id + copy * id_span))
            made += 1
        copy += 1


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_file(path: str, rows: int) -> dict:
    """The tape as a gzip CSV file, written a row at a time."""
    with gzip.open(path, "wt", newline="") as file:
        out = csv.writer(file)
        out.writerow(["timestamp", "price", "qty", "side", "trade_id"])
        for t in tape(rows):
            out.writerow([t.ts, t.price, t.qty, t.side, t.trade_id])
    return {"bytes": Path(path).stat().st_size}


def phase_import(store_url: str, path: str, rows: int) -> dict:
    """``papertape data import`` of the file: parsed and filed a chunk at a time."""
    from papertape.market.dataset_import import import_dataset
    from papertape.store import open_store

    async def run() -> int:
        store = await open_store(store_url)
        try:
            dataset = await import_dataset(store, path, "big", symbol="BTC_USDT")
            return dataset.rows
        finally:
            await store.close()

    began = time.perf_counter()
    filed = asyncio.run(run())
    seconds = time.perf_counter() - began
    assert filed == rows, (filed, rows)
    return {"seconds": seconds, "rows_per_s": rows / seconds, "peak_rss_mib": peak_rss_mib()}


def phase_memory(rows: int, columns: bool) -> dict:
    """The engine alone on the tape held in memory: as ``Trade`` rows (the baseline before
    columns), or as ``TradeColumns`` of 50,000 prints (what a stream of columns feeds it)."""
    from papertape.domain.config import StrategySpec
    from papertape.domain.trade_columns import TradeColumns
    from papertape.engine.backtest import run_backtest, run_backtest_stream
    from papertape.sessions.strategy_catalog import plan_for

    data = list(tape(rows))
    plan = plan_for(StrategySpec(name="sma_cross", params={"fast": 10, "slow": 30}))
    if columns:
        batches = [
            TradeColumns.from_rows("BTC_USDT", data[i : i + CHUNK]) for i in range(0, rows, CHUNK)
        ]
        del data
        began = time.perf_counter()
        result = run_backtest_stream(batches, ["BTC_USDT"], [plan])
    else:
        began = time.perf_counter()
        result = run_backtest(data, ["BTC_USDT"], [plan])
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mib": peak_rss_mib(),
        "trades": result.metrics["trades"],
        "final_equity": result.metrics["final_equity"],
    }


def phase_stream(store_url: str, rows: int, form: str = "columns") -> dict:
    """What ``papertape backtest --dataset`` runs: the dataset streamed from the store in chunks
    of ``TradeColumns`` through the engine (interpreter start-up and imports not counted);
    ``rows``: in chunks of rows (what it ran before columns, and still runs for a strategy that
    listens to every print); ``beside``: as columns, with another store open on it in this
    process, as a sweep session's worker reads it (on SQLite through ``sqlite3`` then, not the
    ADBC driver: ``papertape.store.sqlite_libraries``)."""
    import adbc_driver_manager  # noqa: F401  imported by the first columnar read, not timed
    import adbc_driver_sqlite  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from papertape.domain.config import StrategySpec
    from papertape.engine.backtest import run_backtest_stream
    from papertape.research.data import dataset_chunks
    from papertape.sessions.strategy_catalog import plan_for
    from papertape.store import open_store

    plan = plan_for(StrategySpec(name="sma_cross", params={"fast": 10, "slow": 30}))
    loop = asyncio.new_event_loop()
    beside = loop.run_until_complete(open_store(store_url)) if form == "beside" else None
    began, cpu = time.perf_counter(), time.process_time()
    total, chunks = dataset_chunks(store_url, "big", "BTC_USDT", columns=form != "rows")
    result = run_backtest_stream(chunks, ["BTC_USDT"], [plan])
    seconds = time.perf_counter() - began
    if beside is not None:
        loop.run_until_complete(beside.close())
    loop.close()
    assert total == rows
    return {
        "seconds": seconds,
        "cpu_s": time.process_time() - cpu,
        "rows_per_s": rows / seconds,
        "peak_rss_mib": peak_rss_mib(),
        "trades": result.metrics["trades"],
        "final_equity": result.metrics["final_equity"],
    }


def phase_sweep(store_url: str, rows: int) -> dict:
    """``papertape sweep --dataset`` of ``sma_cross`` over four parameter sets on 2 workers:
    each process holds the dataset as columns. Wall time, and the largest peak RSS of the
    command and its helper processes."""
    grid = ["--grid", "fast=10,20", "--grid", "slow=30,60"]
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "papertape", "sweep", "--dataset", "big", "--store", store_url,
         "--symbol", "BTC_USDT", "--strategy", "sma_cross", *grid, "--workers", "2", "--json"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    trials = json.loads(done.stdout)["trials"]
    ten_thirty = next(t for t in trials if t["params"] == {"fast": 10, "slow": 30})
    return {
        "seconds": seconds,
        "trials": len(trials),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "final_equity": ten_thirty["metrics"]["final_equity"],
        "engines": sorted({t["engine"] for t in trials}),
    }


def phase_whole(store_url: str, rows: int, baseline_rows: int) -> dict:
    """The alternative to streaming: the first ``baseline_rows`` of the dataset read from the
    same store into one list, then the same backtest (read and run timed together)."""
    from papertape.domain.config import StrategySpec
    from papertape.engine.backtest import run_backtest
    from papertape.sessions.strategy_catalog import plan_for
    from papertape.store import open_store

    async def read() -> list[Trade]:
        store = await open_store(store_url)
        try:
            summary = (await store.market_summary("big"))["trades"]
            start, end = summary["start_ts"], summary["end_ts"] + 1
            stop = start + (end - start) * baseline_rows // rows
            return await store.read_trades("big", ["BTC_USDT"], start, stop)
        finally:
            await store.close()

    plan = plan_for(StrategySpec(name="sma_cross", params={"fast": 10, "slow": 30}))
    began, cpu = time.perf_counter(), time.process_time()
    data = asyncio.run(read())
    run_backtest(data, ["BTC_USDT"], [plan])
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "cpu_s": time.process_time() - cpu,
        "rows_per_s": len(data) / seconds,
        "peak_rss_mib": peak_rss_mib(),
    }


def run_phase(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.splitlines()[-1])


def best(runs: list[dict]) -> dict:
    return max(runs, key=lambda r: r["rows_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000_000)
    parser.add_argument("--stores", default="sqlite,questdb")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each streamed phase")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kind, *rest = args.phase
        if kind == "memory":
            result = phase_memory(int(rest[0]), rest[1] == "columns")
        elif kind == "import":
            result = phase_import(rest[0], rest[1], int(rest[2]))
        elif kind == "whole":
            result = phase_whole(rest[0], int(rest[1]), int(rest[2]))
        elif kind == "stream":
            result = phase_stream(rest[0], int(rest[1]), rest[2])
        elif kind == "sweep":
            result = phase_sweep(rest[0], int(rest[1]))
        else:
            result = phase_file(rest[0], int(rest[1]))
        print(json.dumps(result))
        return
    if args.quick:
        args.rows, args.baseline_rows, args.stores, args.repeat = 200_000, 200_000, "sqlite", 1
    baseline_rows = min(args.rows, args.baseline_rows)
    memory = {
        form: best([run_phase("memory", str(baseline_rows), form) for _ in range(args.repeat)])
        for form in ("rows", "columns")
    }
    assert memory["rows"]["final_equity"] == memory["columns"]["final_equity"]
    print(f"{args.rows:,} trades; in-memory baselines on {baseline_rows:,}")
    print(
        "| store | import rows/s | import peak RSS | streamed s | streamed rows/s "
        "| vs in memory, rows | vs in memory, columns | peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for form in ("rows", "columns"):
        run = memory[form]
        print(
            f"| (in memory, {form}) | | | {run['seconds']:.2f} | {run['rows_per_s']:,.0f} | "
            f"{run['rows_per_s'] / memory['rows']['rows_per_s']:.2f}x | "
            f"{run['rows_per_s'] / memory['columns']['rows_per_s']:.2f}x | "
            f"{run['peak_rss_mib']:,.0f} MiB |"
        )
    with tempfile.TemporaryDirectory() as files:
        tape_file = str(Path(files) / "tape.csv.gz")
        written = run_phase("file", tape_file, str(args.rows))
        print(f"  the tape as gzip CSV: {written['bytes'] / 2**20:,.0f} MiB")
        for kind in args.stores.split(","):
            bench_store(kind, tape_file, args.rows, baseline_rows, memory, args.repeat)
    print(
        f"  in memory: {memory['rows']['trades']} round trips on its {baseline_rows:,} rows, "
        "the same final equity as rows and as columns"
    )


def bench_store(
    kind: str, tape_file: str, rows: int, baseline_rows: int, memory: dict, repeat: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if kind == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'big.db'}"
        else:
            from papertape.devtools.questdb_server import QuestDBServer

            server = QuestDBServer(Path(tmp) / "questdb")
            server.start()
            url = server.url

        def timed(*phase: str) -> dict:
            """The phase's figures, with the CPU seconds the server spent meanwhile."""
            before = cpu_seconds(server.process.pid) if server and server.process else 0.0
            result = run_phase(*phase)
            after = cpu_seconds(server.process.pid) if server and server.process else 0.0
            return {**result, "server_cpu_s": after - before}

        try:
            imported = run_phase("import", url, tape_file, str(rows))
            phases: dict[str, list[dict]] = {"columns": [], "rows": [], "whole": [], "beside": []}
            for _ in range(repeat):  # alternated, so that all see the same load
                phases["columns"].append(timed("stream", url, str(rows), "columns"))
                phases["rows"].append(timed("stream", url, str(rows), "rows"))
                phases["whole"].append(timed("whole", url, str(rows), str(baseline_rows)))
                if kind == "sqlite":  # the other stores read the same way beside another
                    phases["beside"].append(timed("stream", url, str(rows), "beside"))
            swept = timed("sweep", url, str(rows))
        finally:
            if server is not None:
                server.stop()
    run, by_rows, whole = (best(phases[name]) for name in ("columns", "rows", "whole"))
    assert swept["final_equity"] == run["final_equity"], (swept, run)
    assert run["final_equity"] == by_rows["final_equity"] and run["trades"] == by_rows["trades"]
    print(
        f"| {kind} | {imported['rows_per_s']:,.0f} | {imported['peak_rss_mib']:,.0f} MiB | "
        f"{run['seconds']:.2f} | {run['rows_per_s']:,.0f} | "
        f"{run['rows_per_s'] / memory['rows']['rows_per_s']:.2f}x | "
        f"{run['rows_per_s'] / memory['columns']['rows_per_s']:.2f}x | "
        f"{run['peak_rss_mib']:,.0f} MiB |"
    )
    print(
        f"  {kind}: {run['trades']} round trips streamed, the same final equity as columns and "
        f"as rows; streamed as rows: {by_rows['rows_per_s']:,.0f} rows/s "
        f"(peak RSS {by_rows['peak_rss_mib']:,.0f} MiB), columns / rows = "
        f"{run['rows_per_s'] / by_rows['rows_per_s']:.2f}x (best of {repeat})"
    )
    print(
        f"  {kind}: the first {baseline_rows:,} rows read whole from the store, then run: "
        f"{whole['rows_per_s']:,.0f} rows/s, peak RSS {whole['peak_rss_mib']:,.0f} MiB; "
        f"streamed columns / read whole = {run['rows_per_s'] / whole['rows_per_s']:.2f}x"
    )
    print(
        f"  {kind}: sweep of {swept['trials']} trials on 2 workers ({'/'.join(swept['engines'])} "
        f"engine), dataset held as columns: {swept['seconds']:.1f} s, largest peak RSS of its "
        f"processes {swept['peak_rss_mib']:,.0f} MiB; the 10/30 trial's final equity is the "
        "streamed backtest's"
    )
    if phases["beside"]:
        near = best(phases["beside"])
        assert near["final_equity"] == run["final_equity"], (near, run)
        print(
            f"  {kind}: streamed as columns beside another store open in the process (a sweep "
            f"session's worker; through sqlite3): {near['rows_per_s']:,.0f} rows/s, "
            f"{near['rows_per_s'] / memory['rows']['rows_per_s']:.2f}x of the engine on rows in "
            f"memory; alone (through ADBC) / beside = {run['rows_per_s'] / near['rows_per_s']:.2f}x"
        )
    for name, count in (
        ("columns", rows),
        ("rows", rows),
        ("whole", baseline_rows),
        ("beside", rows),
    ):
        if not phases[name]:
            continue
        print(
            f"  {kind}, {name}: rows/s "
            + ", ".join(f"{r['rows_per_s']:,.0f}" for r in phases[name])
            + "; CPU s per million rows (backtest process + server) "
            + ", ".join(
                f"{r['cpu_s'] * 1e6 / count:.2f} + {r['server_cpu_s'] * 1e6 / count:.2f}"
                for r in phases[name]
            )
        )


if __name__ == "__main__":
    main()

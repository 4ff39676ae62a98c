"""Collector throughput: trades + book snapshots per second from the exchange adapter into a store.

The real adapter (``ExchangeSource``) reads the recorded-data exchange double at full speed (the
shared Binance BTCUSDT trades and best-bid/ask quotes of 2021-01-08, looped with shifted
timestamps and trade ids: say so when quoting the figures) and the collect-mode recorder
(``MarketRecorder``) writes what it delivers into SQLite and, when a QuestDB server can be
started from the project's files, into QuestDB. Each scenario runs with the recorder's batching
and "unbatched" (each feed batch written before the next is read, as the original system did);
rounds are interleaved and medians reported, because the machine's load changes under the runs.

    python -m bench.collector_throughput            # 5 s per run, 3 interleaved rounds, medians
    python -m bench.collector_throughput --quick    # 3 s per run, one round, SQLite only
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from papertape.domain.market import BookSnapshot, Trade
from papertape.domain.session import Mode, Session, SessionState
from papertape.market.exchange.connector import ExchangeHub
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from papertape.sessions.consumers.recording import MarketRecorder
from papertape.store import store_for
from tests.support.exchange_double import DoubleWorld

SESSION_ID = "exec_20260101_000000_be4c0000"
_RUN_NUMBERS = itertools.count()


@dataclass
class Context:
    store: object
    session: Session

    async def publish(self, kind: str, data: dict) -> int:
        return 0

    def broadcast(self, kind: str, data: dict) -> None:
        pass

    def request_stop(self, reason: str) -> None:
        pass

    def now(self) -> int:
        return time.time_ns() // 1000


@dataclass
class Result:
    label: str
    seconds: float
    trades: int
    books: int
    written: dict
    failed: dict

    @property
    def rows_per_s(self) -> float:
        return (self.written["trades"] + self.written["book"]) / self.seconds


SCENARIOS = {
    # trades (1,000 per message) and 1-level books (best bid/ask) of the spot market
    "trades+quotes": ("spot", FeedOptions(book_interval=0), 1000),
    # the same in messages of 10 trades, closer to what a live feed sends
    "trades+quotes/10": ("spot", FeedOptions(book_interval=0), 10),
    # 100-level books of the perpetual, every level stored
    "books-100": ("swap", FeedOptions(book_depth=None, book_interval=0), 1000),
}


async def run_once(
    store_url: str, label: str, seconds: float, batched: bool, scenario: str
) -> Result:
    store = store_for(store_url)
    await store.open()
    session_id = f"{SESSION_ID[:-4]}{next(_RUN_NUMBERS):04x}"  # every run records afresh
    session = Session(session_id, Mode.COLLECT, SessionState.RUNNING, ("BTC_USDT",), {}, 0, 0)
    market_type, options, message_size = SCENARIOS[scenario]
    world = DoubleWorld(speed=0, message_size=message_size)
    source = ExchangeSource(
        ["BTC_USDT"], "mexc", market_type, hub=ExchangeHub(world.factory), options=options
    )
    recorder = (
        MarketRecorder() if batched else MarketRecorder(max_pending=1)
    )  # 1-minute bars derived
    await recorder.start(Context(store, session))
    counts = {"trades": 0, "books": 0}

    async def pump() -> None:
        async for batch in source.batches():
            counts["trades"] += sum(1 for e in batch if isinstance(e, Trade))
            counts["books"] += sum(1 for e in batch if isinstance(e, BookSnapshot))
            await recorder.on_batch(batch)

    started = time.perf_counter()
    task = asyncio.create_task(pump())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await source.close()
    await recorder.finish("stopped")  # everything delivered is written before the clock stops
    elapsed = time.perf_counter() - started
    await store.close()
    detail = recorder.detail()
    return Result(
        label,
        elapsed,
        counts["trades"],
        counts["books"],
        detail["rows_written"],
        detail["rows_failed"],
    )


def report(result: Result) -> None:
    w = result.written
    print(
        f"{result.label:<36} {result.seconds:6.1f} s  delivered {result.trades:>9,} trades "
        f"{result.books:>7,} books  written {w['trades']:>9,} + {w['book']:>7,}  "
        f"= {result.rows_per_s:>10,.0f} rows/s  failed {sum(result.failed.values())}"
    )


async def main(seconds: float, questdb: bool, repeat: int) -> None:
    print(
        "Collector throughput: ExchangeSource (double at full speed, real BTCUSDT trades + quotes "
        f"looped with shifted timestamps) → MarketRecorder → store; {repeat} rounds, runs "
        "interleaved, median reported"
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        await store_runs(
            "sqlite", lambda n: f"sqlite:///{Path(tmp) / f'c{n}.db'}", seconds, repeat, results
        )
        if questdb:
            await questdb_runs(Path(tmp), seconds, repeat, results)
    medians: dict[str, float] = {}
    print("median rows/s:")
    for label in dict.fromkeys(r.label for r in results):
        medians[label] = statistics.median(r.rows_per_s for r in results if r.label == label)
        print(f"  {label:<36} {medians[label]:>10,.0f}")
    for store in ("sqlite", "questdb"):
        for scenario in ("trades+quotes", "trades+quotes/10"):
            batched = medians.get(f"{store} {scenario} batched")
            unbatched = medians.get(f"{store} {scenario} unbatched")
            if batched and unbatched:
                print(f"{store} {scenario}: batched / unbatched = {batched / unbatched:.2f}x")


async def questdb_runs(tmp: Path, seconds: float, repeat: int, results: list) -> None:
    from papertape.devtools.questdb_server import QuestDBServer, QuestDBUnavailable

    server = QuestDBServer(root=tmp / "questdb")
    try:
        server.start()
        server.wait_ready()
    except QuestDBUnavailable as exc:
        print(f"questdb: skipped ({exc})")
        return
    try:
        await store_runs("questdb", lambda n: server.url, seconds, repeat, results)
    finally:
        server.stop()


async def store_runs(store: str, url_for, seconds: float, repeat: int, results: list) -> None:
    """Every scenario once per round, rounds one after the other, so that the machine's changing
    load spreads over all of them; a fresh SQLite file per run."""
    runs = [
        (name, batched)
        for name in SCENARIOS
        for batched in (True, False)
        if batched or name != "books-100"
    ]
    for round_ in range(repeat):
        for n, (scenario, batched) in enumerate(runs):
            label = f"{store} {scenario} {'batched' if batched else 'unbatched'}"
            results.append(
                await run_once(url_for(f"{round_}-{n}"), label, seconds, batched, scenario)
            )
            report(results[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per run, one round, SQLite only")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-questdb", action="store_true")
    args = parser.parse_args()
    quick = args.quick
    asyncio.run(
        main(
            3.0 if quick else args.seconds,
            not (quick or args.no_questdb),
            1 if quick else args.repeat,
        )
    )

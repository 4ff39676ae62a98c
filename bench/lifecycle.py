"""Session lifecycle benchmark: start/stop latency with many running sessions, the server's peak
memory with them, and how fast session events are appended.

    uv run python bench/lifecycle.py              # 100 sessions, SQLite and (if it starts) QuestDB
    uv run python bench/lifecycle.py --quick      # smoke run: 10 sessions, SQLite only
    uv run python bench/lifecycle.py --sessions 50 --no-questdb
    uv run python bench/lifecycle.py --bursts-only   # issue 10's starts and stops only

What it does, per store:
1. imports the shared real trades (``binance_btcusdt_trades_2021-01-08.parquet``: 2,001 BTCUSDT
   prints over ~40 s) as a dataset, and starts a real ``papertape serve`` process on the store;
2. baseline: starts one paper session replaying it at speed 1 and stops it, several times (one
   running session at a time);
3. starts N such sessions one after the other (each answer comes once the session is running),
   checks that all N are running, then stops them one after the other (each answer comes once
   the session has stopped), starting a replacement after each stop so that every stop is
   measured with N sessions running; then stops the N replacements all at once (N concurrent
   requests): latency p50/p99 of each, and the ratio to the baseline;
   Before those stops (issue 10), with the N running: 20 starts sent at once, three times
   (``--quick``: 5, once), then 10 stops at once of each of the 50 newest sessions (500 requests
   in flight; each session must answer ``stopped_via: controller`` exactly once), which are then
   replaced so that N run again. Before each of those rounds, sessions that have ended (the
   replay lasts ~40 s) are replaced, so that every round finds N running;
4. samples the server process's RSS (psutil) every 20 ms throughout: idle, with N running, peak;
5. in-process, directly on the store: session events appended per second, in batches of 100 and
   one by one.

Targets (issue 2): stop p99 < 50 ms with 100 running sessions; < 1 GiB RSS for 100 running.
Issue 10: 20 concurrent starts p99 < 300 ms and 50 x 10 concurrent stops p99 < 1 s, with 100
running.
A benchmark, not a test: it prints figures and exits 0 unless something broke.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from papertape.domain.ids import new_session_id
from papertape.domain.session import Mode, NewEvent, Session, SessionState
from papertape.market.dataset_import import import_dataset
from papertape.store import open_store
from tests.support.server import ServerProcess

TRADES = ROOT.parent / "shared" / "data" / "market" / "binance_btcusdt_trades_2021-01-08.parquet"
DATASET = "btc_trades"
MiB = 1024 * 1024


def session_body(speed: float) -> dict:
    return {
        "mode": "paper",
        "symbols": ["BTC_USDT"],
        "strategies": [],
        "market": {"source": "replay", "dataset": DATASET, "speed": speed},
    }


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Figures:
    store: str
    rows: list[tuple[str, float, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, ratio: str = "") -> None:
        self.rows.append((name, value, unit, ratio))


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.02):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self.last = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.last = self.process.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, self.last)
            time.sleep(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def timed(http: httpx.Client, method: str, path: str, **kwargs) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = http.request(method, path, **kwargs)
    return (time.perf_counter() - began) * 1000, response


def start_session(http: httpx.Client, speed: float) -> tuple[float, str]:
    ms, response = timed(http, "POST", "/sessions/start", json=session_body(speed))
    if response.status_code != 201:
        raise RuntimeError(f"start answered {response.status_code}: {response.text}")
    return ms, response.json()["data"]["session_id"]


def stop_session(http: httpx.Client, session_id: str) -> tuple[float, dict]:
    ms, response = timed(http, "POST", f"/sessions/{session_id}/stop")
    if response.status_code != 200:
        raise RuntimeError(f"stop answered {response.status_code}: {response.text}")
    return ms, response.json()["data"]


def keep_running(http: httpx.Client, ids: list[str], speed: float) -> int:
    """Replace the sessions of ``ids`` that have ended (a replay lasts ~40 s at speed 1; on a
    busy machine the set-up and the rounds before take longer) with new ones, so that every
    burst finds ``len(ids)`` running: how many were replaced. ``ids`` stays in the order the
    sessions were started."""
    listed = http.get("/sessions", params={"state": "running", "limit": 500}).json()
    running = {s["session_id"] for s in listed["data"]["sessions"]}
    ended = len(ids) - len(running.intersection(ids))
    ids[:] = [session_id for session_id in ids if session_id in running]
    ids += [start_session(http, speed)[1] for _ in range(ended)]
    return ended


async def posts_at_once(
    base_url: str, requests: list[tuple[str, dict | None]]
) -> list[tuple[float, dict]]:
    """Send every ``(path, json body)`` POST at once, each on a connection of its own: each one's
    latency (ms) and answer's ``data``, in order.

    The client is aiohttp, not httpx: with hundreds of requests in flight httpx's connection
    pool costs more CPU than the server does (500 trivial requests: 6.8 s of wall time through
    one httpx client, 1.1 s through aiohttp, 0.6 s through bare sockets, on this 2-core
    machine), and the bench would measure its own client."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:

        async def one(path: str, body: dict | None) -> tuple[float, dict]:
            began = time.perf_counter()
            async with client.post(path, json=body) as response:
                answer = await response.json()
                ms = (time.perf_counter() - began) * 1000
                if response.status not in (200, 201):
                    raise RuntimeError(f"{path} answered {response.status}: {answer}")
            return ms, answer["data"]

        return list(await asyncio.gather(*(one(path, body) for path, body in requests)))


async def stop_concurrently(base_url: str, ids: list[str]) -> list[float]:
    answers = await posts_at_once(base_url, [(f"/sessions/{i}/stop", None) for i in ids])
    return [ms for ms, _ in answers]


async def concurrent_starts(
    base_url: str, rounds: int, width: int, speed: float
) -> tuple[list[float], list[str]]:
    """``rounds`` times, ``width`` starts sent at once: each start's latency, and the ids."""
    latencies: list[float] = []
    ids: list[str] = []
    for _ in range(rounds):
        answers = await posts_at_once(base_url, [("/sessions/start", session_body(speed))] * width)
        latencies += [ms for ms, _ in answers]
        ids += [data["session_id"] for _, data in answers]
    return latencies, ids


def bursts_of_starts(
    base_url: str, http: httpx.Client, ids: list[str], rounds: int, width: int, speed: float
) -> tuple[list[float], int]:
    """``rounds`` bursts of ``width`` starts, each with ``len(ids)`` sessions running (ended
    ones replaced first), the burst's sessions stopped after it: the latencies, and how many
    running sessions had to be replaced."""
    latencies: list[float] = []
    replaced = 0
    for _ in range(rounds):
        replaced += keep_running(http, ids, speed)
        burst, burst_ids = asyncio.run(concurrent_starts(base_url, 1, width, speed))
        latencies += burst
        for session_id in burst_ids:
            stop_session(http, session_id)
    return latencies, replaced


async def repeated_stops(
    base_url: str, ids: list[str], per_session: int
) -> tuple[list[float], dict[str, int]]:
    """``per_session`` stops of each session, all sent at once: latencies, and how many of
    them answered ``stopped_via: controller`` per session (exactly one each is right)."""
    targets = [i for i in ids for _ in range(per_session)]
    answers = await posts_at_once(base_url, [(f"/sessions/{i}/stop", None) for i in targets])
    controllers = dict.fromkeys(ids, 0)
    for session_id, (_, data) in zip(targets, answers, strict=True):
        if data["stopped_via"] == "controller":
            controllers[session_id] += 1
    return [ms for ms, _ in answers], controllers


def histogram_totals(http: httpx.Client) -> dict[tuple[str, str], tuple[float, float]]:
    """(metric, label value) -> (sum of seconds, count) of the server's latency histograms in
    ``/metrics``: two readings around a burst say what the server itself spent in it."""
    totals: dict[tuple[str, str], list[float]] = {}
    for family in text_string_to_metric_families(http.get("/metrics").text):
        if family.type != "histogram":
            continue
        for sample in family.samples:
            kind = sample.name.removeprefix(family.name)
            if kind in ("_sum", "_count"):
                label = ",".join(str(v) for v in sample.labels.values())
                pair = totals.setdefault((family.name, label), [0.0, 0.0])
                pair[0 if kind == "_sum" else 1] = sample.value
    return {key: (total, count) for key, (total, count) in totals.items()}


def server_side(
    before: dict[tuple[str, str], tuple[float, float]],
    after: dict[tuple[str, str], tuple[float, float]],
) -> list[tuple[str, float, float]]:
    """(metric{label}, mean ms, count) of what changed between two readings, busiest first."""
    rows = []
    for key, (total, count) in after.items():
        was_total, was_count = before.get(key, (0.0, 0.0))
        if count > was_count:
            name = f"{key[0].removeprefix('papertape_')}{{{key[1]}}}"
            rows.append((name, 1000 * (total - was_total) / (count - was_count), count - was_count))
    return sorted(rows, key=lambda row: -row[1] * row[2])


async def prepare_store(url: str) -> None:
    store = await open_store(url)
    try:
        await import_dataset(store, str(TRADES), DATASET, "BTC_USDT", None)
    finally:
        await store.close()


def lifecycle(
    figures: Figures,
    url: str,
    workdir: Path,
    sessions: int,
    baseline_runs: int,
    speed: float,
    burst: tuple[int, int] = (3, 20),
    bursts_only: bool = False,
) -> None:
    """``burst``: rounds of concurrent starts, and how many starts each round sends at once;
    ``bursts_only``: measure those and the 50 x 10 stops, nothing else."""
    asyncio.run(prepare_store(url))
    server = ServerProcess(url, workdir / f"server-{figures.store}.log").start(timeout=300)
    sampler = RssSampler(server.process.pid)
    sampler.start()
    try:
        time.sleep(0.5)
        idle_rss = sampler.last
        with server.client() as http:
            # warm-up: the first session pays for imports and caches
            stop_session(http, start_session(http, speed)[1])
            base_start, base_stop = [], []
            for _ in range(baseline_runs):
                ms, session_id = start_session(http, speed)
                base_start.append(ms)
                ms, _ = stop_session(http, session_id)
                base_stop.append(ms)

            began = time.monotonic()
            starts, ids = [], []
            for _ in range(sessions):
                ms, session_id = start_session(http, speed)
                starts.append(ms)
                ids.append(session_id)
            start_wall = time.monotonic() - began
            time.sleep(1.0)  # let them all settle into replaying
            running = http.get("/health").json()["data"]["running_sessions"]
            listed = http.get("/sessions", params={"state": "running", "limit": 500}).json()
            running_ids = {s["session_id"] for s in listed["data"]["sessions"]}
            still = sum(1 for i in ids if i in running_ids)
            rss_running = sampler.last

            # issue 10: with N running, 20 starts at once (3 rounds); then 10 stops at once of
            # each of 50 sessions (500 requests in flight)
            rounds, width = burst
            before = histogram_totals(http)
            burst_starts, replaced = bursts_of_starts(server.url, http, ids, rounds, width, speed)
            start_phases = server_side(before, histogram_totals(http))
            replaced += keep_running(http, ids, speed)
            # the newest sessions: the ones surest to be still replaying while they are stopped
            victims = ids[-min(50, len(ids)) :]
            before = histogram_totals(http)
            repeated, controllers = asyncio.run(repeated_stops(server.url, victims, 10))
            stop_phases = server_side(before, histogram_totals(http))
            for session_id in victims:  # back to N running for the measurements below
                ids[ids.index(session_id)] = start_session(http, speed)[1]
            if not bursts_only:
                if still < sessions:
                    figures.notes.append(
                        f"only {still} of {sessions} sessions were still running when the stops began "
                        f"(the replay is ~40 s at speed {speed}; starting took {start_wall:.1f} s)"
                    )

                # each stop is measured with all N running: after it, a replacement is started
                # (not timed) so the next stop again finds N running
                stops, via = [], {"controller": 0, "already_stopped": 0}
                replacements = []
                for session_id in ids:
                    ms, data = stop_session(http, session_id)
                    stops.append(ms)
                    via[data["stopped_via"]] += 1
                    replacements.append(start_session(http, speed)[1])
                # then all N stopped at once, as an emergency stop or many users would
                began = time.perf_counter()
                together = asyncio.run(stop_concurrently(server.url, replacements))
                together_wall = (time.perf_counter() - began) * 1000
                after = http.get("/health").json()["data"]["running_sessions"]
    finally:
        sampler.stop()
        server.stop()

    r50, r99 = pct(burst_starts, 50), pct(burst_starts, 99)
    figures.add(f"start latency p50, {width} at once, {sessions} running", r50, "ms")
    figures.add(
        f"start latency p99, {width} at once, {sessions} running",
        r99,
        "ms",
        f"{len(burst_starts)} starts; target < 300 ms: {'met' if r99 < 300 else 'NOT met'}",
    )
    q50, q99 = pct(repeated, 50), pct(repeated, 99)
    exact = sum(1 for n in controllers.values() if n == 1)
    figures.add(f"stop latency p50, {len(controllers)} sessions x 10 stops at once", q50, "ms")
    figures.add(
        f"stop latency p99, {len(controllers)} sessions x 10 stops at once",
        q99,
        "ms",
        f"{len(repeated)} stops; target < 1 s: {'met' if q99 < 1000 else 'NOT met'}",
    )
    figures.add(
        "sessions with exactly one 'controller' stop",
        float(exact),
        "sessions",
        f"of {len(controllers)}: {'met' if exact == len(controllers) else 'NOT met'}",
    )
    for during, phases in (("starts", start_phases), ("stops", stop_phases)):
        for name, mean_ms, count in phases[:6]:
            figures.add(
                f"during the {during}, server-side: {name}", mean_ms, "ms", f"mean of {count:.0f}"
            )
    figures.add(
        "running sessions that had ended and were replaced before the bursts",
        float(replaced),
        "sessions",
        f"so that {sessions} ran during each",
    )
    if bursts_only:
        return
    b50, b99 = pct(base_start, 50), pct(base_start, 99)
    s50, s99 = pct(starts, 50), pct(starts, 99)
    figures.add("start latency p50, 0 running (baseline)", b50, "ms")
    figures.add("start latency p99, 0 running (baseline)", b99, "ms")
    figures.add(f"start latency p50, up to {sessions} running", s50, "ms", f"{s50 / b50:.2f}x")
    figures.add(f"start latency p99, up to {sessions} running", s99, "ms", f"{s99 / b99:.2f}x")
    b50, b99 = pct(base_stop, 50), pct(base_stop, 99)
    t50, t99 = pct(stops, 50), pct(stops, 99)
    figures.add("stop latency p50, 1 running (baseline)", b50, "ms")
    figures.add("stop latency p99, 1 running (baseline)", b99, "ms")
    figures.add(f"stop latency p50, {sessions} running", t50, "ms", f"{t50 / b50:.2f}x")
    figures.add(
        f"stop latency p99, {sessions} running",
        t99,
        "ms",
        f"{t99 / b99:.2f}x; target < 50 ms: {'met' if t99 < 50 else 'NOT met'}",
    )
    c50, c99 = pct(together, 50), pct(together, 99)
    figures.add(f"stop latency p50, {sessions} stops at once", c50, "ms", f"{c50 / b50:.2f}x")
    figures.add(f"stop latency p99, {sessions} stops at once", c99, "ms", f"{c99 / b99:.2f}x")
    figures.add(
        f"all {sessions} stopped at once, wall",
        together_wall,
        "ms",
        f"{together_wall / sessions:.1f} ms per session",
    )
    figures.add(
        "sessions running when the stops began", float(still), "sessions", f"/health said {running}"
    )
    figures.add(
        "stops that stopped a running session (controller)",
        float(via["controller"]),
        "stops",
        f"{via['already_stopped']} already stopped; {after} running after",
    )
    figures.add("server RSS idle", idle_rss / MiB, "MiB")
    figures.add(
        f"server RSS with {sessions} running",
        rss_running / MiB,
        "MiB",
        f"{rss_running / idle_rss:.2f}x idle",
    )
    figures.add(
        "server peak RSS",
        sampler.peak / MiB,
        "MiB",
        f"target < 1024 MiB: {'met' if sampler.peak < 1024 * MiB else 'NOT met'}",
    )


async def append_rates(figures: Figures, url: str, batched: int, single: int) -> None:
    store = await open_store(url)
    try:
        now = time.time_ns() // 1000
        rates = {}
        for label, total, size in (("batches of 100", batched, 100), ("one by one", single, 1)):
            draft = Session(
                session_id=new_session_id(),
                mode=Mode.PAPER,
                state=SessionState.STARTING,
                symbols=("BTC_USDT",),
                config={"bench": label},
                created_at=now,
                updated_at=now,
            )
            session = await store.create_session(
                draft, NewEvent("state", {"from": None, "to": "starting"}, now)
            )
            began = time.perf_counter()
            for offset in range(0, total, size):
                # stamped with the wall clock when made, as the runner stamps them (QuestDB keeps
                # events in a time-ordered table: older stamps would cost out-of-order merges)
                ts = time.time_ns() // 1000
                await store.append_events(
                    session.session_id,
                    [NewEvent("bench", {"i": offset + k, "price": 100.0}, ts) for k in range(size)],
                )
            rates[label] = total / (time.perf_counter() - began)
            tail = await store.list_events(session.session_id, total - 1, 10)
            if not tail or tail[-1].seq != total + 1:
                raise RuntimeError(f"events missing after appending {total} ({label})")
        figures.add(
            "events appended/s, batches of 100 (direct on the store)",
            rates["batches of 100"],
            "events/s",
            f"{rates['batches of 100'] / rates['one by one']:.1f}x one by one",
        )
        figures.add(
            "events appended/s, one by one (direct on the store)", rates["one by one"], "events/s"
        )
    finally:
        await store.close()


def print_table(all_figures: list[Figures]) -> None:
    print()
    print("| store | figure | value | unit | vs baseline / target |")
    print("|---|---|---|---|---|")
    for figures in all_figures:
        for name, value, unit, ratio in figures.rows:
            shown = (
                f"{value:,.0f}"
                if value >= 1000 or unit in ("sessions", "stops")
                else f"{value:,.1f}"
            )
            print(f"| {figures.store} | {name} | {shown} | {unit} | {ratio} |")
    for figures in all_figures:
        for note in figures.notes:
            print(f"note ({figures.store}): {note}")


def questdb_url(workdir: Path, pool_threads: int | None):
    try:
        from papertape.devtools.questdb_server import QuestDBServer

        server = QuestDBServer(workdir / "questdb", pool_threads=pool_threads)
        server.start()
        return server
    except Exception as exc:  # no Java, no jar, no port: say so and go on
        print(
            f"note: QuestDB skipped: it could not be started here ({type(exc).__name__}: "
            f"{str(exc)[:200]})",
            flush=True,
        )
        return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 sessions, SQLite")
    parser.add_argument("--sessions", type=int, default=None)
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed of the sessions")
    parser.add_argument("--no-questdb", action="store_true")
    parser.add_argument(
        "--questdb-pool-threads",
        type=int,
        default=None,
        help="threads per QuestDB worker pool (default: QuestDB's own sizing by CPU count, as "
        "deployed; 1 is the test suite's small server)",
    )
    parser.add_argument(
        "--bursts-only",
        action="store_true",
        help="only issue 10's concurrent starts and stops (with N running), on SQLite and, "
        "unless --no-questdb, QuestDB",
    )
    args = parser.parse_args(argv)
    sessions = args.sessions or (10 if args.quick else 100)
    baseline_runs = 0 if args.bursts_only else 5 if args.quick else 20
    batched, single = (2_000, 200) if args.quick else (50_000, 3_000)
    use_questdb = not (args.quick or args.no_questdb)

    print(
        f"lifecycle bench: {sessions} paper sessions replaying {TRADES.name} at speed "
        f"{args.speed}; {psutil.cpu_count()} cores, load average "
        f"{', '.join(f'{x:.1f}' for x in psutil.getloadavg())}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="papertape-bench-lifecycle-"))
    results: list[Figures] = []
    questdb = None
    try:
        sqlite = Figures("sqlite")
        url = f"sqlite:///{workdir / 'server.db'}"
        burst = (1, 5) if args.quick else (3, 20)
        lifecycle(
            sqlite, url, workdir, sessions, baseline_runs, args.speed, burst, args.bursts_only
        )
        if not args.bursts_only:
            db = f"sqlite:///{workdir / 'events.db'}"
            asyncio.run(append_rates(sqlite, db, batched, single))
        results.append(sqlite)
        if use_questdb:
            questdb = questdb_url(workdir, args.questdb_pool_threads)
            if questdb is not None:
                quest = Figures("questdb")
                lifecycle(
                    quest,
                    questdb.url,
                    workdir,
                    sessions,
                    baseline_runs,
                    args.speed,
                    burst,
                    args.bursts_only,
                )
                if not args.bursts_only:
                    asyncio.run(append_rates(quest, questdb.url, batched, single))
                results.append(quest)
        elif not args.no_questdb:
            print("note: QuestDB skipped in --quick mode", flush=True)
    finally:
        if questdb is not None:
            questdb.stop()
        print_table(results)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

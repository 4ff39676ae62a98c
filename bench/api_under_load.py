"""The API under load: how fast ``/health`` and ``GET /sessions/{id}`` answer while four 180k-bar
backtests run and three Chromium dashboard tabs watch; how much slower a watched backtest is
than an unwatched one; how many requests and websocket messages a watching tab costs.

    uv run python bench/api_under_load.py            # the full run (issue 10's figures)
    uv run python bench/api_under_load.py --quick    # smoke: the month once (45k bars), one tab

Data: the shared real BTC-PERP 1-minute candles of 2022-01 (``btc-perp_1m_2022-01.csv.gz``,
45,031 bars), filed four times over with each copy shifted past the previous one — 180,124 bars
(said in the output: only the repetition is synthetic, every bar is real). Strategy:
``sma_cross`` 10/30, ``mode: backtest`` (as fast as possible), on a real ``papertape serve``
process with SQLite.

1. unwatched: one backtest alone; its time is the session's ``ended_at - started_at``;
2. watched: the same with three tabs open (the sessions list, the Backtests page, the session's
   own page); the ratio to 1 (target ≤ 1.2x); the tabs' HTTP requests and websocket messages.
   Steps 1 and 2 run as ``--pairs`` pairs, each with a slow SMA of its own (30, 31, …), so that
   every watched run's chart computes its indicators from nothing, as a first watch does; the
   target is judged on the median of the pairs' ratios (one backtest's time alone moves by
   50 % from run to run on this shared machine);
3. under load: four backtests at once with the three tabs open (the session page on the first
   of the four), while a prober asks ``/health`` and ``GET /sessions/{id}`` every 50 ms:
   p50/p99/max (target p99 < 100 ms), over ``--load-rounds`` rounds (default 3) of four: one
   round gives ~150 answers, whose p99 is the second-worst.

Targets (issue 10). A benchmark, not a test: it prints figures and exits 0 unless something broke.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from papertape.domain.market import Candle
from papertape.domain.records import Dataset
from papertape.market.importers import read_market_file
from papertape.store import open_store
from tests.support.server import ServerProcess

MONTH = ROOT.parent / "shared" / "data" / "market" / "btc-perp_1m_2022-01.csv.gz"
CHROMIUM = Path("/usr/bin/chromium")
DATASET = "btc_1m_x4"
PROBE_EVERY = 0.05


CHROMIUM_KINDS = ("renderer", "gpu-process", "utility", "browser")


def chromium_kind(cmdline: list[str]) -> str:
    """Which of Chromium's processes this is: the tabs' renderers draw the pages, the GPU
    process composites them (in software here), the browser process routes the network."""
    for arg in cmdline:
        if arg.startswith("--type="):
            kind = arg.removeprefix("--type=")
            return kind if kind in CHROMIUM_KINDS else "utility"
    return "browser"


class CpuSeconds:
    """CPU seconds (user + system) spent since ``start()`` by the server process, by its
    children (the engine workers and their fork server), and by the Chromium processes: where a
    watched backtest's time goes on a machine they all share."""

    def __init__(self, server_pid: int):
        self.server = psutil.Process(server_pid)

    def _now(self) -> dict[tuple[str, int], float]:
        """CPU seconds by (group, process id): a process that ended meanwhile (a closed tab's
        renderer) drops out instead of taking its whole life's time off its group's sum."""

        def spent(process: psutil.Process, reaped: bool = False) -> float:
            """Its own CPU time, and with ``reaped`` its ended children's (a worker that ended
            is counted in the fork server that waited for it)."""
            try:
                times = process.cpu_times()
            except psutil.Error:
                return 0.0
            own = times.user + times.system
            return own + (times.children_user + times.children_system if reaped else 0.0)

        now = {("server", self.server.pid): spent(self.server)}
        for child in self.server.children(recursive=True):
            now[("engine workers", child.pid)] = spent(child, reaped=True)
        for p in psutil.process_iter(["name", "cmdline"]):
            if "chrom" in (p.info["name"] or ""):
                now[(f"Chromium {chromium_kind(p.info['cmdline'] or [])}", p.pid)] = spent(p)
        return now

    def start(self) -> None:
        self._began = self._now()

    def spent(self) -> str:
        groups = ["server", "engine workers", *(f"Chromium {kind}" for kind in CHROMIUM_KINDS)]
        total = dict.fromkeys(groups, 0.0)
        for key, seconds in self._now().items():
            total[key[0]] += seconds - self._began.get(key, 0.0)
        return ", ".join(f"{name} {seconds:.1f}" for name, seconds in total.items())


def seconds(iso_text: str) -> float:
    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


async def prepare(url: str, copies: int) -> int:
    month = read_market_file(MONTH, symbol="BTC_USDT")
    bars: list[Candle] = month.rows
    span = bars[-1].ts - bars[0].ts + bars[0].interval * 1_000_000
    store = await open_store(url)
    try:
        rows = 0
        for copy in range(copies):
            shifted = [b._replace(ts=b.ts + copy * span) for b in bars]
            for i in range(0, len(shifted), 20_000):
                await store.write_candles(DATASET, shifted[i : i + 20_000])
            rows += len(shifted)
        await store.save_dataset(
            Dataset(
                name=DATASET,
                kind="candles",
                symbols=("BTC_USDT",),
                rows=rows,
                start_ts=bars[0].ts,
                end_ts=bars[-1].ts + (copies - 1) * span,
                created_at=time.time_ns() // 1000,
                interval=bars[0].interval,
                origin=f"{MONTH.name} x{copies} (shifted copies)",
            )
        )
        return rows
    finally:
        await store.close()


BACKTEST = {
    "mode": "backtest",
    "symbols": ["BTC_USDT"],
    "strategies": [{"name": "sma_cross", "params": {"fast": 10, "slow": 30}}],
    "market": {"source": "replay", "dataset": DATASET, "speed": 0},
}


def start_backtest(http: httpx.Client, label: str, slow: int = 30) -> str:
    strategy = {"name": "sma_cross", "params": {"fast": 10, "slow": slow}}
    response = http.post(
        "/sessions/start", json={**BACKTEST, "strategies": [strategy], "label": label}
    )
    if response.status_code != 201:
        raise RuntimeError(f"start answered {response.status_code}: {response.text}")
    return response.json()["data"]["session_id"]


def wait_ended(http: httpx.Client, session_ids: list[str], timeout: float = 900) -> list[float]:
    """Seconds each backtest ran (``ended_at - started_at``, the server's own clock)."""
    deadline = time.monotonic() + timeout
    took: dict[str, float] = {}
    while len(took) < len(session_ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"backtests still running after {timeout}s")
        for sid in session_ids:
            if sid in took:
                continue
            data = http.get(f"/sessions/{sid}", timeout=120).json()["data"]
            if data["state"] in ("completed", "failed", "stopped"):
                if data["state"] != "completed":
                    raise RuntimeError(f"{sid} ended {data['state']}: {data['error_message']}")
                took[sid] = seconds(data["ended_at"]) - seconds(data["started_at"])
        time.sleep(0.5)
    return [took[s] for s in session_ids]


def probe(base_url: str, session_id: str, done: Event, answers: Queue) -> None:
    """Ask ``/health`` and ``GET /sessions/{id}`` every ``PROBE_EVERY`` seconds until ``done``;
    put ``(latencies by name, failures)`` on ``answers``."""
    latencies: dict[str, list[float]] = {"health": [], "session": []}
    failures = 0
    with httpx.Client(base_url=base_url, timeout=60) as http:
        while not done.is_set():
            for name, path in (("health", "/health"), ("session", f"/sessions/{session_id}")):
                began = time.perf_counter()
                try:
                    ok = http.get(path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies[name].append((time.perf_counter() - began) * 1000)
                failures += not ok
            time.sleep(PROBE_EVERY)
    answers.put((latencies, failures))


class Prober:
    """The probe in a process of its own: in this one, Playwright's driver takes every request
    and websocket frame of three tabs, and a probe thread here would time its own waits for the
    interpreter along with the server's answers."""

    def __init__(self, base_url: str, session_id: str):
        context = multiprocessing.get_context("spawn")
        self._done = context.Event()
        self._answers: Queue = context.Queue()
        self._process = context.Process(
            target=probe, args=(base_url, session_id, self._done, self._answers), daemon=True
        )
        self.latencies: dict[str, list[float]] = {}
        self.failures = 0

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._done.set()
        self.latencies, self.failures = self._answers.get(timeout=120)
        self._process.join()


class Tabs:
    """Chromium tabs on the dashboard, counting their requests and websocket messages."""

    def __init__(self, playwright, base_url: str, profile: Path):
        self.context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            headless=True,
            viewport={"width": 1280, "height": 800},
            base_url=base_url,
        )
        self.requests = 0
        self.ws_messages = 0
        self.context.on("request", self._on_request)
        self.pages = []

    def _on_request(self, request) -> None:
        if "/assets/" not in request.url:
            self.requests += 1

    def open(self, path: str) -> None:
        page = self.context.new_page()
        page.on("websocket", lambda ws: ws.on("framereceived", self._on_frame))
        page.goto(path)
        self.pages.append(page)

    def _on_frame(self, _payload) -> None:
        self.ws_messages += 1

    def pump(self, seconds: float) -> None:
        """Let the pages run (Playwright's sync API delivers events while it waits)."""
        self.pages[0].wait_for_timeout(seconds * 1000)

    def reset(self) -> None:
        self.requests = 0
        self.ws_messages = 0

    def close(self) -> None:
        self.context.close()


def run_watched(
    http: httpx.Client, tabs: Tabs, label: str, cpu: CpuSeconds, slow: int
) -> tuple[float, float, int, int, str]:
    """A backtest with the tabs watching (its own page opened as it starts); the CPU spent is
    read before its page closes (a closed tab's renderer takes its CPU time with it)."""
    tabs.reset()
    cpu.start()
    began = time.monotonic()
    sid = start_backtest(http, label, slow)
    tabs.open(f"/sessions/{sid}")
    while http.get(f"/sessions/{sid}").json()["data"]["state"] == "running":
        tabs.pump(0.5)
    wall = time.monotonic() - began
    [took] = wait_ended(http, [sid])
    spent = cpu.spent()
    tabs.pages.pop().close()
    return took, wall, tabs.requests, tabs.ws_messages, spent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the month once, one tab")
    parser.add_argument(
        "--pairs", type=int, default=3, help="unwatched/watched pairs (median ratio)"
    )
    parser.add_argument(
        "--load-rounds",
        type=int,
        default=3,
        help="rounds of four backtests at once, probed (a p99 of ~150 probes is the 2nd-worst)",
    )
    parser.add_argument(
        "--no-engine-workers",
        action="store_true",
        help="backtests on the server's threads, not in worker processes (for a before/after)",
    )
    args = parser.parse_args(argv)
    copies = 1 if args.quick else 4
    workdir = Path(tempfile.mkdtemp(prefix="papertape-bench-load-"))
    url = f"sqlite:///{workdir / 'papertape.db'}"
    rows = asyncio.run(prepare(url, copies))
    print(
        f"api_under_load: {rows:,} real 1m BTC-PERP bars ({MONTH.name} x{copies}, shifted copies); "
        "sma_cross 10/30 backtests; SQLite; backtests "
        + ("on the server's threads" if args.no_engine_workers else "in worker processes"),
        flush=True,
    )
    extra = ["--no-engine-workers"] if args.no_engine_workers else []
    server = ServerProcess(url, workdir / "server.log", extra_args=extra).start(timeout=300)
    figures: list[tuple[str, str]] = []
    try:
        from playwright.sync_api import sync_playwright

        with server.client() as http, sync_playwright() as playwright:
            start_backtest(http, "warm-up")  # imports and caches, not measured
            wait_ended(http, [http.get("/sessions").json()["data"]["sessions"][0]["session_id"]])
            cpu = CpuSeconds(server.process.pid)
            tabs = Tabs(playwright, server.url, workdir / "chromium")
            try:
                tabs.open("/")
                if not args.quick:
                    tabs.open("/backtests")
                tabs.pump(2)
                ratios: list[float] = []
                for pair in range(args.pairs):
                    slow = 30 + pair
                    cpu.start()
                    [alone] = wait_ended(http, [start_backtest(http, f"unwatched-{pair}", slow)])
                    alone_cpu = cpu.spent()
                    watched, wall, requests, messages, spent = run_watched(
                        http, tabs, f"watched-{pair}", cpu, slow
                    )
                    ratios.append(watched / alone)
                    name = f"pair {pair + 1} (sma_cross 10/{slow})"
                    figures.append(
                        (
                            f"{name}: backtest alone / watched",
                            f"{alone:.2f} / {watched:.2f} s = **{watched / alone:.2f}x**",
                        )
                    )
                    figures.append((f"{name}: CPU s while it ran alone", alone_cpu))
                    figures.append((f"{name}: CPU s while it ran watched", spent))
                    figures.append(
                        (
                            f"{name}: tabs' HTTP requests, websocket messages/s while watched",
                            f"{requests} ({requests / wall:.1f}/s over {wall:.1f} s), "
                            f"{messages / wall:.1f}/s",
                        )
                    )
                median = statistics.median(ratios)
                figures.append(
                    (
                        "watched / unwatched, median of the pairs",
                        f"{median:.2f}x (pairs: {', '.join(f'{r:.2f}' for r in ratios)}; "
                        f"target <= 1.2x: {'met' if median <= 1.2 else 'NOT met'})",
                    )
                )

                if not args.quick:
                    latencies: dict[str, list[float]] = {"health": [], "session": []}
                    failures, took = 0, []
                    cpu.start()
                    for load in range(args.load_rounds):
                        slow = 40 + load  # each round's charts compute their indicators anew
                        ids = [start_backtest(http, f"load-{load}-{i}", slow) for i in range(4)]
                        tabs.open(f"/sessions/{ids[0]}")
                        prober = Prober(server.url, ids[0])
                        prober.start()
                        while any(
                            http.get(f"/sessions/{s}", timeout=120).json()["data"]["state"]
                            == "running"
                            for s in ids
                        ):
                            tabs.pump(1)
                        prober.stop()
                        tabs.pages.pop().close()
                        for name, values in prober.latencies.items():
                            latencies[name].extend(values)
                        failures += prober.failures
                        took.extend(wait_ended(http, ids))
                    spent = cpu.spent()
                    for name, values in latencies.items():
                        path = "/health" if name == "health" else "GET /sessions/{id}"
                        figures.append(
                            (
                                f"{path} under 4 backtests + 3 tabs: p50 / p99 / max",
                                f"{pct(values, 50):.1f} / {pct(values, 99):.1f} / {max(values):.1f} ms "
                                f"({len(values)} requests over {args.load_rounds} rounds; target "
                                f"p99 < 100 ms: {'met' if pct(values, 99) < 100 else 'NOT met'})",
                            )
                        )
                    figures.append(("probe failures", str(failures)))
                    figures.append(("CPU s under load", spent))
                    figures.append(
                        (
                            "the backtests' times, four at a time",
                            ", ".join(f"{t:.1f}" for t in took) + " s",
                        )
                    )
            finally:
                tabs.close()
    finally:
        server.stop()
        print()
        print("| figure | value |")
        print("|---|---|")
        for name, value in figures:
            print(f"| {name} | {value} |")
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Where trials run: in this process, on local helper processes beside it, or on a Ray cluster.

Every executor streams results back as trials finish (``map_unordered``), and each of its workers
decodes the dataset once: a pool worker in its initializer, a Ray actor from the one copy of the
rows put in the cluster's object store; each worker keeps the fast path's caches (the candles as
arrays, each moving average) for the trials it runs. Trials are keyed by the caller (a trial
number).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from typing import Any

from papertape.engine.core import StrategyPlan
from papertape.research.data import DataSpec, load_rows
from papertape.research.trials import (
    Outcome,
    TrialData,
    TrialSettings,
    Window,
    init_worker,
    run_in_worker,
    window_rows,
)
from papertape.research.workload import Workload, helper_start_seconds, worth_helpers

Job = tuple[int, StrategyPlan]

RAY_ENV = "PAPERTAPE_RAY_ADDRESS"
RAY_RETRIES = 3  # a trial whose actor died (a node lost) runs again this many times


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class TrialExecutor(ABC):
    workers: int

    @abstractmethod
    def map_unordered(
        self, jobs: Sequence[Job], window: Window | None = None
    ) -> Iterator[tuple[int, Outcome]]:
        """Run every job on the rows inside ``window`` (all by default); yield ``(key, outcome)``
        as each finishes."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers; trials not started yet are dropped."""

    def __enter__(self) -> TrialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess(TrialExecutor):
    """One core, no pool: the baseline, and what ``--workers 1`` runs."""

    def __init__(self, spec: DataSpec, settings: TrialSettings):
        self.workers = 1
        began = time.perf_counter()
        self.data = TrialData(load_rows(spec))
        self.decode_seconds = time.perf_counter() - began
        self.settings = settings

    def map_unordered(
        self, jobs: Sequence[Job], window: Window | None = None
    ) -> Iterator[tuple[int, Outcome]]:
        for key, plan in jobs:
            yield key, self.data.run(plan, self.settings, window)


class LocalPool(InProcess):
    """Up to ``workers`` cores of this machine: this process runs trials itself, and starts
    ``workers - 1`` helper processes only once the work left is worth their start-up
    (``papertape.research.workload``): a small fast-path grid never starts one, event-engine
    trials or a large grid do at once, and this process goes on running trials beside them.

    Helpers are spawned (fresh interpreters, never a fork of a server with threads), load the
    dataset in their initializer and exit if this process dies (a server killed with kill -9
    leaves no helper behind). Each gets at most ``IN_FLIGHT`` trials at a time, so this process
    and the helpers share the work to the end; after ``close`` (a stopped sweep) the trials left
    are dropped and ``map_unordered`` raises ``CancelledError``. ``start_seconds`` overrides the
    estimate of a helper's start-up (0: helpers start as soon as a trial is left for them)."""

    IN_FLIGHT = 2

    def __init__(
        self,
        spec: DataSpec,
        settings: TrialSettings,
        workers: int,
        start_seconds: float | None = None,
    ):
        super().__init__(spec, settings)
        self.workers = workers
        self.spec = spec
        self.start_seconds = (
            helper_start_seconds(self.decode_seconds, os.getloadavg()[0], default_workers())
            if start_seconds is None
            else start_seconds
        )
        self.helped = 0  # trials the helpers ran
        self._helpers: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # close() comes from another thread
        self._closed = False

    def map_unordered(
        self, jobs: Sequence[Job], window: Window | None = None
    ) -> Iterator[tuple[int, Outcome]]:
        queue = deque(
            (key, plan, self.data.engine_for(plan, self.settings, window)) for key, plan in jobs
        )
        work = Workload(len(window_rows(self.data.rows, window)))
        work.left.update(engine for _, _, engine in queue)
        running: dict[Future[Outcome], int] = {}

        def take() -> Job:
            key, plan, engine = queue.popleft()
            work.left[engine] -= 1
            return key, plan

        try:
            while queue or running:
                for future in [f for f in running if f.done()]:
                    self._check_open()
                    outcome = future.result()
                    self.helped += 1
                    yield running.pop(future), outcome
                self._check_open()
                helpers = self._helpers_for(work)
                while (
                    helpers is not None
                    and queue
                    and len(running) < self.IN_FLIGHT * (self.workers - 1)
                ):
                    key, plan = take()
                    running[self._submit(helpers, plan, window)] = key
                if queue:
                    key, plan = take()
                    began = time.perf_counter()
                    outcome = self.data.run(plan, self.settings, window)
                    work.record(outcome.engine, time.perf_counter() - began)
                    yield key, outcome
                elif running:
                    wait(running, return_when=FIRST_COMPLETED)
        finally:
            for future in running:
                future.cancel()

    def _helpers_for(self, work: Workload) -> ProcessPoolExecutor | None:
        """The helpers, started now if the work left is worth it."""
        if self._helpers is not None or self.workers < 2:
            return self._helpers
        if not worth_helpers(work.seconds_left(), self.start_seconds):
            return None
        with self._lock:
            if not self._closed:
                self._helpers = ProcessPoolExecutor(
                    self.workers - 1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=init_worker,
                    initargs=(self.spec, os.getpid()),
                )
        return self._helpers

    def _submit(
        self, helpers: ProcessPoolExecutor, plan: StrategyPlan, window: Window | None
    ) -> Future[Outcome]:
        with self._lock:  # not after close(): the pool is shut down
            self._check_open()
            return helpers.submit(run_in_worker, self.spec, plan, self.settings, window)

    def _check_open(self) -> None:
        if self._closed:
            raise CancelledError("the pool was closed")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            helpers = self._helpers
        if helpers is not None:
            helpers.shutdown(wait=False, cancel_futures=True)


class RayCluster(TrialExecutor):
    """Actors on a Ray cluster, one per CPU it offers (or ``workers``). The rows are decoded here
    once and put in the object store; each actor gets them once, trials ship only their plan.
    An actor that dies is restarted and its trial retried. ``address="local"`` starts a private
    local Ray instance (with ``workers`` CPUs) for this run."""

    def __init__(
        self, spec: DataSpec, settings: TrialSettings, address: str, workers: int | None = None
    ):
        import ray
        from ray.util import ActorPool

        if address == "local":
            ray.init(
                address="local",
                num_cpus=workers or default_workers(),
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
            )
        else:
            ray.init(address=address, log_to_driver=False, ignore_reinit_error=True)
        self._ray = ray
        # ray ships py.typed but leaves cluster_resources and ActorPool.has_next unannotated
        self.workers = workers or max(
            1,
            int(ray.cluster_resources().get("CPU", 1)),  # type: ignore[no-untyped-call]
        )
        rows = ray.put(load_rows(spec))
        actor = ray.remote(num_cpus=1, max_restarts=RAY_RETRIES, max_task_retries=RAY_RETRIES)(
            _RayTrials
        )
        self.actors: list[Any] = [actor.remote(rows, settings) for _ in range(self.workers)]
        self.pool = ActorPool(self.actors)

    def map_unordered(
        self, jobs: Sequence[Job], window: Window | None = None
    ) -> Iterator[tuple[int, Outcome]]:
        for key, plan in jobs:
            self.pool.submit(lambda a, j: a.run.remote(*j), (key, plan, window))
        while self.pool.has_next():  # type: ignore[no-untyped-call]  # unannotated in ray
            yield self.pool.get_next_unordered()

    def close(self) -> None:
        actors, self.actors = self.actors, []
        for actor in actors:
            self._ray.kill(actor)
        if actors:
            self._ray.shutdown()


class _RayTrials:
    """A Ray actor's state: the rows (resolved from the object store once, with the fast path's
    caches) and the settings."""

    def __init__(self, rows: list[Any], settings: TrialSettings):
        self.data = TrialData(rows)
        self.settings = settings

    def run(self, key: int, plan: StrategyPlan, window: Window | None) -> tuple[int, Outcome]:
        return key, self.data.run(plan, self.settings, window)


def make_executor(
    spec: DataSpec,
    settings: TrialSettings,
    workers: int | None = None,
    ray_address: str | None = None,
) -> TrialExecutor:
    """Ray when an address is given (or ``PAPERTAPE_RAY_ADDRESS`` is set), else up to ``workers``
    local cores (every core by default): this process, and helper processes when they pay."""
    address = ray_address or os.environ.get(RAY_ENV) or None
    if address:
        return RayCluster(spec, settings, address, workers)
    count = workers or default_workers()
    if count <= 1:
        return InProcess(spec, settings)
    return LocalPool(spec, settings, count)

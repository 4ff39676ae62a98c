"""Where trials run: in this process, on a pool of local worker processes, or on a Ray cluster.

Every executor streams results back as trials finish (``map_unordered``), and each of its workers
decodes the dataset once: a pool worker in its initializer, a Ray actor from the one copy of the
rows put in the cluster's object store; each worker keeps the fast path's caches (the candles as
arrays, each moving average) for the trials it runs. Trials are keyed by the caller (a trial
number).
"""

from __future__ import annotations

import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
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
)

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
        self.data = TrialData(load_rows(spec))
        self.settings = settings

    def map_unordered(
        self, jobs: Sequence[Job], window: Window | None = None
    ) -> Iterator[tuple[int, Outcome]]:
        for key, plan in jobs:
            yield key, self.data.run(plan, self.settings, window)


class LocalPool(TrialExecutor):
    """Worker processes on this machine. Workers are spawned (fresh interpreters, never a fork of
    a server with threads), load the dataset in their initializer and exit if this process dies
    (a server killed with kill -9 leaves no worker behind)."""

    def __init__(self, spec: DataSpec, settings: TrialSettings, workers: int):
        context = multiprocessing.get_context("spawn")
        self.workers = workers
        self.spec = spec
        self.settings = settings
        self.pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=init_worker, initargs=(spec, os.getpid())
        )
        self._pending: set[Future[Outcome]] = set()

    def map_unordered(
        self, jobs: Sequence[Job], window: Window | None = None
    ) -> Iterator[tuple[int, Outcome]]:
        keys: dict[Future[Outcome], int] = {}
        for key, plan in jobs:
            future = self.pool.submit(run_in_worker, self.spec, plan, self.settings, window)
            keys[future] = key
        self._pending = set(keys)
        try:
            # as_completed waits on every future once; a wait() per result would re-register a
            # waiter on each pending future every time (quadratic: seconds for 1,000 trials)
            for future in as_completed(keys):
                self._pending.discard(future)
                yield keys[future], future.result()
        finally:
            for future in self._pending:
                future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


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
    """Ray when an address is given (or ``PAPERTAPE_RAY_ADDRESS`` is set), else local processes:
    ``workers`` of them (every core by default); one worker runs in this process."""
    address = ray_address or os.environ.get(RAY_ENV) or None
    if address:
        return RayCluster(spec, settings, address, workers)
    count = workers or default_workers()
    if count <= 1:
        return InProcess(spec, settings)
    return LocalPool(spec, settings, count)

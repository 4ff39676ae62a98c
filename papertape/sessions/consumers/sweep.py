"""A sweep session (``mode: "sweep"``): its source is its trials, its consumer records them.

``SweepSource`` runs the sweep (``papertape.research``) in a thread, on the worker pool, and hands
the trials out in batches as they finish, like market data: the runner's lifecycle (start, stop,
checkpoints, crash recovery) then applies unchanged. ``SweepRecorder`` writes each batch to the
store (``trials``) before the next is taken, publishes a ``trial`` event per trial on the tape and
broadcasts the progress. A resumed sweep reads the trials already recorded and runs only the
others; a stopped sweep keeps every trial recorded until then.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

from papertape.domain.config import SessionConfig
from papertape.domain.numbers import finite
from papertape.domain.session import Session
from papertape.domain.trials import TrialRecord
from papertape.domain.venue import exchange_fees
from papertape.market.source import MarketSource
from papertape.research.data import DataSpec
from papertape.research.executors import make_executor
from papertape.research.sweep import Sweep, SweepSpec, Trial, best_of
from papertape.research.trials import TrialSettings
from papertape.sessions.consumers.base import Consumer, RunContext
from papertape.sessions.runner import wall_micros
from papertape.sessions.sweep_plans import sweep_plans
from papertape.store.base import Store

_END = object()


def sweep_spec(config: SessionConfig) -> SweepSpec:
    assert config.sweep is not None
    sweep = config.sweep
    return SweepSpec(
        sweep.axes(),
        objective=sweep.objective,
        min_trades=sweep.min_trades,
        search=sweep.search,
        budget=sweep.trials,
        seed=sweep.seed,
        fixed=dict(config.strategies[0].params),
    )


def trial_of(record: TrialRecord) -> Trial:
    return Trial(
        record.number, record.params, record.metrics, record.error, record.score, record.engine
    )


def record_of(session_id: str, trial: Trial) -> TrialRecord:
    return TrialRecord(
        session_id,
        trial.number,
        wall_micros(),
        trial.params,
        None if trial.metrics is None else finite(trial.metrics),
        trial.error,
        trial.score,
        trial.engine,
    )


class SweepSource(MarketSource):
    def __init__(self, session: Session, config: SessionConfig, store: Store):
        super().__init__(session.symbols)
        self.session = session
        self.store = store
        self.config = config
        self.spec = sweep_spec(self.config)
        self._sweep: Sweep | None = None
        self._closed = threading.Event()

    def _settings(self) -> TrialSettings:
        config = self.config
        taker, maker = exchange_fees(config.market.exchange, config.fees.taker, config.fees.maker)
        return TrialSettings(
            config.symbols[0],
            cash=config.cash,
            taker=taker,
            maker=maker,
            slippage_bps=config.venue.slippage_bps,
            market_type=config.market.market_type,
            leverage=config.leverage,
            bar_fill=config.venue.bar_fill,
            margin_tiers=config.margin.margin_tiers(),
            liquidation_fee=config.margin.liquidation_fee,
            liquidation_close=config.margin.liquidation_close,
        )

    async def batches(self) -> AsyncIterator[Sequence[Any]]:
        done = {
            r.number: trial_of(r) for r in await self.store.list_trials(self.session.session_id)
        }
        plans = await sweep_plans(self.store, self.config.strategies[0].name)
        data = DataSpec(
            self.config.symbols[0], dataset=self.config.market.dataset, store_url=self.store.url
        )
        total = self.spec.total
        self.status.events = len(done)
        self._progress(len(done), total)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def deliver(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: the server stopped, nobody is listening
                pass

        def run() -> None:
            try:
                executor = make_executor(data, self._settings(), self.config.sweep.workers)  # type: ignore[union-attr]
                with executor:
                    self._sweep = Sweep(self.spec, plans, executor, done=done, on_trial=deliver)
                    if not self._closed.is_set():
                        self._sweep.run()
            except BaseException as exc:  # handed to the runner, which fails the session
                deliver(exc)
            finally:
                deliver(_END)

        worker = threading.Thread(target=run, name=f"sweep-{self.session.session_id}", daemon=True)
        self.status.set("replaying", f"{len(done)} of {total} trials")
        worker.start()
        count = len(done)
        while True:
            item = await queue.get()
            batch: list[TrialRecord] = []
            while True:
                if item is _END:
                    if batch:
                        yield batch
                    self.status.set("finished", f"{count} of {total} trials")
                    return
                if isinstance(item, BaseException):
                    raise item
                batch.append(record_of(self.session.session_id, item))
                if queue.empty():
                    break
                item = queue.get_nowait()
            count += len(batch)
            self.status.events = count
            self._progress(count, total)
            self.status.last_event_ts = batch[-1].ts
            yield batch

    def _progress(self, count: int, total: int) -> None:
        self.status.progress = count / total if total else 1.0
        self.status.message = f"{count} of {total} trials"

    async def close(self) -> None:
        self._closed.set()
        if self._sweep is not None:
            self._sweep.stop()


class SweepRecorder(Consumer):
    """Writes a sweep's trials and reports its progress."""

    def __init__(self, config: SessionConfig):
        self.spec = sweep_spec(config)
        self.done = 0
        self.best: Trial | None = None  # kept as trials arrive, not re-ranked for each
        self.skipped = 0
        self._writing: asyncio.Future[None] | None = None

    async def start(self, ctx: RunContext) -> None:
        await super().start(ctx)
        recorded = await ctx.store.list_trials(ctx.session.session_id)
        trials = [trial_of(r) for r in recorded]
        self.done = len(trials)
        self.best = best_of(trials)
        self.skipped = sum(1 for t in trials if t.metrics is None)
        await self._announce_unannounced(recorded)

    async def _announce_unannounced(self, recorded: list[TrialRecord]) -> None:
        """A batch's trials and their ``trial`` events are two writes: a crash between them
        leaves trials recorded (a resume never runs them again) that the tape never told of.
        Their events are recorded now, once: the tape and ``/trials`` agree again."""
        if not recorded:
            return
        announced: set[int] = set()
        after = 0
        while True:
            page = await self.ctx.store.list_events(self.ctx.session.session_id, after, 10_000)
            if not page:
                break
            announced.update(e.data["number"] for e in page if e.kind == "trial")
            after = page[-1].seq
        missing = [r for r in recorded if r.number not in announced]
        if missing:
            await self.ctx.publish_many([("trial", _trial_event(r)) for r in missing])

    async def on_batch(self, events: Sequence[Any]) -> None:
        # recorded and announced as one: a stop arriving mid-way waits for both (in finish)
        self._writing = asyncio.ensure_future(self._record(list(events)))
        await asyncio.shield(self._writing)

    async def _record(self, records: list[TrialRecord]) -> None:
        await self.ctx.store.record_trials(records)
        new = [trial_of(r) for r in records]
        self.done += len(new)
        self.skipped += sum(1 for t in new if t.metrics is None)
        self.best = best_of([*new, *([self.best] if self.best else [])])
        await self.ctx.publish_many([("trial", _trial_event(r)) for r in records])
        self.ctx.broadcast("sweep", self.detail()["sweep"])

    async def finish(self, reason: str) -> None:
        if self._writing is not None:
            await self._writing

    def detail(self) -> dict[str, Any]:
        best = self.best
        return {
            "sweep": {
                "objective": self.spec.objective,
                "search": self.spec.search,
                "total": self.spec.total,
                "done": self.done,
                "skipped": self.skipped,
                "best": None if best is None else {"number": best.number, **best.as_json()},
            }
        }


def _trial_event(record: TrialRecord) -> dict[str, Any]:
    return {
        "number": record.number,
        "params": record.params,
        "metrics": record.metrics,
        "error": record.error,
        "score": record.score,
        "engine": record.engine,
    }

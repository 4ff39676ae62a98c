"""The session service: the only writer of session state.

Every change goes the same way: take the session's lock, read the session from the store, ask
the state machine for the new record, have the store accept it (compare-and-set on the state it
was read in), and only then tell anyone (bus, runner, caller). Memory holds nothing the store
does not: the runners are the live half of sessions the store says are running.

Why stops cannot 404 or half-stop:
- ``start`` returns an id only after the store has recorded the session (write ahead).
- ``stop`` answers after the runner finished and ``stopped`` was recorded; when the runner does
  not finish in time it raises ``StopTimeout`` and the session stays ``stopping``: stoppable again.
- Stops of one session are serialised by its lock: the first does the work
  (``stopped_via: controller``), the others find it ended (``already_stopped``).
- A runner that ends by itself (data exhausted, crash) reports to ``_runner_finished``, which also
  takes the lock, so a self-ending and a user's stop cannot both record an end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from papertape.domain.config import SessionConfig
from papertape.domain.errors import (
    LiveTradingDisabled,
    PapertapeError,
    SessionNotFound,
    SessionNotRunning,
    StopTimeout,
    StoreError,
    UnknownDataset,
    UnknownSymbol,
)
from papertape.domain.ids import new_session_id
from papertape.domain.session import (
    Mode,
    NewEvent,
    Session,
    SessionEvent,
    SessionState,
    state_event,
    transition,
)
from papertape.sessions.bus import EventBus
from papertape.sessions.consumers.base import Consumer
from papertape.sessions.consumers.recording import consumers_for
from papertape.sessions.instrumented_store import metrics_observer
from papertape.sessions.locks import KeyedLocks
from papertape.sessions.metrics import Metrics
from papertape.sessions.process_runner import ProcessRunner, runs_in_worker
from papertape.sessions.runner import Outcome, Runner, SourceFactory, wall_micros
from papertape.sessions.sources import source_for
from papertape.sessions.strategy_catalog import resolve_strategies
from papertape.sessions.views import event_message, session_message, session_summary
from papertape.store.base import StaleState, Store

log = structlog.get_logger("papertape.sessions")

C = TypeVar("C", bound=Consumer)

# a resume refused because of the session's own record keeps the refusal's code
RECORD_ERRORS = frozenset({"record_inconsistent", "resume_state_unreadable"})

END_RETRY_FIRST = 0.5  # seconds before recording a runner's end is tried again
END_RETRY_MAX = 10.0
END_ATTEMPTS = 30  # with those delays, about four and a half minutes of store outage


class StateConflict(PapertapeError):
    """The store holds a different state than this server read: another server writes the same
    store. Nothing was changed."""

    code = "state_conflict"


class SessionStartFailed(PapertapeError):
    code = "session_start_failed"


@dataclasses.dataclass(frozen=True, slots=True)
class StopResult:
    session: Session
    stopped_via: str  # "controller" | "already_stopped"


SessionRunner = Runner | ProcessRunner


class SessionService:
    def __init__(
        self,
        store: Store,
        bus: EventBus | None = None,
        *,
        stop_timeout: float = 10.0,
        start_timeout: float = 30.0,
        live_enabled: bool = False,
        source_factory: SourceFactory = source_for,
        consumer_factory: Callable[[Session, SessionConfig], list[Consumer]] = consumers_for,
        symbol_validator: Callable[[SessionConfig], Any] | None = None,
        metrics: Metrics | None = None,
        worker_store_url: str | None = None,
    ):
        """``worker_store_url``: run backtests in worker processes that read this store (the
        one ``store`` writes; see ``papertape.sessions.engine_worker``); None: in this process."""
        self.store = store
        self.metrics = metrics or Metrics()
        self.bus = bus or EventBus(self.metrics)
        self.stop_timeout = stop_timeout
        self.start_timeout = start_timeout
        self.live_enabled = live_enabled
        self._source_factory = source_factory
        self._consumer_factory = consumer_factory
        self._symbol_validator = symbol_validator
        self._worker_store_url = worker_store_url
        self._runners: dict[str, SessionRunner] = {}
        self._lock = KeyedLocks()  # per session: one change of its state at a time
        self._stops: dict[str, asyncio.Task[StopResult]] = {}  # stops in flight, by session
        self._background: set[asyncio.Task[Any]] = set()
        self._ended_events = 0  # market events delivered to runners that are gone

    # queries -------------------------------------------------------------------------------
    async def get(self, session_id: str) -> Session:
        session = await self.store.get_session(session_id)
        if session is None:
            raise SessionNotFound(f"session {session_id} not found", session_id=session_id)
        return session

    def runtime(self, session_id: str) -> dict[str, Any] | None:
        runner = self._runners.get(session_id)
        return runner.runtime() if runner is not None else None

    def running_consumer(self, session_id: str, kind: type[C]) -> C:
        """The live consumer of type ``kind`` of a session running in this server."""
        runner = self._runners.get(session_id)
        if runner is None or not runner.alive:
            raise SessionNotRunning(f"session {session_id} is not running", session_id=session_id)
        for consumer in runner.consumers:
            if isinstance(consumer, kind):
                return consumer
        raise SessionNotRunning(
            f"session {session_id} runs no {kind.__name__}", session_id=session_id
        )

    @property
    def running_count(self) -> int:
        return sum(1 for r in self._runners.values() if r.alive)

    def live_runners(self) -> list[SessionRunner]:
        return [r for r in self._runners.values() if r.alive]

    def market_events_delivered(self) -> int:
        """Market events delivered to sessions by this server so far (for events/s)."""
        live = sum(r.source.status.events for r in self._runners.values() if r.source)
        return self._ended_events + live

    def _forget_runner(self, runner: SessionRunner) -> None:
        if self._runners.get(runner.session_id) is runner:
            del self._runners[runner.session_id]
            self._ended_events += runner.source.status.events if runner.source else 0

    # start ---------------------------------------------------------------------------------
    async def start(self, config: SessionConfig) -> tuple[Session, bool]:
        """Record and launch a session. Returns it and whether it was created now (False when
        the idempotency key named an existing session)."""
        began = time.perf_counter()
        result = await self._start(config)
        self.metrics.start_seconds.labels(config.mode.value).observe(time.perf_counter() - began)
        return result

    async def _start(self, config: SessionConfig) -> tuple[Session, bool]:
        if config.idempotency_key:
            existing = await self.store.find_session_by_key(config.idempotency_key)
            if existing is not None:
                return existing, False
        validating = time.perf_counter()
        config = await self._validate(config)  # bounded: the market list waits at most ~2 s
        self.metrics.validate_seconds.labels(config.market.source).observe(
            time.perf_counter() - validating
        )
        now = wall_micros()
        draft = Session(
            session_id=new_session_id(),
            mode=config.mode,
            state=SessionState.STARTING,
            symbols=tuple(config.symbols),
            config=config.model_dump(mode="json"),
            created_at=now,
            updated_at=now,
            idempotency_key=config.idempotency_key,
        )
        first = NewEvent("state", {"from": None, "to": SessionState.STARTING.value}, now)
        session = await self.store.create_session(draft, first)
        if session.session_id != draft.session_id:  # the same key won a race with us
            return session, False
        bound = log.bind(session_id=session.session_id)
        bound.info("session.start.recorded", mode=session.mode.value, symbols=session.symbols)
        self._announce(session, SessionEvent(session.session_id, 1, now, first.kind, first.data))
        async with self._lock(session.session_id):
            runner = self._launch(session, settled=False)
            try:
                if not await runner.wait_ready(self.start_timeout):
                    await self._fail_start(session, runner)
                session = await self._transition(session, SessionState.RUNNING)
            finally:
                runner.settled.set()
        bound.info("session.start.running")
        return session, True

    async def _validate(self, config: SessionConfig) -> SessionConfig:
        if config.mode is Mode.LIVE and not self.live_enabled:
            raise LiveTradingDisabled(
                "live trading is off: start the server with --enable-live and exchange keys",
                details=[{"field": "mode", "message": "live trading is not enabled"}],
            )
        await resolve_strategies(self.store, config.strategies, config.market.market_type)
        if config.market.source == "replay":
            await self._validate_replay(config)
        elif self._symbol_validator is not None:
            await self._symbol_validator(config)
        return config

    async def _validate_replay(self, config: SessionConfig) -> None:
        name = config.market.dataset or ""
        # an imported dataset's record names its symbols: one row read. Only a session's own
        # recording (a collect session's id) needs the summary, which scans what it recorded
        dataset = await self.store.get_dataset(name)
        if dataset is not None:
            recorded = set(dataset.symbols)
        else:
            summary = await self.store.market_summary(name)
            if not summary:
                raise UnknownDataset(
                    f"unknown dataset {name!r}",
                    details=[{"field": "market.dataset", "message": f"no dataset named {name!r}"}],
                )
            recorded = {symbol for info in summary.values() for symbol in info["symbols"]}
        missing = [s for s in config.symbols if s not in recorded]
        if missing:
            raise UnknownSymbol(
                f"dataset {name!r} has no data for {', '.join(missing)}"
                f" (it has {', '.join(sorted(recorded))})",
                details=[{"field": "symbols", "message": f"not in {name!r}: {', '.join(missing)}"}],
            )

    async def _fail_start(self, session: Session, runner: SessionRunner) -> None:
        runner.cancel()
        await runner.wait(self.stop_timeout)
        outcome = runner.outcome or Outcome("failed", "start_timeout", "the session did not start")
        code = outcome.error_code or "start_timeout"
        message = outcome.error_message or f"the session did not start in {self.start_timeout}s"
        await self._transition(session, SessionState.FAILED, error_code=code, error_message=message)
        raise SessionStartFailed(
            f"session {session.session_id} failed to start: {message}",
            session_id=session.session_id,
            details={"error_code": code},
        )

    # stop ----------------------------------------------------------------------------------
    async def stop(self, session_id: str, reason: str = "user") -> StopResult:
        """Stop a session. Stops of a session already being stopped here do not queue up for
        its lock and re-read the store one by one: they wait for that stop's answer and report
        it as ``already_stopped`` (with its final state), so a burst of stop requests costs
        one stop."""
        began = time.perf_counter()
        result = await self._stop_once(session_id, reason)
        self.metrics.stop_seconds.labels(result.stopped_via).observe(time.perf_counter() - began)
        return result

    async def _stop_once(self, session_id: str, reason: str) -> StopResult:
        """The stop runs as its own task: a caller that goes away (a client that hung up) does
        not interrupt it, and later callers wait for the same task."""
        in_flight = self._stops.get(session_id)
        if in_flight is not None:
            result = await asyncio.shield(in_flight)
            return StopResult(result.session, "already_stopped")
        task = asyncio.create_task(self._stop(session_id, reason), name=f"stop-{session_id}")
        self._stops[session_id] = task
        self._background.add(task)

        def done(finished: asyncio.Task[StopResult]) -> None:
            self._background.discard(finished)
            if self._stops.get(session_id) is finished:
                del self._stops[session_id]
            if not finished.cancelled():
                finished.exception()  # retrieved here: the caller may have gone away

        task.add_done_callback(done)
        return await asyncio.shield(task)

    async def _stop(self, session_id: str, reason: str) -> StopResult:
        bound = log.bind(session_id=session_id)
        async with self._lock(session_id):
            session = await self.get(session_id)
            if session.state.terminal:
                bound.info("session.stop.already_stopped", state=session.state.value)
                return StopResult(session, "already_stopped")
            if session.state is not SessionState.STOPPING:
                session = await self._transition(session, SessionState.STOPPING, stop_reason=reason)
            runner = self._runners.get(session_id)
            if runner is not None:
                runner.cancel()
                if not await runner.wait(self.stop_timeout):
                    bound.error("session.stop.timeout", timeout=self.stop_timeout)
                    raise StopTimeout(
                        f"session {session_id} did not stop within {self.stop_timeout}s; "
                        "it stays 'stopping' and can be stopped again",
                        session_id=session_id,
                    )
                self._forget_runner(runner)
            session = await self._record_end(session, runner.outcome if runner else None)
            bound.info("session.stop.controller", final_state=session.state.value)
            return StopResult(session, "controller")

    async def stop_all(self, reason: str) -> list[StopResult]:
        """The emergency stop: every session that is not ended, at once."""
        page = await self.store.unfinished_sessions()
        return list(await asyncio.gather(*(self.stop(s.session_id, reason) for s in page)))

    def request_stop(self, session_id: str, reason: str) -> None:
        """A session asks to be stopped (duration elapsed, a risk rule fired)."""
        self._spawn(self._stop_quietly(session_id, reason))

    async def _stop_quietly(self, session_id: str, reason: str) -> None:
        try:
            await self.stop(session_id, reason)
        except PapertapeError as exc:
            log.error("session.stop.requested_failed", session_id=session_id, error=exc.message)

    async def _record_end(self, session: Session, outcome: Outcome | None) -> Session:
        """stopping → stopped, or → failed when the runner failed while winding down."""
        if outcome is not None and outcome.kind == "failed":
            return await self._transition(
                session,
                SessionState.FAILED,
                error_code=outcome.error_code,
                error_message=outcome.error_message,
            )
        return await self._transition(session, SessionState.STOPPED)

    # runners -------------------------------------------------------------------------------
    def _launch(
        self, session: Session, *, finish_only: bool = False, settled: bool = True
    ) -> SessionRunner:
        """``settled=False``: the runner's own events wait until ``runner.settled`` is set (a
        start records the session running first)."""
        config = SessionConfig.model_validate(session.config)  # the one parse of the stored dict
        on_done = lambda finished: self._spawn(self._runner_finished(finished))  # noqa: E731
        runner: SessionRunner
        if self._worker_store_url and not finish_only and runs_in_worker(session, config):
            runner = ProcessRunner(
                session,
                config,
                self.store,
                self.bus,
                self._worker_store_url,
                self.request_stop,
                on_done,
                metrics_observer(self.metrics),
            )
        else:
            runner = Runner(
                session=session,
                config=config,
                store=self.store,
                bus=self.bus,
                source_factory=self._source_factory,
                consumers=self._consumer_factory(session, config),
                request_stop=self.request_stop,
                on_done=on_done,
                finish_only=finish_only,
            )
        self._runners[session.session_id] = runner
        if not settled:
            runner.settled.clear()
        runner.launch()
        return runner

    async def _runner_finished(self, runner: SessionRunner) -> None:
        """Record how a runner ended when nobody is stopping it (it ended by itself).

        A store error that may pass (``retryable``: the store was down) is retried, up to
        ``END_ATTEMPTS`` times, so that a runner that failed because the store was down does not
        leave its session "running" once the store is back. Anything else is logged and not
        retried: it would fail the same way again. A session whose end could not be recorded
        is still "running" in the store, and is taken up again at the next start."""
        outcome = runner.outcome
        if outcome is None or outcome.kind == "suspended":
            return
        delay = END_RETRY_FIRST
        for attempt in range(1, END_ATTEMPTS + 1):
            try:
                await self._record_runner_end(runner, outcome)
                return
            except Exception as exc:
                retry = isinstance(exc, StoreError) and exc.retryable and attempt < END_ATTEMPTS
                log.error(
                    "session.end.not_recorded",
                    session_id=runner.session_id,
                    outcome=outcome.kind,
                    error=f"{type(exc).__name__}: {exc}",
                    attempt=attempt,
                    retry_in=delay if retry else None,
                )
                if not retry:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, END_RETRY_MAX)

    async def _record_runner_end(self, runner: SessionRunner, outcome: Outcome) -> None:
        session_id = runner.session_id
        async with self._lock(session_id):
            self._forget_runner(runner)
            session = await self.store.get_session(session_id)
            if session is None or session.state.terminal:
                return
            if session.state is SessionState.STOPPING:
                await self._record_end(session, outcome)
            elif outcome.kind == "failed":
                await self._transition(
                    session,
                    SessionState.FAILED,
                    error_code=outcome.error_code,
                    error_message=outcome.error_message,
                )
            elif session.state is SessionState.RUNNING:
                await self._transition(session, SessionState.COMPLETED)

    # start-up and shutdown -----------------------------------------------------------------
    async def resume(self, session: Session) -> Session:
        """Continue a session the store says is running (after a restart)."""
        async with self._lock(session.session_id):
            resumed_from = session.checkpoint.get("last_ts")
            await self._append(session.session_id, "resumed", {"from_checkpoint": resumed_from})
            session = await self.get(session.session_id)
            runner = self._launch(session)
            if not await runner.wait_ready(self.start_timeout):
                runner.cancel()
                await runner.wait(self.stop_timeout)
                outcome = runner.outcome or Outcome("failed")
                self._runners.pop(session.session_id, None)
                # the session's own record cannot be resumed: say so with its own code
                code = outcome.error_code if outcome.error_code in RECORD_ERRORS else "interrupted"
                return await self._transition(
                    session,
                    SessionState.FAILED,
                    error_code=code,
                    error_message=f"could not resume after a restart: {outcome.error_message}",
                )
            return session

    async def fail_interrupted(self, session: Session, why: str) -> Session:
        async with self._lock(session.session_id):
            current = await self.get(session.session_id)
            if current.state.terminal:
                return current
            return await self._transition(
                current, SessionState.FAILED, error_code="interrupted", error_message=why
            )

    async def finish_interrupted_stop(self, session: Session) -> Session:
        """A stop was in flight when the server went down: its consumers' end is finished (a
        trading session's final commit, once) and the session is stopped now."""
        async with self._lock(session.session_id):
            current = await self.get(session.session_id)
            if current.state is not SessionState.STOPPING:
                return current
            runner = self._launch(current, finish_only=True)
            if not await runner.wait(self.stop_timeout):
                runner.cancel()
                await runner.wait(self.stop_timeout)
            self._runners.pop(session.session_id, None)
            return await self._record_end(current, runner.outcome)

    async def shutdown(self) -> None:
        """Server shutdown: paper, backtest, collect and sweep sessions are suspended (they stay
        ``running`` in the store and resume at the next start); the others are stopped
        (``shutdown``)."""
        resumable = {Mode.PAPER, Mode.BACKTEST, Mode.COLLECT, Mode.SWEEP}
        to_stop = [r.session_id for r in self._runners.values() if r.session.mode not in resumable]
        await asyncio.gather(
            *(self._stop_quietly(session_id, "shutdown") for session_id in to_stop)
        )
        for runner in list(self._runners.values()):
            runner.cancel(suspend=True)
        for runner in list(self._runners.values()):
            await runner.wait(self.stop_timeout)
        self._runners.clear()
        for task in list(self._background):
            task.cancel()

    # the one write path --------------------------------------------------------------------
    async def _transition(self, session: Session, target: SessionState, **why: Any) -> Session:
        after = transition(session, target, at=wall_micros(), **why)
        try:
            stored = await self.store.update_session(
                after, session.state, state_event(session, after)
            )
        except StaleState as exc:
            raise StateConflict(
                f"session {session.session_id} is {exc.current.state.value} in the store, "
                f"not {session.state.value}: is another server using this store?",
                session_id=session.session_id,
            ) from exc
        event = state_event(session, after)
        self._announce(
            stored,
            SessionEvent(stored.session_id, stored.last_seq, event.ts, event.kind, event.data),
        )
        runner = self._runners.get(stored.session_id)
        if runner is not None:
            runner.session = dataclasses.replace(stored, checkpoint=runner.session.checkpoint)
        log.info(
            "session.state",
            session_id=stored.session_id,
            state=stored.state.value,
            previous=session.state.value,
            **{k: v for k, v in why.items() if v is not None},
        )
        return stored

    async def _append(self, session_id: str, kind: str, data: dict[str, Any]) -> None:
        [event] = await self.store.append_events(session_id, [NewEvent(kind, data, wall_micros())])
        self.bus.publish(event_message(event), session_id=session_id)

    def _announce(self, session: Session, event: SessionEvent) -> None:
        runner = self._runners.get(session.session_id)
        if runner is not None:
            runner.note_event(event)
        else:
            self.bus.publish(event_message(event), session_id=session.session_id)
        view = session_summary(session, self.runtime(session.session_id))
        self.bus.publish(session_message(view), session_id=session.session_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

"""Random interleavings of the session lifecycle against a real ``SessionService`` on a real
SQLite store, with the real consumers (price tracker, market recorder, trading engine).

Only the market source is a test double (``ControlledSource``): it yields real ``Trade`` events
and can be told to run forever, end after N events, crash after N events, or ignore
cancellation for a while. Everything else is the product: the service, the runners, the store,
start-up reconciliation.

Hypothesis generates operation lists (start, concurrent duplicate stops, sessions completing or
crashing by themselves, duration-like ``request_stop``, ``stop_all``, idempotent retries of a
start, graceful and abandoned restarts with a start in flight) and after every step the
invariants the design promises are checked against the store.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papertape.domain.config import SessionConfig
from papertape.domain.errors import (
    PapertapeError,
    SessionNotFound,
    StopTimeout,
    StoreError,
    StoreUnavailable,
)
from papertape.domain.market import Trade
from papertape.domain.session import (
    TERMINAL_STATES,
    Mode,
    Session,
    SessionState,
    is_legal,
)
from papertape.market.source import MarketSource
from papertape.sessions.consumers.base import Consumer
from papertape.sessions.consumers.recording import consumers_for
from papertape.sessions.reconcile import reconcile
from papertape.sessions.runner import wall_micros
from papertape.sessions.service import SessionService, StopResult
from papertape.store.base import SessionFilter
from papertape.store.sqlite import SQLiteStore

PERIOD = 0.01  # seconds between the test source's batches
DATASET = "ds"  # a few trades so that backtest configs pass dataset validation


class FailedFeedError(PapertapeError):
    code = "test_feed_failed"


class ControlledSource(MarketSource):
    """Real trades on a schedule the test controls, read from the session's ``label``:
    ``infinite``, ``finite:N`` (ends after N events), ``crash:N`` (raises a plain exception after
    N events), ``feedfail:N`` (raises a ``PapertapeError`` after N events) or ``stubborn:S``
    (runs forever and, once cancelled, ignores cancellation for S seconds)."""

    def __init__(self, session: Session):
        super().__init__(session.symbols, session.checkpoint.get("last_ts"))
        kind, _, arg = (session.config.get("label") or "infinite").partition(":")
        self.kind = kind
        self.arg = float(arg) if arg else 0.0
        self.closed = False

    async def batches(self):
        self.status.set("live", f"test source ({self.kind})")
        produced = 0
        try:
            while True:
                if self.kind in ("finite", "crash", "feedfail") and produced >= self.arg:
                    if self.kind == "crash":
                        raise RuntimeError(f"test source crashed after {produced} events")
                    if self.kind == "feedfail":
                        raise FailedFeedError(f"test feed failed after {produced} events")
                    self.status.set("finished", "test data exhausted")
                    return
                await asyncio.sleep(PERIOD)
                produced += 1
                self.status.events += 1
                yield [
                    Trade(
                        wall_micros(),
                        symbol,
                        100.0 + produced % 7,
                        0.01,
                        "buy" if produced % 2 else "sell",
                        f"t{produced}",
                    )
                    for symbol in self.symbols
                ]
        except asyncio.CancelledError:
            if self.kind == "stubborn":
                await ignore_cancellation_for(self.arg)
            raise

    async def close(self) -> None:
        self.closed = True


async def ignore_cancellation_for(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            await asyncio.sleep(left)
        except asyncio.CancelledError:
            continue


class SlowFinish(Consumer):
    """A consumer whose ``finish`` takes ``seconds`` and cannot be hurried."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    async def on_batch(self, events) -> None:
        pass

    async def finish(self, reason: str) -> None:
        await ignore_cancellation_for(self.seconds)
        await self.ctx.publish("flushed", {"reason": reason})  # like the engine's results


def source_factory(session: Session, config, store, position=None) -> MarketSource:
    return ControlledSource(session)


def new_service(store: SQLiteStore, **options) -> SessionService:
    options.setdefault("stop_timeout", 5.0)
    options.setdefault("start_timeout", 5.0)
    options.setdefault("consumer_factory", consumers_for)
    return SessionService(store, source_factory=source_factory, **options)


async def open_store(path: Path) -> SQLiteStore:
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    return store


async def seed_dataset(store: SQLiteStore) -> None:
    await store.write_trades(
        DATASET,
        [Trade(1_600_000_000_000_000 + i, "BTC_USDT", 100.0, 1.0, "buy", str(i)) for i in range(3)],
    )


def config(behaviour: str, mode: Mode, duration: float | None, key: str | None) -> SessionConfig:
    body: dict = {
        "mode": mode.value,
        "symbols": ["BTC_USDT"],
        "label": behaviour,
        "idempotency_key": key,
    }
    if mode is Mode.BACKTEST:
        body["market"] = {"source": "replay", "dataset": DATASET, "speed": 0}
    if duration is not None:
        body["duration_seconds"] = duration
    return SessionConfig.model_validate(body)


# --- invariants --------------------------------------------------------------------------------
async def consistent_read(store: SQLiteStore, session_id: str):
    """The session and its events as of one moment (retry while a runner writes between)."""
    for _ in range(50):
        before = await store.get_session(session_id)
        events = await store.list_events(session_id, 0, 100_000)
        after = await store.get_session(session_id)
        if before == after or (
            before and after and (before.state, before.last_seq) == (after.state, after.last_seq)
        ):
            return after, events
        await asyncio.sleep(0.01)
    raise AssertionError(f"{session_id} never held still long enough to be read")


async def check_session(service: SessionService, session_id: str) -> Session:
    try:
        await service.get(session_id)  # an id start handed out is always found
    except SessionNotFound:
        raise AssertionError(f"{session_id} was handed out by start but is not found") from None
    session, events = await consistent_read(service.store, session_id)
    assert session is not None
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(events) + 1)), f"{session_id}: gaps or repeats in {seqs}"
    assert session.last_seq <= len(events)
    if session.state.terminal:
        assert session.last_seq == len(events)
    states = [e.data for e in events if e.kind == "state"]
    assert states and states[0] == {"from": None, "to": "starting"}, states[:1]
    for previous, current in zip(states, states[1:], strict=False):
        assert current["from"] == previous["to"], f"{session_id}: broken path {states}"
        assert is_legal(SessionState(current["from"]), SessionState(current["to"])), states
    terminal = [s for s in states if SessionState(s["to"]) in TERMINAL_STATES]
    assert len(terminal) == (1 if session.state.terminal else 0), f"{session_id}: {states}"
    assert states[-1]["to"] == session.state.value
    if session.state.terminal:  # an ended session's tape ends with its end
        assert events[-1].kind == "state" and events[-1].data == terminal[0], events[-3:]
    if session.state is SessionState.FAILED:
        assert session.error_code and session.error_message, session
        assert terminal[0].get("error_code") == session.error_code
    if session.state is SessionState.STOPPED:
        assert session.stop_reason, session
    if session.state is SessionState.COMPLETED:
        assert session.error_code is None and session.stop_reason is None
    assert (session.ended_at is not None) == session.state.terminal
    return session


async def check_nothing_runs_unattended(service: SessionService, settle: float = 3.0) -> None:
    """No session is ``running`` in the store without a live runner in this service, and none
    is ``starting`` or ``stopping`` while no operation is in flight. A runner that just ended
    reports asynchronously, so give its report a moment; a session left behind stays behind."""
    deadline = time.monotonic() + settle
    while True:
        alive = {sid for sid in list(service._runners) if (service.runtime(sid) or {}).get("alive")}
        unattended = [
            s
            for s in await service.store.unfinished_sessions()
            if not (s.state is SessionState.RUNNING and s.session_id in alive)
        ]
        if not unattended:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                "left unattended: "
                + ", ".join(
                    f"{s.session_id} {s.state.value} {s.config.get('label')}" for s in unattended
                )
            )
        await asyncio.sleep(0.01)


async def wait_until_ended(service: SessionService, ids: list[str], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [(await service.get(i)).state for i in ids]
        if all(state.terminal for state in states):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not ended in {timeout}s: {states}")


def check_stop_batch(
    results: Sequence[StopResult], was_stoppable_forever: bool, reason: str
) -> None:
    controllers = [r for r in results if r.stopped_via == "controller"]
    assert len(controllers) <= 1, f"stopped {len(controllers)} times"
    assert all(r.stopped_via in ("controller", "already_stopped") for r in results)
    if was_stoppable_forever:  # it could not end by itself: exactly one stop did the work
        assert len(controllers) == 1, [r.stopped_via for r in results]
    finals = {(r.session.state, r.session.ended_at) for r in results}
    assert len(finals) == 1, f"the stops disagree on how it ended: {finals}"
    [(state, _)] = finals
    assert state.terminal
    if controllers and state is SessionState.STOPPED and reason is not None:
        assert controllers[0].session.stop_reason == reason


# --- the generated scenarios --------------------------------------------------------------------
behaviours = st.one_of(
    st.just("infinite"),
    st.integers(0, 12).map(lambda n: f"finite:{n}"),
    st.integers(0, 8).map(lambda n: f"crash:{n}"),
    st.integers(0, 8).map(lambda n: f"feedfail:{n}"),
)
start_op = st.tuples(
    st.just("start"),
    behaviours,
    st.sampled_from([Mode.PAPER, Mode.COLLECT, Mode.BACKTEST]),
    st.one_of(st.none(), st.none(), st.floats(0.01, 0.3)),
)
operations = st.lists(
    st.one_of(
        start_op,
        st.tuples(st.just("stop"), st.integers(0, 20), st.integers(1, 4)),
        st.tuples(st.just("request_stop"), st.integers(0, 20)),
        st.tuples(st.just("retry_start"), st.integers(0, 20)),
        st.tuples(st.just("wait"), st.sampled_from([0.0, 0.02, 0.1])),
        st.tuples(st.just("stop_all")),
        st.tuples(st.just("stop_racing_stop_all"), st.integers(0, 20)),
        st.tuples(st.just("restart"), st.booleans(), st.sampled_from([None, 0.0, 0.001, 0.02])),
    ),
    min_size=1,
    max_size=10,
)


@dataclass
class World:
    path: Path
    store: SQLiteStore
    service: SessionService
    known: dict[str, str] = field(default_factory=dict)  # id -> behaviour
    configs: list[tuple[str, SessionConfig]] = field(default_factory=list)
    keys: itertools.count = field(default_factory=itertools.count)
    log: list[str] = field(default_factory=list)

    def pick(self, index: int) -> tuple[str, SessionConfig] | None:
        return self.configs[index % len(self.configs)] if self.configs else None


async def abandon(world: World, pending: asyncio.Task | None) -> None:
    """The server dies: nothing it was doing gets to finish its bookkeeping. Runners are cut
    off without recording an end (as a killed process records none), in-flight stops and
    starts are cut wherever they are, and the store is closed once the writes already handed
    to it are done (a killed process's committed transactions are on disk; the rest is not)."""
    service = world.service
    tasks = [pending] if pending is not None else []
    tasks += list(service._background)
    for task in tasks:
        task.cancel()
    for runner in list(service._runners.values()):
        runner.cancel(suspend=True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    if pending is not None and isinstance(results[0], tuple):
        session, _ = results[0]
        world.known[session.session_id] = session.config.get("label")
    for runner in list(service._runners.values()):
        assert await runner.wait(5), "a runner did not end when its server died"
    while service._background:  # reports the dying runners spawned
        leftovers = list(service._background)
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
    await world.store.close()


async def restart(world: World, graceful: bool, start_delay: float | None) -> None:
    pending = None
    if graceful:
        await world.service.shutdown()
        await world.store.close()
    else:
        if start_delay is not None:
            cfg = config("infinite", Mode.PAPER, None, f"pending-{next(world.keys)}")
            pending = asyncio.create_task(world.service.start(cfg))
            await asyncio.sleep(start_delay)
        await abandon(world, pending)

    world.store = await open_store(world.path)
    before = {s.session_id: s for s in await world.store.unfinished_sessions()}
    if graceful:
        assert not any(s.state is SessionState.STARTING for s in before.values())
    world.service = new_service(world.store)
    report = await reconcile(world.service)
    assert sorted(sum(report.values(), [])) == sorted(before)
    for session_id, was in before.items():
        now = await world.service.get(session_id)
        if was.state is SessionState.STOPPING:
            assert now.state is SessionState.STOPPED, now
        elif was.state is SessionState.STARTING:
            assert now.state is SessionState.FAILED and now.error_code == "interrupted", now
        else:  # a running paper, backtest or collect session resumes (suspended when graceful)
            assert session_id in report["resumed"], (now, report)
            events = await world.store.list_events(session_id, was.last_seq, 100)
            assert any(e.kind == "resumed" for e in events)
            if was.config.get("label") == "infinite" and not was.config.get("duration_seconds"):
                assert now.state is SessionState.RUNNING


async def step(world: World, op: tuple) -> None:
    kind = op[0]
    service = world.service
    if kind == "start":
        _, behaviour, mode, duration = op
        cfg = config(behaviour, mode, duration, f"key-{next(world.keys)}")
        session, created = await service.start(cfg)
        assert created
        assert session.state is SessionState.RUNNING
        assert session.started_at is not None
        world.known[session.session_id] = behaviour
        world.configs.append((session.session_id, cfg))
        # no window where the id is unknown
        assert (await service.get(session.session_id)).session_id == session.session_id
    elif kind == "retry_start":
        picked = world.pick(op[1])
        if picked is None:
            return
        session_id, cfg = picked
        session, created = await service.start(cfg)
        assert not created and session.session_id == session_id
    elif kind == "stop":
        picked = world.pick(op[1])
        if picked is None:
            return
        session_id, _ = picked
        current = await service.get(session_id)
        forever = (
            current.state is SessionState.RUNNING
            and world.known[session_id] == "infinite"
            and not current.config.get("duration_seconds")
            and service.runtime(session_id) is not None
        )
        results = await asyncio.gather(*(service.stop(session_id) for _ in range(op[2])))
        check_stop_batch(results, forever, "user")
    elif kind == "request_stop":
        picked = world.pick(op[1])
        if picked is not None:
            service.request_stop(picked[0], "duration")
    elif kind == "wait":
        await asyncio.sleep(op[1])
    elif kind == "stop_all":
        results = await service.stop_all("emergency")
        for result in results:
            assert result.session.state.terminal
    elif kind == "stop_racing_stop_all":  # a user's stops and the emergency stop at once
        picked = world.pick(op[1])
        if picked is None:
            return
        session_id, _ = picked
        first, everything, second = await asyncio.gather(
            service.stop(session_id), service.stop_all("emergency"), service.stop(session_id)
        )
        by_all = [r for r in everything if r.session.session_id == session_id]
        assert len(by_all) <= 1
        check_stop_batch([first, second, *by_all], False, None)
        if by_all and by_all[0].stopped_via == "controller":
            assert by_all[0].session.stop_reason in ("emergency", None)
        for result in (first, second):
            if result.stopped_via == "controller" and result.session.state is SessionState.STOPPED:
                assert result.session.stop_reason == "user"
        ids = [r.session.session_id for r in everything]
        assert len(ids) == len(set(ids))
        for result in everything:
            assert result.session.state.terminal
    elif kind == "restart":
        await restart(world, op[1], op[2])
    for session_id in await all_ids(world):
        await check_session(world.service, session_id)


async def all_ids(world: World) -> list[str]:
    """Every session the store holds: those start returned, and those a start cut off by a
    crash recorded before it could return."""
    page = await world.store.list_sessions(SessionFilter(limit=10_000))
    stored = [s.session_id for s in page.sessions]
    missing = set(world.known) - set(stored)
    assert not missing, f"sessions start returned are gone from the store: {missing}"
    return stored


async def scenario(path: Path, ops: list[tuple]) -> None:
    store = await open_store(path)
    await seed_dataset(store)
    world = World(path, store, new_service(store))
    try:
        for op in ops:
            world.log.append(repr(op))
            await step(world, op)
            if op[0] != "request_stop":  # a requested stop is in flight by design
                await check_nothing_runs_unattended(world.service)
        # drain: everything still running can be stopped, and then nothing is left
        for session_id in await all_ids(world):
            await world.service.stop(session_id)
            await check_session(world.service, session_id)
        await check_nothing_runs_unattended(world.service)
        assert not await world.store.unfinished_sessions()
    finally:
        await world.service.shutdown()
        await world.store.close()


_examples = itertools.count()


@settings(
    max_examples=int(os.environ.get("PAPERTAPE_INTERLEAVING_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_random_interleavings_keep_the_invariants(tmp_path: Path, ops: list[tuple]) -> None:
    asyncio.run(scenario(tmp_path / f"example-{next(_examples)}.db", ops))


# --- targeted cases --------------------------------------------------------------------------------
async def test_concurrent_stops_stop_once(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    service = new_service(store)
    try:
        ids = [
            (await service.start(config("infinite", Mode.PAPER, None, None)))[0].session_id
            for _ in range(5)
        ]
        batches = await asyncio.gather(
            *(asyncio.gather(*(service.stop(i) for _ in range(8))) for i in ids)
        )
        for session_id, results in zip(ids, batches, strict=False):
            check_stop_batch(results, True, "user")
            session = await check_session(service, session_id)
            assert session.state is SessionState.STOPPED and session.stop_reason == "user"
        assert service.running_count == 0
        assert len(service._lock) == 0  # no lock kept per session once nobody waits
    finally:
        await service.shutdown()
        await store.close()


async def test_self_ending_sessions_record_their_own_end(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    service = new_service(store)
    try:
        done = (await service.start(config("finite:3", Mode.PAPER, None, None)))[0].session_id
        crashed = (await service.start(config("crash:2", Mode.COLLECT, None, None)))[0].session_id
        feed = (await service.start(config("feedfail:1", Mode.PAPER, None, None)))[0].session_id
        timed = (await service.start(config("infinite", Mode.PAPER, 0.05, None)))[0].session_id
        await wait_until_ended(service, [done, crashed, feed, timed])
        await check_nothing_runs_unattended(service)
        assert (await check_session(service, done)).state is SessionState.COMPLETED
        failed = await check_session(service, crashed)
        assert (failed.state, failed.error_code) == (SessionState.FAILED, "runner_crashed")
        assert "RuntimeError: test source crashed after 2 events" in failed.error_message
        failed = await check_session(service, feed)
        assert (failed.state, failed.error_code) == (SessionState.FAILED, "test_feed_failed")
        stopped = await check_session(service, timed)
        assert (stopped.state, stopped.stop_reason) == (SessionState.STOPPED, "duration")
        # and stopping any of them now is a success that says so
        for session_id in (done, crashed, feed, timed):
            result = await service.stop(session_id)
            assert result.stopped_via == "already_stopped"
            assert result.session == await service.get(session_id)
        # the collect session recorded the trades it saw under its own id
        summary = await store.market_summary(crashed)
        assert summary["trades"]["rows"] == 2
    finally:
        await service.shutdown()
        await store.close()


@pytest.mark.parametrize("stuck", ["source", "consumer"])
async def test_stop_timeout_leaves_stopping_and_a_later_stop_succeeds(
    tmp_path: Path, stuck: str
) -> None:
    hold = 1.0
    store = await open_store(tmp_path / "s.db")
    if stuck == "source":
        behaviour, consumers = f"stubborn:{hold}", consumers_for
    else:
        behaviour = "infinite"

        def consumers(session: Session, config: SessionConfig) -> list[Consumer]:
            return [*consumers_for(session, config), SlowFinish(hold)]

    service = new_service(store, stop_timeout=0.2, consumer_factory=consumers)
    try:
        session, _ = await service.start(config(behaviour, Mode.PAPER, None, None))
        sid = session.session_id
        began = time.monotonic()
        with pytest.raises(StopTimeout) as raised:
            await service.stop(sid)
        assert raised.value.code == "stop_timeout" and raised.value.session_id == sid
        stuck_session = await service.get(sid)  # still found, still stoppable
        assert stuck_session.state is SessionState.STOPPING
        assert stuck_session.stop_reason == "user"
        # concurrent stops while it is stuck: each times out, none records anything twice
        outcomes = await asyncio.gather(
            *(service.stop(sid) for _ in range(2)), return_exceptions=True
        )
        if time.monotonic() - began < hold - 0.1:
            assert all(isinstance(o, StopTimeout) for o in outcomes), outcomes
        assert (await service.get(sid)).state in (SessionState.STOPPING, SessionState.STOPPED)
        # once the runner lets go, the end is recorded without another stop, and a later
        # stop succeeds, saying so
        await wait_until_ended(service, [sid], timeout=hold + 5)
        result = await service.stop(sid)
        assert result.stopped_via == "already_stopped"
        assert result.session.state is SessionState.STOPPED
        assert result.session.stop_reason == "user"
        session, events = await consistent_read(store, sid)
        path = [e.data["to"] for e in events if e.kind == "state"]
        assert path == ["starting", "running", "stopping", "stopped"], path
        if stuck == "consumer":  # its flush happened before the end was recorded
            kinds = [e.kind for e in events]
            assert "flushed" in kinds and kinds.index("flushed") < len(kinds) - 1, kinds
        await check_session(service, sid)
        await check_nothing_runs_unattended(service)
    finally:
        await service.shutdown()
        await store.close()


async def test_a_stop_timeout_then_a_crash_is_reconciled_to_stopped(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await open_store(path)
    service = new_service(store, stop_timeout=0.1)
    world = World(path, store, service)
    try:
        session, _ = await service.start(config("stubborn:0.5", Mode.PAPER, None, None))
        sid = session.session_id
        world.known[sid] = "stubborn"
        with pytest.raises(StopTimeout):
            await service.stop(sid)
        await abandon(world, None)
        world.store = await open_store(path)
        world.service = new_service(world.store)
        report = await reconcile(world.service)
        assert report["stopped"] == [sid]
        result = await world.service.stop(sid)
        assert (result.stopped_via, result.session.state) == (
            "already_stopped",
            SessionState.STOPPED,
        )
        await check_session(world.service, sid)
    finally:
        await world.service.shutdown()
        await world.store.close()


async def _end_with_refusals(tmp_path, monkeypatch, error: Exception, refusals: int):
    """A backtest that ends by itself while the store refuses to record ends ``refusals``
    times with ``error``: (the store, the session as stored once the service is done)."""
    from papertape.sessions import service as service_module

    class FlakyStore(SQLiteStore):
        refuse_ends = refusals
        attempts = 0

        async def update_session(self, session, expected, event):
            if session.state.terminal:
                self.attempts += 1
                if self.refuse_ends:
                    self.refuse_ends -= 1
                    raise error
            return await super().update_session(session, expected, event)

    store = FlakyStore(f"sqlite:///{tmp_path / 'flaky.db'}")
    await store.open()
    await store.write_trades(
        "tiny", [Trade(1_000_000 + i, "BTC_USDT", 100.0, 1.0, "buy", str(i)) for i in range(10)]
    )
    monkeypatch.setattr(service_module, "END_RETRY_FIRST", 0.01)
    monkeypatch.setattr(service_module, "END_RETRY_MAX", 0.01)
    monkeypatch.setattr(service_module, "END_ATTEMPTS", 5)
    service = SessionService(store)
    session, _ = await service.start(
        SessionConfig.model_validate(
            {
                "mode": "backtest",
                "symbols": ["BTC_USDT"],
                "market": {"source": "replay", "dataset": "tiny"},
            }
        )
    )
    for _ in range(500):  # the runner ends, its end is recorded or given up
        if store.attempts and not service._background:
            break
        await asyncio.sleep(0.01)
    current = await store.get_session(session.session_id)
    await service.shutdown()
    await store.close()
    return store, current


async def test_a_runner_end_is_recorded_once_the_store_takes_it_again(tmp_path, monkeypatch):
    """The runner ended by itself while the store was down: the end is retried, not lost, and
    the session does not stay "running" once the store is back."""
    store, current = await _end_with_refusals(
        tmp_path, monkeypatch, StoreUnavailable("store unreachable"), refusals=3
    )
    assert current.state.value == "completed"
    assert store.attempts == 4  # three refusals, then recorded


@pytest.mark.parametrize(
    "error",
    [SessionNotFound("gone"), StoreError("refused for good"), OSError("not a store error")],
)
async def test_a_runner_end_that_cannot_succeed_is_not_retried(tmp_path, monkeypatch, error):
    store, current = await _end_with_refusals(tmp_path, monkeypatch, error, refusals=3)
    assert store.attempts == 1
    assert current.state.value == "running"  # taken up again at the next start


async def test_retries_of_a_runner_end_are_bounded(tmp_path, monkeypatch):
    store, current = await _end_with_refusals(
        tmp_path, monkeypatch, StoreUnavailable("down for long"), refusals=100
    )
    assert store.attempts == 5  # END_ATTEMPTS, then given up
    assert current.state.value == "running"

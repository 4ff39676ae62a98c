"""Property-based tests of the session state machine (``papertape.domain.session``).

Random sequences of transition attempts are played against ``transition``: legal ones must
succeed and set exactly the fields the design promises, illegal ones must raise
``IllegalTransition`` and change nothing, terminal states absorb everything, and every walk
through the graph from ``starting`` ends in a terminal state.
"""

from __future__ import annotations

import dataclasses
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertape.domain.errors import IllegalTransition
from papertape.domain.session import (
    LEGAL_TRANSITIONS,
    TERMINAL_STATES,
    Mode,
    Session,
    SessionState,
    is_legal,
    state_event,
    transition,
)

ALL_STATES = list(SessionState)
REASONS = st.sampled_from(["user", "duration", "shutdown", "max_drawdown", "daily_loss_limit"])
TEXT = st.text(min_size=1, max_size=20)

# fields ``transition`` may touch; everything else must be carried over unchanged
MUTABLE = {
    "state",
    "updated_at",
    "started_at",
    "ended_at",
    "stop_reason",
    "error_code",
    "error_message",
}


def fresh(mode: Mode = Mode.PAPER) -> Session:
    return Session(
        session_id="exec_20260101_000000_deadbeef",
        mode=mode,
        state=SessionState.STARTING,
        symbols=("BTC_USDT",),
        config={"mode": mode.value, "symbols": ["BTC_USDT"]},
        created_at=1_000,
        updated_at=1_000,
        idempotency_key="key-1",
        last_seq=1,
        checkpoint={"last_ts": 7},
    )


# one attempt: a target state plus the arguments a caller might (or might not) pass
attempts = st.lists(
    st.tuples(
        st.sampled_from(ALL_STATES),
        st.one_of(st.none(), REASONS),  # stop_reason
        st.one_of(st.none(), TEXT),  # error_code
        st.one_of(st.none(), TEXT),  # error_message
    ),
    max_size=12,
)


def test_the_graph_is_listed_in_one_place_and_complete() -> None:
    assert set(LEGAL_TRANSITIONS) == set(SessionState)
    assert {s for s in SessionState if s.terminal} == TERMINAL_STATES
    assert {SessionState.STOPPED, SessionState.COMPLETED, SessionState.FAILED} == TERMINAL_STATES
    for state in TERMINAL_STATES:
        assert LEGAL_TRANSITIONS[state] == frozenset(), f"{state} must be absorbing"
    for state, targets in LEGAL_TRANSITIONS.items():
        assert state not in targets, f"{state} may not transition to itself"
        if not state.terminal:
            assert SessionState.FAILED in targets, f"{state} must be able to fail"


def _maximal_paths(state: SessionState, path: tuple[SessionState, ...]) -> list[tuple]:
    assert state not in path, f"cycle in the state graph: {path + (state,)}"
    path = path + (state,)
    targets = LEGAL_TRANSITIONS[state]
    if not targets:
        return [path]
    return [p for target in sorted(targets) for p in _maximal_paths(target, path)]


def test_every_path_from_starting_ends_in_a_terminal_state() -> None:
    paths = _maximal_paths(SessionState.STARTING, ())
    assert paths
    reached = {state for path in paths for state in path}
    assert reached == set(SessionState), "every state is reachable from starting"
    for path in paths:
        assert path[-1].terminal, f"dead end in a non-terminal state: {path}"
        assert len(path) <= len(SessionState)
        assert not any(s.terminal for s in path[:-1])
    # the documented paths exist
    assert (
        SessionState.STARTING,
        SessionState.RUNNING,
        SessionState.STOPPING,
        SessionState.STOPPED,
    ) in paths
    assert (SessionState.STARTING, SessionState.RUNNING, SessionState.COMPLETED) in paths


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_random_legal_walks_terminate(data: st.DataObject) -> None:
    session = fresh()
    clock = count(2_000)
    for _ in range(len(SessionState)):
        if session.state.terminal:
            break
        target = data.draw(st.sampled_from(sorted(LEGAL_TRANSITIONS[session.state])))
        session = transition(
            session,
            target,
            at=next(clock),
            stop_reason="user",
            error_code="boom",
            error_message="it broke",
        )
    assert session.state.terminal, "a legal walk must reach a terminal state within the graph"


def _expected_outcome(session: Session, target: SessionState, reason, code, message):
    """What ``transition`` must do: "illegal", "invalid" (a ValueError) or "ok"."""
    if not is_legal(session.state, target):
        return "illegal"
    if target in (SessionState.STOPPING, SessionState.STOPPED) and not (
        reason or session.stop_reason
    ):
        return "invalid"
    if target is SessionState.FAILED and not (code and message):
        return "invalid"
    return "ok"


@given(attempts, st.sampled_from(list(Mode)))
@settings(max_examples=400, deadline=None)
def test_random_attempt_sequences(seq, mode: Mode) -> None:
    session = fresh(mode)
    path = [session.state]
    clock = count(2_000, 7)
    terminal_transitions = 0
    first_running_at = None
    for target, reason, code, message in seq:
        at = next(clock)
        before = session
        expected = _expected_outcome(before, target, reason, code, message)
        kwargs = dict(at=at, stop_reason=reason, error_code=code, error_message=message)
        if expected == "illegal":
            with pytest.raises(IllegalTransition) as raised:
                transition(before, target, **kwargs)
            assert raised.value.code == "illegal_transition"
            assert raised.value.session_id == before.session_id
            assert raised.value.details == {"from": before.state.value, "to": target.value}
            assert session == before  # nothing changed
            continue
        if expected == "invalid":
            with pytest.raises(ValueError):
                transition(before, target, **kwargs)
            assert session == before
            continue

        after = transition(before, target, **kwargs)
        path.append(after.state)
        # the untouched fields are carried over exactly
        for f in dataclasses.fields(Session):
            if f.name not in MUTABLE:
                assert getattr(after, f.name) == getattr(before, f.name), f.name
        assert after.state is target
        assert after.updated_at == at
        # started_at: set once, at the first move to running, never again
        if target is SessionState.RUNNING and before.started_at is None:
            assert after.started_at == at
            first_running_at = at
        else:
            assert after.started_at == before.started_at
        assert after.started_at == first_running_at
        # stop_reason on stopping and stopped
        if target in (SessionState.STOPPING, SessionState.STOPPED):
            assert after.stop_reason == (reason or before.stop_reason)
            assert after.stop_reason
        else:
            assert after.stop_reason == before.stop_reason
        # error_code and message on failed, and only there
        if target is SessionState.FAILED:
            assert (after.error_code, after.error_message) == (code, message)
        else:
            assert after.error_code is None and after.error_message is None
        # ended_at exactly on terminal states, at the moment of the terminal transition
        if target.terminal:
            terminal_transitions += 1
            assert after.ended_at == at
        else:
            assert after.ended_at is None
        # the tape entry for it
        event = state_event(before, after)
        assert event.kind == "state" and event.ts == at
        assert event.data["from"] == before.state.value and event.data["to"] == target.value
        if target is SessionState.FAILED:
            assert event.data["error_code"] == code and event.data["error_message"] == message
        if target in (SessionState.STOPPING, SessionState.STOPPED) and (
            after.stop_reason != before.stop_reason
        ):
            assert event.data["stop_reason"] == after.stop_reason
        session = after

    assert terminal_transitions <= 1
    for a, b in zip(path, path[1:], strict=False):
        assert is_legal(a, b)
    if session.state.terminal:
        # absorbing: nothing leaves a terminal state, whatever the arguments
        for target in SessionState:
            with pytest.raises(IllegalTransition):
                transition(
                    session, target, at=10**9, stop_reason="user", error_code="x", error_message="y"
                )
    else:
        assert session.ended_at is None

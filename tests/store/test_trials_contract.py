"""Sweep trials in the store (migrations 5 and 9), on both stores."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from papertape.domain.trials import TrialRecord
from papertape.store import questdb, sqlite, store_for
from papertape.store.questdb import QuestDBSettings

SWEEP = "exec_20231114_221320_0000abcd"


def trial(number: int, **kw) -> TrialRecord:
    base = TrialRecord(
        SWEEP,
        number,
        1_700_000_000_000_000 + number,
        {"fast": number, "slow": 30, "allow_short": False},
        {"final_equity": 10_000.123456789012, "trades": number, "sharpe": None},
        None,
        0.5 * number,
        "vectorised",
    )
    return base._replace(**kw)


async def test_trials_round_trip_by_number(store) -> None:
    refused = trial(1, metrics=None, error="slow must be larger than fast", score=None, engine=None)
    evented = trial(2, engine="event")
    await store.record_trials([evented, refused])
    await store.record_trials([trial(0)])
    assert await store.list_trials(SWEEP) == [trial(0), refused, evented]
    assert await store.list_trials("exec_20231114_221320_00000000") == []


async def test_a_trial_written_again_is_kept_once(store) -> None:
    await store.record_trials([trial(3)])
    await store.record_trials([trial(3)])
    assert await store.list_trials(SWEEP) == [trial(3)]


async def test_trials_survive_reopening(store, store_url) -> None:
    await store.record_trials([trial(4), trial(5)])
    again = store_for(store_url)
    await again.open()
    try:
        assert [t.number for t in await again.list_trials(SWEEP)] == [4, 5]
    finally:
        await again.close()


def write_old_trial(store_url: str, number: int) -> None:
    """A trial row as a store before migration 9 wrote it (no engine column)."""
    values = (SWEEP, number, 1_700_000_000_000_000, '{"fast": 5}', '{"trades": 1}', None, 0.25)
    if store_url.startswith("sqlite"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            conn.execute("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        return
    conninfo = QuestDBSettings.from_url(store_url).conninfo
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("INSERT INTO trials VALUES (%s, %s, %s, %s, %s, %s, %s, now())", values)


async def test_trials_recorded_before_migration_9_read_with_no_engine(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = sqlite if store_url.startswith("sqlite") else questdb
    full = list(module.MIGRATIONS)
    monkeypatch.setattr(module, "MIGRATIONS", [m for m in full if m[0] != 9])
    old = store_for(store_url)
    await old.open()
    await old.close()
    write_old_trial(store_url, 0)
    monkeypatch.setattr(module, "MIGRATIONS", full)
    upgraded = store_for(store_url)
    await upgraded.open()
    try:
        await upgraded.record_trials([trial(1)])
        listed = await upgraded.list_trials(SWEEP)
    finally:
        await upgraded.close()
    assert [(t.number, t.engine) for t in listed] == [(0, None), (1, "vectorised")]
    assert listed[0].metrics == {"trades": 1} and listed[0].score == 0.25

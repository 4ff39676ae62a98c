"""Sweep trials in the store (migration 5), on both stores."""

from __future__ import annotations

from papertape.domain.trials import TrialRecord
from papertape.store import store_for

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
    )
    return base._replace(**kw)


async def test_trials_round_trip_by_number(store) -> None:
    refused = trial(1, metrics=None, error="slow must be larger than fast", score=None)
    await store.record_trials([trial(2), refused])
    await store.record_trials([trial(0)])
    assert await store.list_trials(SWEEP) == [trial(0), refused, trial(2)]
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

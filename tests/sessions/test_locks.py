"""Per-session locks: one holder per session at a time, and none kept once nobody needs it."""

from __future__ import annotations

import asyncio

from papertape.sessions.locks import KeyedLocks


async def test_one_holder_per_key_and_no_lock_kept_afterwards():
    locks = KeyedLocks()
    inside: dict[str, int] = {}
    most: dict[str, int] = {}

    async def work(key: str) -> None:
        async with locks(key):
            inside[key] = inside.get(key, 0) + 1
            most[key] = max(most.get(key, 0), inside[key])
            await asyncio.sleep(0.001)
            inside[key] -= 1

    await asyncio.gather(*(work(f"s{i % 3}") for i in range(30)))
    assert most == {"s0": 1, "s1": 1, "s2": 1}
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_nothing_behind():
    locks = KeyedLocks()
    held = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks("s"):
            held.set()
            await release.wait()

    async def waiter() -> None:
        async with locks("s"):
            raise AssertionError("never gets the lock")

    first = asyncio.create_task(holder())
    await held.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    assert len(locks) == 1
    second.cancel()
    release.set()
    await first
    await asyncio.gather(second, return_exceptions=True)
    assert len(locks) == 0

"""One asyncio lock per key (a session id), kept only while it is held or awaited: a server that
runs sessions for months does not keep a lock for every session it ever saw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}  # holders and waiters, per key

    @asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        """``async with locks(key):`` — one holder per key at a time."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        """How many keys have a lock now."""
        return len(self._locks)

"""QuestDB killed (kill -9) between two control writes: the next write finds a pooled connection
that looks fine and breaks mid-statement. Every kind of control write must wait for the server
and land exactly once — a restart of QuestDB slows a session down, it never fails it (a paper
session once ended ``failed`` with "server closed the connection unexpectedly")."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from papertape.devtools.questdb_server import QuestDBServer
from papertape.domain.session import NewEvent, SessionState
from papertape.store.questdb import QuestDBStore
from tests.store.test_store_contract import created, move, new_session

pytestmark = pytest.mark.questdb


def restart_later(
    restarter: ThreadPoolExecutor, server: QuestDBServer, after: float
) -> Future[None]:
    """Start the server again ``after`` seconds from now, from a thread that outlives it (the
    server dies with the thread that started it)."""

    def restart() -> None:
        time.sleep(after)
        server.start()

    return restarter.submit(restart)


def kill(server: QuestDBServer) -> None:
    assert server.process is not None
    server.process.kill()
    server.process.wait()


async def writes_across_restarts(server: QuestDBServer, restarter: ThreadPoolExecutor) -> None:
    store = QuestDBStore(server.url)
    await store.open()
    session = new_session(7)
    stored = await store.create_session(session, created(session))

    kill(server)  # the connection that wrote is back in the pool, idle for a moment only
    restarting = restart_later(restarter, server, 0.5)
    running = await move(store, stored, SessionState.RUNNING)
    restarting.result()
    assert running.state is SessionState.RUNNING and running.last_seq == 2

    for n in range(3):  # each kind of control write, each after a kill
        kill(server)
        restarting = restart_later(restarter, server, 0.5)
        if n == 0:
            await store.append_events(
                session.session_id,
                [NewEvent("note", {"n": i}, stored.created_at + 20 + i) for i in range(3)],
            )
        elif n == 1:
            await store.save_checkpoint(session.session_id, {"last_ts": 42})
        else:
            await store.append_events(
                session.session_id, [NewEvent("note", {"n": 3}, stored.created_at + 30)]
            )
        restarting.result()

    events = await store.list_events(session.session_id)
    assert [e.seq for e in events] == list(range(1, 7))  # nothing doubled, nothing lost
    assert [e.kind for e in events] == ["state", "state", "note", "note", "note", "note"]
    current = await store.get_session(session.session_id)
    assert current is not None
    assert current.state is SessionState.RUNNING and current.last_seq == 6
    assert current.checkpoint == {"last_ts": 42}
    await store.close()


def test_control_writes_wait_for_a_killed_questdb_and_land_once(tmp_path: Path) -> None:
    server = QuestDBServer(tmp_path / "questdb")
    server.start()
    restarter = ThreadPoolExecutor(max_workers=1)
    try:
        asyncio.run(writes_across_restarts(server, restarter))
    finally:
        server.stop()
        restarter.shutdown()

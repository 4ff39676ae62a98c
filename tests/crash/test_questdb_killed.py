"""QuestDB killed (kill -9) under running sessions, twice, and started again: papertape retries,
and every session's record is exactly the uncrashed one — nothing lost, nothing doubled."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from papertape.devtools.questdb_server import QuestDBServer
from tests.api.test_lifecycle_http import import_dataset
from tests.crash.harness import SESSIONS, CrashReport, finish_and_compare, prepare_datasets
from tests.crash.harness import start_sessions as start_all
from tests.support.server import ServerProcess

pytestmark = pytest.mark.questdb

KILLED_UNDER = {name: SESSIONS[name] for name in ("sma", "ema_stop_loss", "manual", "backtest")}


def test_questdb_killed_mid_session_loses_and_doubles_nothing(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    seed = int(os.environ.get("PAPERTAPE_CRASH_SEED") or random.randrange(1_000_000))
    print(f"questdb kill seed: {seed}")
    rng = random.Random(seed)
    questdb = QuestDBServer(tmp_path / "questdb")
    questdb.start()
    try:
        events = prepare_datasets(questdb.url, tmp_path, import_dataset)
        server = start_server(questdb.url)
        with server.client() as http:
            ids = start_all(http, KILLED_UNDER)
        report = CrashReport(seed)
        for _ in range(2):
            time.sleep(rng.uniform(0.5, 2.5))
            questdb.process.kill()  # kill -9: no flush, no goodbye
            questdb.process.wait()
            report.kills += 1
            time.sleep(rng.uniform(0.2, 1.5))
            questdb.start()
        finish_and_compare(report, server, questdb.url, ids, events)
    finally:
        questdb.stop()
    print(report)
    log = server.log_path.read_text()
    print("store retries logged:", log.count("retry"))
    assert report.sessions == len(KILLED_UNDER) and report.fills > 50
    assert not report.differences, f"{report}\n" + "\n".join(report.differences)

"""kill -9 changes nothing: sessions killed and restarted three times end with exactly the record
of the same sessions run once without a crash (``tests.crash.harness``), on both stores.

The seed of the kill moments is printed; ``PAPERTAPE_CRASH_SEED=<seed>`` replays a run."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

from tests.api.test_lifecycle_http import import_dataset
from tests.crash.harness import run_harness
from tests.support.server import ServerProcess


def test_kill9_at_random_moments_changes_no_record(
    any_store_url: str, tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    seed = int(os.environ.get("PAPERTAPE_CRASH_SEED") or random.randrange(1_000_000))
    print(f"crash harness seed: {seed}")
    report = run_harness(any_store_url, tmp_path, start_server, import_dataset, seed=seed)
    print(report)
    assert report.kills == 3 and report.sessions == 7
    assert report.fills > 100 and report.equity_points > 10_000  # the comparison means something
    assert not report.differences, f"{report}\n" + "\n".join(report.differences)

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.candles import write_candles


@pytest.fixture(scope="session")
def candles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 4,000 shared one-minute candles as a file (a sweep in seconds, many trades)."""
    return write_candles(tmp_path_factory.mktemp("candles"))

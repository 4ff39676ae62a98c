from __future__ import annotations

import json
from pathlib import Path

import pytest

from papertape.market.importers import read_market_file
from tests.conftest import shared_file

CANDLES = "btc-perp_1m_2022-01.csv.gz"  # 45,031 one-minute candles


@pytest.fixture(scope="session")
def candles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 4,000 shared one-minute candles as a file (a sweep in seconds, many trades)."""
    rows = read_market_file(shared_file(CANDLES), symbol="BTC_USDT").rows[:4_000]
    path = tmp_path_factory.mktemp("candles") / "btc_1m.json"
    path.write_text(
        json.dumps([[r.ts // 1_000, r.open, r.high, r.low, r.close, r.volume] for r in rows])
    )
    return path

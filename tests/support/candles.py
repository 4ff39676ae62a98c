"""A slice of the shared one-minute candles as a file: sweeps over it take seconds."""

from __future__ import annotations

import json
from pathlib import Path

from papertape.market.importers import read_market_file
from tests.support.data import MARKET_DATA

CANDLES = "btc-perp_1m_2022-01.csv.gz"  # 45,031 one-minute candles


def write_candles(directory: Path, count: int = 4_000) -> Path:
    """The first ``count`` shared candles as a freqtrade-style JSON file in ``directory``."""
    source = MARKET_DATA / CANDLES
    if not source.exists():
        raise FileNotFoundError(f"shared market data missing: {source}")
    rows = read_market_file(source, symbol="BTC_USDT").rows[:count]
    path = directory / "btc_1m.json"
    path.write_text(
        json.dumps([[r.ts // 1_000, r.open, r.high, r.low, r.close, r.volume] for r in rows])
    )
    return path

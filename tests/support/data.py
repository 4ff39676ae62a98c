"""Where the shared real market data lives: ``../shared/data/market`` beside the repository
(see its SOURCES.md), for tests and benchmarks. ``PAPERTAPE_MARKET_DATA`` points elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

MARKET_DATA = Path(
    os.environ.get("PAPERTAPE_MARKET_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "market"
)

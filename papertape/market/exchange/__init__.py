"""Live exchanges through ccxt: symbol mapping (``symbols``), the market-list cache and the
exchange factory seam (``connector``), the live feed (``feed``), historical downloads
(``download``), live orders (``live``: the broker; ``live_venue``: the venue a live session's engine uses),
API keys (``credentials``) and trade-derived bars (``candles``).

ccxt takes several CPU-seconds to import (it loads every exchange it knows), so the modules that
use it are imported only when an exchange is needed; code on the server's event loop imports them
with ``exchange_module``, which does it in a thread.
"""

from __future__ import annotations

import asyncio
import importlib
from types import ModuleType


async def exchange_module(name: str) -> ModuleType:
    """``papertape.market.exchange.<name>``, imported off the event loop (the first import of a
    module that uses ccxt takes seconds; later ones return the loaded module)."""
    return await asyncio.to_thread(importlib.import_module, f"{__name__}.{name}")

"""Binance ``markPriceUpdate`` and ``trade`` messages built from the shared XRP/USDT perpetual
files, for the loopback Binance (``BinanceReplay``) in tests and benchmarks: the values are real,
the framing is ours (the shared websocket captures hold no mark-price messages).

- each ``markPriceUpdate`` (Binance's documented USD-M format) carries, as ``E`` and ``p``, the
  open time and open of one 1-hour mark-price candle of ``xrp-usdt-perp_mark_1h_2021-11.csv``
  (the mark at that moment), and as ``T`` and ``r`` the first funding time after ``E`` in
  ``binance-futures_xrpusdt_funding-rate_8h_2021-11.csv`` and its rate. The index price and the
  estimated settle price (``i``, ``P``) are left out: no file has them;
- ``trade`` messages are the same venue's 1-hour traded candles (``xrp-usdt-perp_1h_2021-11.csv``):
  one print per hour at the candle's close, stamped at its close time, for its volume;
- the REST depth snapshot is empty: there is no XRPUSDT book in the shared data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from papertape.domain.config import SessionConfig
from papertape.sessions.service import SessionService
from tests.support.data import MARKET_DATA

MARKS = MARKET_DATA / "xrp-usdt-perp_mark_1h_2021-11.csv"
RATES = MARKET_DATA / "binance-futures_xrpusdt_funding-rate_8h_2021-11.csv"
PRINTS = MARKET_DATA / "xrp-usdt-perp_1h_2021-11.csv"
HOUR_MS = 3_600_000
FIRST_MARK = 1637175600000  # 2021-11-17 19:00, the hour before the funding series begins
LAST_MARK = 1637312400000  # 2021-11-19 09:00, the last mark candle


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def mark_messages(first: int = FIRST_MARK, last: int = LAST_MARK) -> list[dict]:
    """One ``markPriceUpdate`` per mark candle opened in ``[first, last]`` (ms)."""
    rates = [(int(r["timestamp"]), r["funding_rate"]) for r in _rows(RATES)]
    messages = []
    for row in _rows(MARKS):
        at = int(row["timestamp"])
        if not first <= at <= last:
            continue
        funding_time, rate = next((t, r) for t, r in rates if t > at)
        messages.append(
            {
                "e": "markPriceUpdate",
                "E": at,
                "s": "XRPUSDT",
                "p": row["open"],
                "r": rate,
                "T": funding_time,
            }
        )
    return messages


def trade_messages(hours: Sequence[int]) -> list[dict]:
    """One ``trade`` per traded candle opened at one of ``hours`` (ms)."""
    messages = []
    for row in _rows(PRINTS):
        opened = int(row["timestamp"])
        if opened in hours:
            at = opened + HOUR_MS - 1
            messages.append(
                {
                    "e": "trade",
                    "E": at,
                    "T": at,
                    "s": "XRPUSDT",
                    "t": opened // HOUR_MS,
                    "p": row["close"],
                    "q": row["volume"],
                    "X": "MARKET",
                    "m": False,
                }
            )
    return messages


def capture_lines(marks: Sequence[dict], trades: Sequence[dict] = ()) -> list[str]:
    """The messages as ``<ns> <json>`` capture lines (the form ``BinanceReplay`` serves), after
    an empty depth snapshot."""
    lines = ['0 {"lastUpdateId": 1, "bids": [], "asks": []}']
    lines += [f"0 {json.dumps({'stream': 'xrpusdt@markPrice@1s', 'data': m})}" for m in marks]
    lines += [f"0 {json.dumps({'stream': 'xrpusdt@trade', 'data': t})}" for t in trades]
    return lines


async def start_long_and_collect(
    service: SessionService, symbol: str, exchange_url: str, qty: float, **market: Any
) -> tuple[str, str]:
    """A paper session that buys ``qty`` on the first bar and holds it, and a collect session,
    both on ``symbol``'s perpetual of the loopback Binance at ``exchange_url`` (``market``: more
    market settings): their ids."""
    market = {
        "source": "exchange",
        "exchange": "binance",
        "market_type": "swap",
        "exchange_url": exchange_url,
        **market,
    }
    rules = {
        "entry": {"left": "close", "op": ">", "right": 0},
        "exit": {"left": "close", "op": "<", "right": 0},
        "sizing": {"mode": "qty", "value": qty},
    }
    paper, _ = await service.start(
        SessionConfig.model_validate(
            {
                "mode": "paper",
                "symbols": [symbol],
                "strategies": [{"name": "rules", "params": rules}],
                "market": market,
            }
        )
    )
    collect, _ = await service.start(
        SessionConfig.model_validate({"mode": "collect", "symbols": [symbol], "market": market})
    )
    return paper.session_id, collect.session_id


def processed_through(service: SessionService, paper: str, collect: str, mark_ms: int) -> bool:
    """Both sessions had the data up to the mark at ``mark_ms``, and the paper engine has
    processed it (its position is valued at that mark)."""
    last = {
        sid: ((service.runtime(sid) or {}).get("feed") or {}).get("last_event_ts")
        for sid in (paper, collect)
    }
    if any(ts != mark_ms * 1_000 for ts in last.values()):
        return False
    [mark] = [float(m["p"]) for m in mark_messages(mark_ms, mark_ms)]
    positions = (service.runtime(paper) or {}).get("positions") or []
    return any(p["mark"] == mark for p in positions)

"""The shared real market data (``../shared/data/market``, see its SOURCES.md) read into the
shapes ccxt's unified API returns, for the exchange double.

Which file feeds which market of the double (each file is what it is; no values are invented):

| double market | trades | order book |
|---|---|---|
| ``BTC/USDT`` spot | Binance spot BTCUSDT trades, 2021-01-08 | Binance spot best bid/ask quotes of the same 40 s (1 level a side) |
| ``BTC/USDT:USDT`` swap | none | Binance USD-M snapshot (the file holds 100 bid levels, no asks), then its recorded diff message (77 ask, 23 bid changes) applied |
| ``ETH/USDT:USDT`` swap | Binance USD-M ETHUSDT trades, 2023-02-02 | none |
| ``XRP/ETH`` spot | Binance spot XRPETH trades, 2019-10 | none |

Candles (``fetch_ohlcv``) for ``BTC/USDT:USDT``: the 1-minute BTC perpetual bars of January 2022.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from tests.support.data import MARKET_DATA

DATA = MARKET_DATA


@dataclass(frozen=True, slots=True)
class TapeTrade:
    ts_ms: int
    trade_id: int
    price: float
    amount: float
    side: str


@dataclass(frozen=True, slots=True)
class TapeBook:
    """The full book after one message: bids best first, asks best first."""

    ts_ms: int
    nonce: int
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]


def _require(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        raise FileNotFoundError(f"shared market data missing: {path} (see {DATA}/SOURCES.md)")
    return path


@cache
def btc_spot_trades() -> tuple[TapeTrade, ...]:
    import pyarrow.parquet as pq

    rows = pq.read_table(_require("binance_btcusdt_trades_2021-01-08.parquet")).to_pylist()
    return tuple(
        TapeTrade(
            int(r["timestamp"].timestamp() * 1000),
            int(r["trade_id"]),
            float(r["price"]),
            float(r["quantity"]),
            # buyer_maker True: the seller was the aggressor.
            "sell" if str(r["buyer_maker"]) == "True" else "buy",
        )
        for r in rows
    )


@cache
def btc_spot_books() -> tuple[TapeBook, ...]:
    import pyarrow.parquet as pq

    rows = pq.read_table(_require("binance_btcusdt_quotes_2021-01-08.parquet")).to_pylist()
    return tuple(
        TapeBook(
            int(r["timestamp"].timestamp() * 1000),
            i + 1,
            ((float(r["bid"]), float(r["bid_size"])),),
            ((float(r["ask"]), float(r["ask_size"])),),
        )
        for i, r in enumerate(rows)
    )


@cache
def btc_swap_books() -> tuple[TapeBook, ...]:
    """The 100-level snapshot, then the book after applying the recorded diff (qty 0 removes)."""
    books: list[TapeBook] = []
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for name in (
        "binance-futures_btcusdt_depth-snap.csv",
        "binance-futures_btcusdt_depth-update.csv",
    ):
        with _require(name).open() as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            side = bids if row["side"] == "b" else asks
            price, qty = float(row["price"]), float(row["qty"])
            if qty == 0:
                side.pop(price, None)
            else:
                side[price] = qty
        books.append(
            TapeBook(
                int(rows[0]["timestamp"]),
                int(rows[0]["last_update_id"]),
                tuple(sorted(bids.items(), reverse=True)),
                tuple(sorted(asks.items())),
            )
        )
    return tuple(books)


@cache
def eth_swap_trades() -> tuple[TapeTrade, ...]:
    with _require("binance-futures_ethusdt_trades_2023-02-02.csv").open() as handle:
        return tuple(
            TapeTrade(
                int(r["timestamp"]), int(r["id"]), float(r["price"]), float(r["amount"]), r["side"]
            )
            for r in csv.DictReader(handle)
        )


@cache
def xrp_eth_trades() -> tuple[TapeTrade, ...]:
    with gzip.open(_require("binance_xrpeth_trades.json.gz")) as handle:
        rows = json.load(handle)
    return tuple(TapeTrade(int(r[0]), int(r[1]), float(r[4]), float(r[5]), r[3]) for r in rows)


@cache
def btc_perp_candles_1m() -> tuple[tuple[int, float, float, float, float, float], ...]:
    with gzip.open(_require("btc-perp_1m_2022-01.csv.gz"), "rt") as handle:
        return tuple(
            (
                int(
                    datetime.strptime(r["timestamp"], "%Y-%m-%d %H:%M:%S.%f")
                    .replace(tzinfo=UTC)
                    .timestamp()
                    * 1000
                ),
                float(r["open"]),
                float(r["high"]),
                float(r["low"]),
                float(r["close"]),
                float(r["volume"]),
            )
            for r in csv.DictReader(handle)
        )

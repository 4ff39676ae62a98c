"""Market-data importers: trades, candles and order books from CSV, JSON or Parquet files,
optionally gzip-compressed.

The format (gzip, Parquet, JSON, CSV) is detected from the file's bytes, the kind (trades,
candles, book) from its columns or row shape; ``kind=`` overrides the guess. A file that cannot be
read raises ``InvalidDataFile`` (HTTP 422) saying what was wrong.

Columns a user's own file can have (names are case-insensitive; JSON is an array of objects with
these keys, or JSON lines):

- trades: ``timestamp, price, qty[, side][, trade_id][, symbol]`` (``qty`` may be named
  ``amount``/``quantity``/``size``; ``side`` is the aggressor, ``buy``/``sell``; instead of
  ``side`` a Binance ``buyer_maker``/``is_buyer_maker`` flag is understood; without either the
  side is recorded as ``unknown``)
- candles: ``timestamp, open, high, low, close, volume[, symbol]`` (``timestamp`` = bar open)
- book: best bid/ask quotes ``timestamp, bid, bid_size, ask, ask_size`` (one level), Tardis
  ``asks[i].price, asks[i].amount, bids[i].price, bids[i].amount`` snapshots, or Binance depth rows
  ``timestamp, side (b/a), update_type (snap/set), price, qty`` (diffs applied in order).
- funding: a perpetual's funding rates ``timestamp, funding_rate[, mark_price][, symbol]``
  (``timestamp`` = the funding time; the rate a fraction per interval, may be negative; ccxt's
  ``fetchFundingRateHistory`` objects ``{"timestamp", "fundingRate", "symbol", ...}`` too).
- mark: a perpetual's mark prices ``timestamp, mark_price[, symbol]``, or mark-price candles
  (``kind="mark"`` with ``timestamp, open, high, low, close``): each candle becomes four marks on
  the conventional intrabar path, open at its start, then low and high (high first on a falling
  bar) at a third and two thirds of it, close at its last microsecond.

A raw Binance websocket capture (``<receive ns> <JSON>`` lines: trades, depth updates, book
tickers and a depth snapshot) is recognised by its first line and read as kind ``capture``: trades
and the order book rebuilt from the snapshot and the updates (``papertape.market.binance_capture``).

Timestamps are UTC: integers or decimals in seconds, milliseconds, microseconds or nanoseconds
(told apart by magnitude), or ISO-8601 text (a text without an offset is read as UTC). Also read:
freqtrade candle JSON ``[[ms, open, high, low, close, volume], ...]`` and freqtrade trade JSON
``[[ms, id, type, side, price, amount, cost], ...]``, and with ``kind="funding"`` freqtrade
funding JSON ``[[ms, rate, 0, 0, 0, 0], ...]`` (the rate in the ``open`` field) or ``[[ms, rate]]``.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from papertape.domain.errors import DatasetExists, InvalidDataFile
from papertape.domain.funding import FundingRate
from papertape.domain.market import (
    MICROS,
    UNKNOWN_SIDE,
    BookSnapshot,
    Candle,
    MarkPrice,
    Trade,
    to_micros,
)
from papertape.domain.records import Dataset
from papertape.domain.symbols import canonical
from papertape.market.binance_capture import is_capture, rebuild
from papertape.store.base import MarketDataStore

KINDS = ("trades", "candles", "book", "funding", "mark", "capture")
BOOK_DEPTH = 25  # levels kept per side when a file carries more (depth diffs)
CHUNK_ROWS = 20_000

_TIME_COLUMNS = ("timestamp", "ts", "time", "date", "datetime", "open_time", "fundingtime")
_RATE_COLUMNS = ("funding_rate", "fundingrate", "rate")
_MARK_COLUMNS = ("mark_price", "markprice", "mark")
_QTY_COLUMNS = ("qty", "quantity", "amount", "size", "volume")
_QUOTES = (
    "USDT",
    "USDC",
    "BUSD",
    "FDUSD",
    "TUSD",
    "DAI",
    "USD",
    "EUR",
    "GBP",
    "TRY",
    "BTC",
    "ETH",
    "BNB",
)


@dataclass(frozen=True, slots=True)
class MarketFile:
    """What a file held: its kind, its rows in timestamp order, and their symbols."""

    kind: str
    rows: list[Any]
    symbols: tuple[str, ...]
    interval: int | None = None  # candle interval, seconds
    report: Any = None  # what reading found, for kinds that say (a capture's CaptureReport)

    @property
    def start_ts(self) -> int | None:
        return self.rows[0].ts if self.rows else None

    @property
    def end_ts(self) -> int | None:
        return self.rows[-1].ts if self.rows else None


Columns = dict[str, list[Any]]  # a file's columns by name, as read


def _bad(path: Path | str, message: str, field: str = "file") -> InvalidDataFile:
    """The error names the file by its base name (an upload keeps its own name: see
    ``papertape.api.routes_datasets``) and the input to fix: the file, or ``symbol``/``kind``."""
    text = f"{Path(path).name}: {message}"
    return InvalidDataFile(text, details=[{"field": field, "message": text}])


# --- symbols and timestamps ---------------------------------------------------------------


def symbol_from_text(text: str) -> str:
    """A file's spelling (``BTC/USDT``, ``BTC-PERP``... or ``BTCUSDT``) → canonical. A spelling
    without separator is split at a known quote currency; ``ValueError`` when none fits."""
    try:
        return canonical(text)
    except ValueError:
        compact = text.strip().upper()
        for quote in _QUOTES:
            if compact.endswith(quote) and len(compact) > len(quote):
                return canonical(f"{compact[: -len(quote)]}_{quote}")
        raise


def _number_unit(value: float) -> int:
    """Multiplier to µs for a numeric epoch timestamp, from its magnitude."""
    magnitude = abs(value)
    if magnitude < 1e11:
        return MICROS  # seconds (until year 5138)
    if magnitude < 1e14:
        return 1_000  # milliseconds
    if magnitude < 1e17:
        return 1  # microseconds
    return -1_000  # nanoseconds: divide


def _to_us(value: Any, unit: int) -> int:
    number = float(value)
    if unit == -1_000:
        return int(value) // 1_000 if isinstance(value, int) else int(number / 1_000)
    if isinstance(value, int):
        return value * unit
    return round(number * unit)


def parse_timestamps(values: Sequence[Any]) -> list[int]:
    """Timestamps in any supported form → µs. The numeric unit is decided once per column (from
    its first value), so a file never mixes units."""
    if not values:
        return []
    first = values[0]
    if isinstance(first, datetime):
        return [to_micros(v if v.tzinfo else v.replace(tzinfo=UTC)) for v in values]
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        unit = _number_unit(first)
        return [_to_us(v, unit) for v in values]
    text = str(first).strip()
    try:
        unit = _number_unit(float(text))
    except ValueError:
        return [_iso_us(v) for v in values]
    return [
        _to_us(int(v) if str(v).strip().lstrip("-").isdigit() else float(v), unit) for v in values
    ]


def _iso_us(value: Any) -> int:
    moment = datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_micros(moment)


# --- reading the bytes ----------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _bad(path, "no such file") from None
    except OSError as exc:
        raise _bad(path, f"cannot read: {exc.strerror or exc}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise _bad(path, f"broken gzip data: {exc}") from None
    return data


def _columns_from_parquet(path: Path, data: bytes) -> Columns:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise _bad(path, f"unreadable Parquet: {exc}") from None
    columns: Columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
            columns[name.lower()] = [("us", v) for v in column.to_pylist()]
        else:
            columns[name.lower()] = column.to_pylist()
    return columns


def _columns_from_records(path: Path, records: list[dict[str, Any]]) -> Columns:
    keys = list(records[0].keys())
    try:
        return {str(k).lower(): [r[k] for r in records] for k in keys}
    except (KeyError, TypeError):
        raise _bad(path, "JSON objects do not all have the same keys") from None


def _columns_from_csv(path: Path, text: str) -> Columns:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise _bad(path, "empty file") from None
    names = [h.strip().lower() for h in header]
    if not any(n in _TIME_COLUMNS for n in names):
        raise _bad(
            path,
            f"no timestamp column in the CSV header {header[:8]!r}: the first line must name the "
            "columns, e.g. timestamp,open,high,low,close,volume or timestamp,price,qty,side",
        )
    columns: Columns = {n: [] for n in names}
    lists = [columns[n] for n in names]
    width = len(names)
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != width:
            raise _bad(path, f"line {line_no} has {len(row)} fields, the header has {width}")
        for target, value in zip(lists, row, strict=True):
            target.append(value)
    return columns


def _json_document(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    except RecursionError:
        raise _bad(path, "JSON nested too deeply to be market data") from None
    try:  # JSON lines
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise _bad(path, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise _bad(path, "JSON nested too deeply to be market data") from None


# --- kinds ----------------------------------------------------------------------------------


def _first(columns: Columns, names: Iterable[str]) -> str | None:
    return next((n for n in names if n in columns), None)


def _guess_kind(columns: Columns) -> str | None:
    if _first(columns, ("funding_rate", "fundingrate")):
        return "funding"
    if _first(columns, ("mark_price", "markprice")):
        return "mark"
    if {"open", "high", "low", "close"} <= columns.keys():
        return "candles"
    if "asks[0].price" in columns or ("update_type" in columns and "side" in columns):
        return "book"
    if {"bid", "ask"} <= columns.keys():
        return "book"
    if "price" in columns and _first(columns, _QTY_COLUMNS):
        return "trades"
    return None


def _floats(path: Path, columns: Columns, name: str, *, positive: bool = False) -> list[float]:
    """A numeric column; every value finite and ≥ 0 (> 0 with ``positive``: prices)."""
    try:
        values = [float(v) for v in columns[name]]
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"column {name!r} holds a value that is not a number ({exc})") from None
    for line, value in enumerate(values):
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise _bad(
                path,
                f"column {name!r}, row {line + 1}: {value!r} is not a "
                f"{'positive' if positive else 'non-negative'} finite number",
            )
    return values


def _timestamps(path: Path, columns: Columns) -> list[int]:
    name = _first(columns, _TIME_COLUMNS)
    if name is None:
        raise _bad(path, f"no timestamp column (one of {', '.join(_TIME_COLUMNS)})")
    values = columns[name]
    if values and isinstance(values[0], tuple):  # Parquet timestamps, already µs
        return [v[1] for v in values]
    try:
        return parse_timestamps(values)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _bad(path, f"column {name!r} holds a value that is not a timestamp ({exc})") from None


def _symbols(path: Path, columns: Columns, symbol: str | None, n: int) -> list[str]:
    if symbol is not None:
        try:
            return [canonical(symbol)] * n
        except ValueError as exc:
            raise _bad(path, str(exc), "symbol") from None
    if "symbol" not in columns:
        raise _bad(path, "the file names no symbol: give one (e.g. BTC_USDT)", "symbol")
    cache: dict[str, str] = {}
    result = []
    for raw in columns["symbol"]:
        if raw not in cache:
            try:
                cache[raw] = symbol_from_text(str(raw))
            except ValueError:
                raise _bad(
                    path, f"cannot read symbol {raw!r}: give one as BASE_QUOTE", "symbol"
                ) from None
        result.append(cache[raw])
    return result


def _trades(path: Path, columns: Columns, symbol: str | None) -> list[Trade]:
    if "price" not in columns:
        raise _bad(path, "a trades file needs a 'price' column")
    qty_name = _first(columns, _QTY_COLUMNS)
    if qty_name is None:
        raise _bad(path, "a trades file needs a 'qty' (or amount/quantity/size) column")
    ts = _timestamps(path, columns)
    prices = _floats(path, columns, "price", positive=True)
    qtys = _floats(path, columns, qty_name)
    if "side" in columns:
        sides = [str(s).strip().lower() for s in columns["side"]]
        if any(s not in ("buy", "sell") for s in sides):
            bad = next(s for s in sides if s not in ("buy", "sell"))
            raise _bad(path, f"side must be 'buy' or 'sell', found {bad!r}")
    elif flag := _first(columns, ("buyer_maker", "is_buyer_maker", "isbuyermaker")):
        # the buyer was the maker → the seller was the aggressor
        sides = [
            "sell" if str(v).strip().lower() in ("true", "1") else "buy" for v in columns[flag]
        ]
    else:
        sides = [UNKNOWN_SIDE] * len(ts)  # the file does not say who was the aggressor
    id_name = _first(columns, ("trade_id", "id", "tradeid"))
    ids = [str(v) for v in columns[id_name]] if id_name else [""] * len(ts)
    syms = _symbols(path, columns, symbol, len(ts))
    return [Trade(*row) for row in zip(ts, syms, prices, qtys, sides, ids, strict=True)]


def _funding(path: Path, columns: dict[str, list[Any]], symbol: str | None) -> list[FundingRate]:
    rate_name = _first(columns, _RATE_COLUMNS)
    if rate_name is None:
        raise _bad(path, "a funding file needs a 'funding_rate' column")
    ts = _timestamps(path, columns)
    try:
        rates = [float(v) for v in columns[rate_name]]
    except (TypeError, ValueError) as exc:
        raise _bad(
            path, f"column {rate_name!r} holds a value that is not a number ({exc})"
        ) from None
    for line, rate in enumerate(rates):
        if not math.isfinite(rate) or abs(rate) >= 1:
            raise _bad(
                path,
                f"column {rate_name!r}, row {line + 1}: {rate!r} is not a funding rate (a "
                "fraction per funding interval, e.g. 0.0001 for 0.01 %)",
            )
    mark_name = _first(columns, _MARK_COLUMNS)
    marks: list[float | None] = [None] * len(ts)
    if mark_name is not None:
        marks = [None if v in ("", None) else float(v) for v in columns[mark_name]]
        if any(m is not None and not (math.isfinite(m) and m > 0) for m in marks):
            raise _bad(path, f"column {mark_name!r} holds a mark price that is not positive")
    syms = _symbols(path, columns, symbol, len(ts))
    return [FundingRate(*row) for row in zip(ts, syms, rates, marks, strict=True)]


def _marks(
    path: Path, columns: dict[str, list[Any]], symbol: str | None, interval: int | None
) -> list[MarkPrice]:
    if {"open", "high", "low", "close"} <= columns.keys():
        # a mark has no volume (the column is often there, empty)
        prices_only = {k: v for k, v in columns.items() if k not in ("volume", "vol", "amount")}
        return [
            MarkPrice(ts, c.symbol, price)
            for c in _candles(path, prices_only, symbol, interval)
            for ts, price in _bar_path(c)
        ]
    name = _first(columns, (*_MARK_COLUMNS, "price"))
    if name is None:
        raise _bad(path, "a mark file needs a 'mark_price' column, or open/high/low/close")
    ts = _timestamps(path, columns)
    prices = _floats(path, columns, name, positive=True)
    syms = _symbols(path, columns, symbol, len(ts))
    return [MarkPrice(*row) for row in zip(ts, syms, prices, strict=True)]


def _bar_path(c: Candle) -> list[tuple[int, float]]:
    """A bar's conventional intrabar path: open, the nearer extreme, the other, close."""
    step = c.interval * MICROS
    extremes = (c.high, c.low) if c.close < c.open else (c.low, c.high)
    return [
        (c.ts, c.open),
        (c.ts + step // 3, extremes[0]),
        (c.ts + 2 * step // 3, extremes[1]),
        (c.ts + step - 1, c.close),
    ]


def infer_interval(timestamps: Sequence[int]) -> int:
    """The bar interval in seconds: the most common gap between consecutive bars."""
    gaps = Counter(
        b - a for a, b in zip(timestamps[:5000], timestamps[1:5001], strict=False) if b > a
    )
    if not gaps:
        return 60
    gap = gaps.most_common(1)[0][0]
    return max(1, round(gap / MICROS))


def _candles(
    path: Path, columns: Columns, symbol: str | None, interval: int | None
) -> list[Candle]:
    missing = [c for c in ("open", "high", "low", "close") if c not in columns]
    if missing:
        raise _bad(path, f"a candles file needs columns open, high, low, close; missing {missing}")
    ts = _timestamps(path, columns)
    o, h, lo, c = (
        _floats(path, columns, k, positive=True) for k in ("open", "high", "low", "close")
    )
    vol_name = _first(columns, ("volume", "vol", "amount"))
    vol = _floats(path, columns, vol_name) if vol_name else [0.0] * len(ts)
    syms = _symbols(path, columns, symbol, len(ts))
    step = interval or infer_interval(sorted(set(ts)))
    return [
        Candle(t, s, step, *rest) for t, s, *rest in zip(ts, syms, o, h, lo, c, vol, strict=True)
    ]


def _optional_floats(path: Path, columns: Columns, names: Sequence[str], n: int) -> list[float]:
    name = _first(columns, names)
    return _floats(path, columns, name) if name else [0.0] * n


def _quotes(path: Path, columns: Columns, symbol: str | None) -> list[BookSnapshot]:
    ts = _timestamps(path, columns)
    bid, ask = (
        _floats(path, columns, "bid", positive=True),
        _floats(path, columns, "ask", positive=True),
    )
    bid_size = _optional_floats(path, columns, ("bid_size", "bid_qty", "bidsize"), len(ts))
    ask_size = _optional_floats(path, columns, ("ask_size", "ask_qty", "asksize"), len(ts))
    syms = _symbols(path, columns, symbol, len(ts))
    return [
        BookSnapshot(t, s, ((b, bs),), ((a, az),))
        for t, s, b, bs, a, az in zip(ts, syms, bid, bid_size, ask, ask_size, strict=True)
    ]


def _levels(row: dict[str, Any], side: str) -> tuple[tuple[float, float], ...]:
    levels = []
    i = 0
    while f"{side}[{i}].price" in row:
        price, amount = row[f"{side}[{i}].price"], row[f"{side}[{i}].amount"]
        if price not in ("", None) and amount not in ("", None):
            levels.append((float(price), float(amount)))
        i += 1
    return tuple(levels)


def _tardis(path: Path, columns: Columns, symbol: str | None) -> list[BookSnapshot]:
    ts = _timestamps(path, columns)
    syms = _symbols(path, columns, symbol, len(ts))
    names = list(columns)
    result = []
    try:
        for i, (t, s) in enumerate(zip(ts, syms, strict=True)):
            row = {n: columns[n][i] for n in names}
            result.append(BookSnapshot(t, s, _levels(row, "bids"), _levels(row, "asks")))
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"a book level is not a number ({exc})") from None
    return result


def _depth(path: Path, columns: Columns, symbol: str | None) -> list[BookSnapshot]:
    """Binance depth rows: a ``snap`` group replaces the book, ``set`` rows change one level (qty
    0 removes it). One snapshot (top ``BOOK_DEPTH`` levels) is emitted per update group."""
    for needed in ("side", "price", "qty"):
        if needed not in columns:
            raise _bad(path, f"a depth file needs a {needed!r} column")
    ts = _timestamps(path, columns)
    syms = _symbols(path, columns, symbol, len(ts))
    prices, qtys = _floats(path, columns, "price", positive=True), _floats(path, columns, "qty")
    kinds = columns.get("update_type") or ["set"] * len(ts)
    groups = columns.get("last_update_id") or ts
    books: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
    result: list[BookSnapshot] = []
    i, n = 0, len(ts)
    while i < n:
        j = i
        while j < n and groups[j] == groups[i] and syms[j] == syms[i]:
            j += 1
        bids, asks = books.setdefault(syms[i], ({}, {}))
        if str(kinds[i]).strip().lower() == "snap":
            bids.clear()
            asks.clear()
        for k in range(i, j):
            side = str(columns["side"][k]).strip().lower()
            book = (
                bids
                if side in ("b", "bid", "buy")
                else asks
                if side in ("a", "ask", "sell")
                else None
            )
            if book is None:
                raise _bad(path, f"depth side must be b or a, found {columns['side'][k]!r}")
            if qtys[k] == 0:
                book.pop(prices[k], None)
            else:
                book[prices[k]] = qtys[k]
        result.append(
            BookSnapshot(
                ts[j - 1],
                syms[i],
                tuple(sorted(bids.items(), reverse=True)[:BOOK_DEPTH]),
                tuple(sorted(asks.items())[:BOOK_DEPTH]),
            )
        )
        i = j
    return result


def _rows_from_columns(
    path: Path, columns: Columns, kind: str, symbol: str | None, interval: int | None
) -> list[Any]:
    if kind == "trades":
        return _trades(path, columns, symbol)
    if kind == "candles":
        return _candles(path, columns, symbol, interval)
    if kind == "funding":
        return _funding(path, columns, symbol)
    if kind == "mark":
        return _marks(path, columns, symbol, interval)
    if "asks[0].price" in columns:
        return _tardis(path, columns, symbol)
    if "bid" in columns and "ask" in columns:
        return _quotes(path, columns, symbol)
    if "side" in columns and "price" in columns:
        return _depth(path, columns, symbol)
    raise _bad(
        path,
        "a book file needs bid/ask quote columns, Tardis asks[i]/bids[i] levels or "
        "depth rows (side, price, qty)",
    )


def _array_rows(
    path: Path, doc: list[Any], kind: str | None, symbol: str | None, interval: int | None
) -> tuple[str, list[Any]]:
    """freqtrade's array-of-arrays JSON: candles ``[ms,o,h,l,c,v]``, trades
    ``[ms,id,type,side,price,amount,cost]``."""
    first = doc[0]
    if kind is None:
        if len(first) == 6 and not any(first[2:]):
            raise _bad(
                path,
                "rows [ms, x, 0, 0, 0, 0] look like freqtrade funding rates (the rate in the "
                "open field): pass kind='funding'",
            )
        if len(first) == 6 and all(isinstance(v, (int, float)) for v in first):
            kind = "candles"
        elif len(first) == 7 and str(first[3]).lower() in ("buy", "sell"):
            kind = "trades"
        else:
            raise _bad(
                path, f"cannot tell what the JSON arrays hold (first row {first!r}); pass kind="
            )
    if kind == "candles":
        names: tuple[str, ...] = ("timestamp", "open", "high", "low", "close", "volume")
    elif kind == "funding":
        names = ("timestamp", "funding_rate")  # freqtrade's rows carry four zeros after these
    elif kind == "mark":
        names = ("timestamp", "open", "high", "low", "close")  # freqtrade's mark candles
    elif kind == "trades":
        names = ("timestamp", "id", "type", "side", "price", "amount", "cost")
    else:
        raise _bad(path, "order books cannot be read from JSON arrays")
    if any(not isinstance(r, list) or len(r) < len(names) for r in doc):
        raise _bad(path, f"every row must be an array of {len(names)} values: {', '.join(names)}")
    columns = {n: [r[i] for r in doc] for i, n in enumerate(names)}
    return kind, _rows_from_columns(path, columns, kind, symbol, interval)


def read_market_file(
    path: str | Path,
    *,
    symbol: str | None = None,
    kind: str | None = None,
    interval: int | None = None,
) -> MarketFile:
    """Read a market-data file into rows (see the module docstring for what is understood).

    ``symbol`` (any spelling, stored canonical) overrides the file's; ``kind`` (trades, candles,
    book, funding, mark) overrides detection; ``interval`` (seconds) overrides the candle interval inferred from
    the timestamps."""
    path = Path(path)
    if kind is not None and kind not in KINDS:
        raise _bad(path, f"kind must be one of {', '.join(KINDS)}, not {kind!r}", "kind")
    data = _read_bytes(path)
    if not data.strip():
        raise _bad(path, "empty file")
    if kind == "capture" or (kind is None and is_capture(data[:200])):
        capture = rebuild(data.decode("utf-8").splitlines(), path.name, symbol=symbol)
        return MarketFile("capture", capture.events, (capture.symbol,), report=capture.report)
    if data[:4] == b"PAR1":
        columns = _columns_from_parquet(path, data)
        detected_kind, rows = _kind_rows(path, columns, kind, symbol, interval)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _bad(path, "not CSV, JSON or Parquet (and not gzip of one)") from None
        head = text.lstrip()[:1]
        if head in ("[", "{"):
            doc = _json_document(path, text)
            if isinstance(doc, dict):
                doc = [doc]
            if not doc:
                raise _bad(path, "the JSON holds no rows")
            if isinstance(doc[0], list):
                detected_kind, rows = _array_rows(path, doc, kind, symbol, interval)
            elif isinstance(doc[0], dict):
                columns = _columns_from_records(path, doc)
                detected_kind, rows = _kind_rows(path, columns, kind, symbol, interval)
            else:
                raise _bad(path, "JSON rows must be objects or arrays")
        else:
            columns = _columns_from_csv(path, text)
            detected_kind, rows = _kind_rows(path, columns, kind, symbol, interval)
    if not rows:
        raise _bad(path, "the file holds no rows")
    rows.sort(key=lambda r: r.ts)  # stable: rows with equal timestamps keep the file's order
    symbols = tuple(sorted({r.symbol for r in rows}))
    candle_interval = rows[0].interval if detected_kind == "candles" else None
    return MarketFile(detected_kind, rows, symbols, candle_interval)


def _kind_rows(
    path: Path, columns: Columns, kind: str | None, symbol: str | None, interval: int | None
) -> tuple[str, list[Any]]:
    """The kind (``kind``, or detected from the column names) and the rows."""
    kind = kind or _guess_kind(columns)
    if kind is None:
        raise _bad(
            path,
            f"cannot tell trades, candles, book or funding from the columns "
            f"{sorted(columns)[:12]}; pass kind=",
        )
    return kind, _rows_from_columns(path, columns, kind, symbol, interval)


# --- derived data ---------------------------------------------------------------------------


def candles_from_trades(trades: Iterable[Trade], interval: int) -> list[Candle]:
    """Aggregate trades into bars of ``interval`` seconds (bar ``ts`` = its open time, aligned to
    the epoch), per symbol, in timestamp order. Intervals without trades produce no bar."""
    if interval <= 0:
        raise ValueError("interval must be positive seconds")
    step = interval * MICROS
    open_bars: dict[str, list[Any]] = {}  # symbol → [start, open, high, low, close, volume]
    result: list[Candle] = []
    for t in trades:
        start = t.ts - t.ts % step
        bar = open_bars.get(t.symbol)
        if bar is not None and bar[0] != start:
            result.append(Candle(bar[0], t.symbol, interval, *bar[1:]))
            bar = None
        if bar is None:
            open_bars[t.symbol] = [start, t.price, t.price, t.price, t.price, t.qty]
            continue
        if t.price > bar[2]:
            bar[2] = t.price
        if t.price < bar[3]:
            bar[3] = t.price
        bar[4] = t.price
        bar[5] += t.qty
    result.extend(Candle(bar[0], sym, interval, *bar[1:]) for sym, bar in open_bars.items())
    result.sort(key=lambda c: (c.ts, c.symbol))
    return result


# --- into the store -------------------------------------------------------------------------


async def import_dataset(
    store: MarketDataStore,
    path: str | Path,
    name: str,
    symbol: str | None = None,
    kind: str | None = None,
) -> Dataset:
    """Read ``path`` and file its rows in ``store`` under ``source=name`` (in chunks), then save
    the ``Dataset`` record describing them. An existing dataset name is refused
    (``DatasetExists``): datasets are never overwritten."""
    if await store.get_dataset(name) is not None:
        raise DatasetExists(
            f"dataset {name!r} already exists",
            details=[{"field": "name", "message": "already exists"}],
        )
    # parsing is CPU work that can take seconds: in a thread, so the event loop keeps serving
    market = await asyncio.to_thread(read_market_file, path, symbol=symbol, kind=kind)
    writers: dict[type, Any] = {
        Trade: store.write_trades,
        Candle: store.write_candles,
        BookSnapshot: store.write_books,
        FundingRate: store.write_funding,
        MarkPrice: store.write_marks,
    }
    for i in range(0, len(market.rows), CHUNK_ROWS):
        chunk = market.rows[i : i + CHUNK_ROWS]
        for row_type, write in writers.items():  # a capture mixes trades and books
            rows = [r for r in chunk if type(r) is row_type]
            if rows:
                await write(name, rows)
    dataset = Dataset(
        name=name,
        kind=market.kind,
        symbols=market.symbols,
        rows=len(market.rows),
        start_ts=market.start_ts,
        end_ts=market.end_ts,
        created_at=time.time_ns() // 1_000,
        interval=market.interval,
        origin=Path(path).name,
    )
    await store.save_dataset(dataset)
    return dataset

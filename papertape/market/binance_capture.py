"""Raw Binance websocket captures as market data: trades and the order book rebuilt the way
Binance documents it, in exchange-time order.

A capture has one message a line, ``<local receive time, ns> <JSON as received>``: combined-stream
messages ``{"stream": "btcusdt@trade" | "btcusdt@depth@0ms" | "btcusdt@bookTicker", "data": …}``
and one REST depth snapshot ``{"lastUpdateId", "bids", "asks"[, "E", "T"]}`` (hftbacktest's
collector writes this format). The local receive times are not used: the collecting machine's
clock may be off (it is 1.27 s slow in the shared captures); events carry the exchange's times.

The book (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly,
and the spot page of the same name): depth updates are buffered until the snapshot; those with
``u < lastUpdateId`` are dropped; the first applied is the one with ``U ≤ lastUpdateId ≤ u``
(futures) or ``U ≤ lastUpdateId + 1 ≤ u`` (spot); after it every update must continue the chain
(``pu`` = the previous ``u`` on futures, ``U`` = the previous ``u`` + 1 on spot). A break is a gap:
it is reported, and no book is produced after it (the capture holds no second snapshot to resync
from). A level with quantity 0 is removed. After each applied update a ``BookSnapshot`` of the top
``depth`` levels is emitted at the update's exchange time (futures ``T``, spot ``E``).

Trades become ``Trade`` events at their trade time ``T``; the aggressor is the seller when the
buyer was the maker (``m``). Jumps in trade ids are reported as gaps.

Book tickers are not replayed as events (the book already has every update); they are the
capture's own statement of the best bid and ask at an update id, and ``CaptureReport`` counts how
many of those the rebuilt book agrees with (every ticker whose ``u`` ends a depth update).
"""

from __future__ import annotations

import gzip
import json
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papertape.domain.errors import InvalidDataFile
from papertape.domain.market import BookSnapshot, Trade

CAPTURE_DEPTH = 50  # levels per side in each emitted snapshot


@dataclass(slots=True)
class CaptureReport:
    """What the rebuild found: counts, chain gaps and the book-ticker cross-check."""

    messages: int = 0
    trades: int = 0
    depth_updates: int = 0
    applied: int = 0
    dropped_before_snapshot: int = 0  # updates older than the snapshot
    book_gaps: list[tuple[int, int]] = field(default_factory=list)  # (expected link, found)
    trade_id_gaps: list[tuple[int, int]] = field(default_factory=list)  # (last id, next id)
    book_tickers: int = 0
    tickers_checked: int = 0  # tickers whose ``u`` ends an applied depth update
    tickers_matching: int = 0  # … whose best bid and ask equal the rebuilt book's
    futures: bool = False


@dataclass(frozen=True, slots=True)
class Capture:
    events: list[Trade | BookSnapshot]  # in exchange-time order
    symbol: str
    report: CaptureReport


class _Book:
    """Both sides as price → qty, with each side's prices kept sorted (ascending) so that a
    snapshot of the top levels costs a slice, not a sort of the whole book."""

    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.bid_prices: list[float] = []
        self.ask_prices: list[float] = []

    def load(self, snapshot: dict[str, Any]) -> None:
        self.bids = {float(p): float(q) for p, q in snapshot["bids"] if float(q) > 0}
        self.asks = {float(p): float(q) for p, q in snapshot["asks"] if float(q) > 0}
        self.bid_prices, self.ask_prices = sorted(self.bids), sorted(self.asks)

    def apply(self, update: dict[str, Any]) -> None:
        for side, prices, levels in (
            (self.bids, self.bid_prices, update["b"]),
            (self.asks, self.ask_prices, update["a"]),
        ):
            for price_text, qty_text in levels:
                price, qty = float(price_text), float(qty_text)
                if qty == 0:
                    if side.pop(price, None) is not None:
                        del prices[bisect_left(prices, price)]
                else:
                    if price not in side:
                        insort(prices, price)
                    side[price] = qty

    def snapshot(self, ts: int, symbol: str, depth: int) -> BookSnapshot:
        bids, asks = self.bids, self.asks
        return BookSnapshot(
            ts,
            symbol,
            tuple((p, bids[p]) for p in reversed(self.bid_prices[-depth:])),
            tuple((p, asks[p]) for p in self.ask_prices[:depth]),
        )

    def top(self) -> tuple[float | None, float | None]:
        return (
            self.bid_prices[-1] if self.bid_prices else None,
            self.ask_prices[0] if self.ask_prices else None,
        )


def is_capture(head: bytes) -> bool:
    """Whether a file's first bytes look like ``<ns> {json}`` capture lines."""
    first = head.split(b"\n", 1)[0]
    stamp, _, rest = first.partition(b" ")
    return stamp.isdigit() and len(stamp) >= 16 and rest.lstrip().startswith(b"{")


def read_capture(
    path: str | Path, *, symbol: str | None = None, depth: int = CAPTURE_DEPTH
) -> Capture:
    """Read a capture file (optionally gzip) into trades and rebuilt book snapshots."""
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return rebuild(data.decode("utf-8").splitlines(), path.name, symbol=symbol, depth=depth)


def rebuild(
    lines: list[str], origin: str, *, symbol: str | None = None, depth: int = CAPTURE_DEPTH
) -> Capture:
    """Rebuild a capture's lines (see the module docstring); ``symbol`` overrides the file's."""
    report = CaptureReport()
    events: list[Trade | BookSnapshot] = []
    book = _Book()
    buffered: list[dict[str, Any]] = []
    snapshot_id: int | None = None
    last_u: int | None = None  # the last applied update's ``u``; None before the first
    broken = False
    ends: dict[int, tuple[float | None, float | None]] = {}  # update id → book top after it
    tickers: list[tuple[int, float, float]] = []
    last_trade_id: int | None = None
    name = _symbol(symbol) if symbol else None

    def apply(update: dict[str, Any], snapshot: int) -> None:
        nonlocal last_u, broken
        if broken:
            return
        first, final = int(update["U"]), int(update["u"])
        if last_u is None:
            target = snapshot if report.futures else snapshot + 1
            if final < snapshot:
                report.dropped_before_snapshot += 1
                return
            if not first <= target <= final:
                report.book_gaps.append((target, first))
                broken = True
                return
        else:
            link = int(update.get("pu", -1)) if report.futures else first - 1
            if link != last_u:
                report.book_gaps.append((last_u, link))
                broken = True
                return
        book.apply(update)
        last_u = final
        report.applied += 1
        ends[final] = book.top()
        ts = (update["T"] if report.futures else update["E"]) * 1_000
        events.append(book.snapshot(ts, name or "", depth))

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        _, _, text = line.partition(" ")
        try:
            message: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidDataFile(f"{origin}: line {number} is not JSON ({exc})") from None
        report.messages += 1
        if "lastUpdateId" in message:
            snapshot_id = message["lastUpdateId"]
            report.futures = "T" in message or report.futures
            book.load(message)
            pending, buffered = buffered, []
            for update in pending:
                apply(update, snapshot_id)
            continue
        stream, data = message.get("stream", ""), message.get("data", message)
        if name is None and "s" in data:
            name = _symbol(data["s"])
        if "@depth" in stream or data.get("e") == "depthUpdate":
            report.depth_updates += 1
            report.futures = report.futures or "pu" in data
            if snapshot_id is None:
                buffered.append(data)
            else:
                apply(data, snapshot_id)
        elif stream.endswith("@trade") or data.get("e") == "trade":
            report.trades += 1
            trade_id = int(data["t"])
            if last_trade_id is not None and trade_id != last_trade_id + 1:
                report.trade_id_gaps.append((last_trade_id, trade_id))
            last_trade_id = trade_id
            events.append(
                Trade(
                    data["T"] * 1_000,
                    name or "",
                    float(data["p"]),
                    float(data["q"]),
                    "sell" if data["m"] else "buy",
                    str(trade_id),
                )
            )
        elif stream.endswith("@bookTicker") or "A" in data:
            report.book_tickers += 1
            tickers.append((int(data["u"]), float(data["b"]), float(data["a"])))
    if snapshot_id is None:
        raise InvalidDataFile(f"{origin}: no depth snapshot (lastUpdateId) in the capture")
    if name is None:
        raise InvalidDataFile(f"{origin}: no message names a symbol: pass symbol=")
    for update_id, bid, ask in tickers:
        top = ends.get(update_id)
        if top is not None:
            report.tickers_checked += 1
            report.tickers_matching += top == (bid, ask)
    events = [e if e.symbol else e._replace(symbol=name) for e in events]
    events.sort(key=lambda e: e.ts)  # stable: equal times keep the capture's order
    return Capture(events, name, report)


def _symbol(text: str) -> str:
    """Binance's ``BTCUSDT`` → ``BTC_USDT`` (the quote split as the importers do)."""
    from papertape.market.importers import symbol_from_text  # importers import this module

    return symbol_from_text(text)

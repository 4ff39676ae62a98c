"""The live exchange feed: trades and order-book snapshots for several symbols, through
ccxt.pro's ``watch_trades`` / ``watch_order_book``, and on perpetuals (``swap``) the mark price and
the funding rates through ``watch_mark_price`` when the exchange streams them
(``papertape.market.exchange.marks``). (Bars are derived from the trades by those who need them:
the engine for its strategies, the collect recorder for the tape.)

Shape of the machinery:

- a *connector* task loads the exchange's market list (retrying with backoff while the exchange
  is unreachable: the session keeps running and says ``reconnecting``), checks the symbols
  against it (an unknown one fails the session with ``unknown_symbol``), then starts
- one *stream* task per symbol and kind (trades, book, and mark on a swap market). Each loops on its ``watch_*`` call; a
  network error marks the stream down, waits an exponential backoff with jitter and calls
  ``watch_*`` again, which makes ccxt reconnect and resubscribe. When a stream that had delivered
  data comes back, the outage is counted as a gap (``status.gaps``) with its time span;
- a *watchdog* task marks a symbol ``stale`` when nothing arrived for it for ``stale_after`` s,
  and when one stays stale for ``resubscribe_after`` s drops every connection and subscribes
  afresh (a socket can stay open while the exchange stopped sending).

Prints are de-duplicated by trade id; a print older than one already delivered is still delivered
and counted (``out_of_order``); a jump in trade ids that had been consecutive counts as a gap too
(prints lost without a disconnect, e.g. ccxt's trade cache overflowing).

Streams hand their events to ``batches()`` through a bounded queue: when the consumer is slow, the
streams wait (backpressure) instead of dropping anything. ccxt keeps the full order book the
exchange sends as a local book (snapshot + deltas, nonce-checked); a snapshot of its top
``book_depth`` levels is taken at most every ``book_interval`` seconds per symbol.

Permanent errors (unknown symbol, keys refused, capability missing) end ``batches()`` with a
``PapertapeError`` carrying a stable code; nothing else does.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ccxt
import structlog

from papertape.domain.errors import FeedError, PapertapeError, UnknownSymbol
from papertape.domain.market import BookSnapshot, MarketEvent, Trade
from papertape.market.exchange.backoff import Backoff
from papertape.market.exchange.connector import ExchangeHub, default_hub, describe
from papertape.market.exchange.download import funding_history
from papertape.market.exchange.errors import (
    ExchangeAuthFailed,
    ExchangeRejected,
    ExchangeUnavailable,
    ExchangeUnsupported,
)
from papertape.market.exchange.marks import FundingClock, parse_mark
from papertape.market.exchange.symbols import to_ccxt
from papertape.market.source import FeedStatus, MarketSource

log = structlog.get_logger("papertape.exchange.feed")

TRADES, BOOK, MARK = "trades", "book", "mark"
_CLOSED = object()
_RECENT_IDS = 5_000
GAP_SPANS_KEPT = 20
SEQUENTIAL_RUN = 50  # consecutive trade ids before a jump in them counts as a gap


@dataclass(frozen=True, slots=True)
class FeedOptions:
    book_depth: int | None = 20
    """Levels per side in each snapshot; ``None`` keeps every level of the local book."""
    book_interval: float = 1.0
    """Seconds between two snapshots of one symbol's book (0: one per update)."""
    watch_book: bool = True
    watch_marks: bool = True
    """On a swap market, stream mark prices and funding rates too (when the exchange has
    ``watchMarkPrice`` in ccxt)."""
    stale_after: float = 30.0
    """A symbol without any message for this long is ``stale``."""
    resubscribe_after: float | None = 90.0
    """A symbol stale for this long makes the feed drop its connections and subscribe afresh (a
    socket can stay open while the exchange stopped sending); at most once per this period."""
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_batch: int = 5_000
    queue_size: int = 100
    """Pending stream messages before the streams wait for the consumer (a message holds up to
    ccxt's 1,000-trade cache, so this bounds a slow session's memory too)."""
    permanent_after: int = 20
    """Consecutive exchange-side (non-network) errors on one stream before it is given up."""
    history_retries: int = 3
    """Network retries of the funding history a resumed feed fetches for its outage."""


@dataclass(slots=True)
class ExchangeFeedStatus(FeedStatus):
    """``FeedStatus`` plus what a live feed can say per symbol.

    ``reconnects`` counts retries (every failed attempt to load the market list or to read a
    stream, then retried after a backoff); ``gaps`` counts outages after which a stream that had
    delivered data resumed: data published meanwhile was missed. ``symbols[s]`` holds the
    symbol's state, its counts and the spans of its last ``GAP_SPANS_KEPT`` gaps."""

    duplicates: int = 0
    out_of_order: int = 0
    symbols: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class _Stream:
    symbol: str
    kind: str
    up: bool = False
    had_data: bool = False
    down_since: int | None = None  # µs
    error: str = ""


def _now_us() -> int:
    return time.time_ns() // 1_000


class ExchangeSource(MarketSource):
    def __init__(
        self,
        symbols: Sequence[str],
        exchange_id: str = "mexc",
        market_type: str = "spot",
        resume_after: int | None = None,
        *,
        options: FeedOptions | None = None,
        hub: ExchangeHub | None = None,
        session_id: str | None = None,
    ):
        super().__init__(symbols, resume_after)
        self.exchange_id = exchange_id
        self.market_type = market_type
        self.options = options or FeedOptions()
        self.hub = hub or default_hub()
        self.status: ExchangeFeedStatus = ExchangeFeedStatus()
        self._log = log.bind(exchange=exchange_id, market_type=market_type, session_id=session_id)
        # event lists, then the end: an exception or _CLOSED
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.options.queue_size)
        self._tasks: list[asyncio.Task[None]] = []  # the connector and the watchdog
        self._stream_tasks: list[asyncio.Task[None]] = []
        self._puts: set[asyncio.Future[None]] = (
            set()
        )  # hand-overs to the queue still waiting for room
        self._stale_since: dict[str, float] = {}
        self._last_resubscribe = float("-inf")
        self._exchange: Any = None
        self._closed = False
        self._streams = {
            (s, k): _Stream(s, k)
            for s in self.symbols
            for k in ((TRADES, BOOK) if self.options.watch_book else (TRADES,))
        }
        self._last_message = {s: 0.0 for s in self.symbols}  # monotonic seconds
        self._stale: set[str] = set()
        self._seen_ids: dict[str, tuple[deque[Hashable], set[Hashable]]] = {
            s: (deque(maxlen=_RECENT_IDS), set()) for s in self.symbols
        }
        self._last_trade_ts = dict.fromkeys(self.symbols, 0)
        self._last_id: dict[str, int | None] = dict.fromkeys(self.symbols)
        self._id_run = dict.fromkeys(self.symbols, 0)  # consecutive ids seen in a row
        self._last_book_at = dict.fromkeys(self.symbols, float("-inf"))
        self._counts = {s: {"trades": 0, "books": 0} for s in self.symbols}
        self.funding = FundingClock(resume_after)
        self._outage_from = resume_after  # until the first data after a restart is in
        self._outage: dict[str, Any] = {}

    # the consumer's side -------------------------------------------------------------------
    async def batches(self) -> AsyncIterator[Sequence[MarketEvent]]:
        if not self._tasks and not self._closed:
            self._start()
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            if isinstance(item, BaseException):
                raise item
            events = list(item)
            pending_end: Any = None
            while len(events) < self.options.max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is _CLOSED or isinstance(nxt, BaseException):
                    pending_end = nxt
                    break
                events.extend(nxt)
            if events:
                events.sort(key=lambda e: e.ts)
                if self._outage_from is not None:
                    await self._make_up_funding(events[0].ts)
                events = list(self.funding.weave(events))
                self.status.events += len(events)
                self.status.last_event_ts = events[-1].ts
                yield events
            if pending_end is _CLOSED:
                return
            if pending_end is not None:
                raise pending_end

    def outage_notes(self) -> dict[str, Any]:
        return self._outage

    async def _make_up_funding(self, first_ts: int) -> None:
        """A feed resumed after an outage (the server was down): the funding times that fell
        inside it, after the last event the session had and before this first new one, are
        fetched from the exchange's funding history (the download's ``fetch_funding_rate_history``
        paging) and handed to the funding clock, which pays them in data-time order before the
        first new event. The stream cannot: it only announces the next funding time. The
        engine values each at the settlement mark the history carries (Binance's ``markPrice``,
        ``price_source`` ``settlement``), else at the last mark the session had before the
        outage (``mark``: however old, nothing replaced it), else at its last price (``last``).

        If the history cannot be fetched the funding is not paid, and loudly so: the span and
        the error are in ``outage_notes`` (the session's ``gap`` event) and the symbol's detail."""
        began, self._outage_from = self._outage_from, None
        if began is None or not self._streams_marks():
            return  # no mark stream: this feed pays no funding at all (``valued_at``)
        recovered: dict[str, list[int]] = {}
        unpaid: dict[str, dict[str, Any]] = {}
        for symbol in self.symbols:
            try:
                rates = await funding_history(
                    self._exchange,
                    self.exchange_id,
                    symbol,
                    began + 1,
                    first_ts,
                    retries=self.options.history_retries,
                )
            except (PapertapeError, ccxt.BaseError) as exc:
                error = exc.message if isinstance(exc, PapertapeError) else describe(exc)
                unpaid[symbol] = {"from_ts": began, "to_ts": first_ts, "error": error}
                self._symbol_detail(symbol)["unpaid_funding"] = unpaid[symbol]
                self._log.error("feed.funding_not_made_up", symbol=symbol, **unpaid[symbol])
                continue
            for rate in rates:
                self.funding.announce(rate)
            recovered[symbol] = [rate.ts for rate in rates]
        self._outage = {"funding_made_up": recovered}
        if unpaid:
            self._outage["funding_unpaid"] = unpaid

    async def close(self) -> None:
        """Cancel every task and close the exchange's connections; returns within a few seconds
        whatever the feed was doing (connecting, backing off, streaming)."""
        if self._closed:
            return
        self._closed = True
        tasks = self._tasks + self._stream_tasks + list(self._puts)  # nobody reads any more
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        if self._exchange is not None:
            try:
                await asyncio.wait_for(self._exchange.close(), 2.0)
            except (TimeoutError, Exception) as exc:
                self._log.warning("feed.close_failed", error=describe(exc))
        self.status.set("finished", "closed")
        self._put_final(_CLOSED)

    # machinery -----------------------------------------------------------------------------
    def _start(self) -> None:
        self._tasks.append(self._task(self._connect(), "feed-connect"))

    def _task(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A feed task whose unexpected death fails the feed loudly instead of silently
        stopping a stream."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        self._log.error("feed.task_crashed", task=task.get_name(), error=repr(exc))
        self._fail(
            FeedError(
                f"{self.exchange_id} feed task {task.get_name()} crashed: "
                f"{type(exc).__name__}: {exc}"
            )
        )

    def _put_final(self, item: Any) -> None:
        """Queue the end of the stream, making room if the consumer fell behind (it is ending)."""
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()

    def _fail(self, error: PapertapeError) -> None:
        self._log.error("feed.failed", error_code=error.code, error=error.message)
        self.status.set("failed", error.message)
        for task in self._tasks + self._stream_tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self._put_final(error)

    async def _connect(self) -> None:
        backoff = self._backoff()
        while True:
            try:
                markets = await self.hub.markets(self.exchange_id)
                break
            except ExchangeUnavailable as exc:
                self.status.reconnects += 1
                self.status.set("reconnecting", exc.message)
                self._log.warning("feed.unreachable", error=exc.message, attempt=backoff.attempts)
                await asyncio.sleep(backoff.next())
        try:
            self.hub.check_symbols(self.exchange_id, self.market_type, self.symbols, markets)
            self._exchange = self.hub.create(self.exchange_id, self.market_type)
            self._require_capabilities()
        except PapertapeError as exc:
            self._fail(exc)
            return
        if self._streams_marks():
            for symbol in self.symbols:
                self._streams[(symbol, MARK)] = _Stream(symbol, MARK)
                self._counts[symbol]["marks"] = 0
        self.status.set("connecting", f"subscribing to {', '.join(self.symbols)}")
        self._start_streams()
        self._tasks.append(self._task(self._watchdog(), "feed-watchdog"))

    def _start_streams(self) -> None:
        self._last_message = dict.fromkeys(self.symbols, time.monotonic())
        self._stream_tasks = [
            self._task(self._run_stream(stream), f"feed-{stream.kind}-{stream.symbol}")
            for stream in self._streams.values()
        ]

    async def _resubscribe(self, silent: list[str]) -> None:
        """Drop every connection and subscribe again on a fresh exchange object."""
        self._last_resubscribe = time.monotonic()
        self.status.reconnects += 1
        self._log.warning("feed.resubscribe", silent=silent)
        for task in self._stream_tasks:
            task.cancel()
        await asyncio.wait(self._stream_tasks, timeout=2.0)
        old, self._exchange = self._exchange, self.hub.create(self.exchange_id, self.market_type)
        try:
            await asyncio.wait_for(old.close(), 2.0)
        except (TimeoutError, Exception) as exc:
            self._log.warning("feed.close_failed", error=describe(exc))
        now_us = _now_us()
        for stream in self._streams.values():
            if stream.up:
                stream.down_since = now_us
            stream.up, stream.error = False, f"resubscribing: no data for {', '.join(silent)}"
        self._refresh_status()
        self._start_streams()

    def _require_capabilities(self) -> None:
        has = getattr(self._exchange, "has", {}) or {}
        needed = ["watchTrades"] + (["watchOrderBook"] if self.options.watch_book else [])
        missing = [name for name in needed if not has.get(name)]
        if missing:
            raise ExchangeUnsupported(
                f"{self.exchange_id} has no {', '.join(missing)} in ccxt: it cannot feed a live session"
            )

    def _streams_marks(self) -> bool:
        """Mark prices (and funding) are streamed on perpetuals whose exchange can; without them
        the session values positions at the last trade and pays no funding (``valued_at``)."""
        has = getattr(self._exchange, "has", {}) or {}
        return bool(
            self.options.watch_marks and self.market_type == "swap" and has.get("watchMarkPrice")
        )

    def _backoff(self) -> Backoff:
        return Backoff(initial=self.options.backoff_initial, maximum=self.options.backoff_max)

    async def _run_stream(self, stream: _Stream) -> None:
        unified = to_ccxt(stream.symbol, self.market_type)
        backoff = self._backoff()
        exchange_errors = 0
        while True:
            try:
                if stream.kind == TRADES:
                    data = await self._exchange.watch_trades(unified)
                elif stream.kind == BOOK:
                    data = await self._exchange.watch_order_book(unified)
                else:
                    data = await self._exchange.watch_mark_price(unified)
            except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
                self._fail(
                    ExchangeAuthFailed(f"{self.exchange_id} refused the keys: {describe(exc)}")
                )
                return
            except ccxt.BadSymbol as exc:
                self._fail(
                    UnknownSymbol(
                        f"{self.exchange_id} rejects {stream.symbol}: {describe(exc)}",
                        details=[
                            {
                                "field": "symbols",
                                "message": f"{stream.symbol} rejected by the exchange",
                            }
                        ],
                    )
                )
                return
            except ccxt.NotSupported as exc:
                if stream.kind == MARK:  # optional: the session values at the last trade
                    self._drop_marks(stream, exc)
                    return
                self._fail(ExchangeUnsupported(f"{self.exchange_id}: {describe(exc)}"))
                return
            except (TimeoutError, ccxt.NetworkError, OSError) as exc:
                await self._stream_down(stream, exc, backoff)
                continue
            except ccxt.BaseError as exc:  # other exchange answers (errors, bad responses)
                exchange_errors += 1
                if exchange_errors >= self.options.permanent_after:
                    self._fail(
                        ExchangeRejected(
                            f"{self.exchange_id} keeps refusing the {stream.kind} stream of "
                            f"{stream.symbol}: {describe(exc)}"
                        )
                    )
                    return
                await self._stream_down(stream, exc, backoff)
                continue
            exchange_errors = 0
            backoff.reset()
            self._stream_up(stream)
            if stream.kind == TRADES:
                events = self._trades(stream.symbol, data)
            elif stream.kind == BOOK:
                events = self._book(stream.symbol, data)
            else:
                events = self._mark(stream.symbol, data)
            if events:
                # shielded: a stream cancelled for a resubscribe still hands over what it read
                put = asyncio.ensure_future(self._queue.put(events))
                self._puts.add(put)
                put.add_done_callback(self._puts.discard)
                await asyncio.shield(put)

    def _drop_marks(self, stream: _Stream, exc: BaseException) -> None:
        """Stop watching a symbol's mark price the exchange will not stream."""
        del self._streams[(stream.symbol, MARK)]
        self._symbol_detail(stream.symbol)["marks_unavailable"] = describe(exc)
        self._log.warning("feed.marks_unavailable", symbol=stream.symbol, error=describe(exc))
        self._refresh_status()

    async def _stream_down(self, stream: _Stream, exc: BaseException, backoff: Backoff) -> None:
        message = describe(exc)
        if stream.up or stream.down_since is None:
            stream.down_since = _now_us()
        stream.up = False
        stream.error = message
        self.status.reconnects += 1
        self._log.warning(
            "feed.stream_down",
            symbol=stream.symbol,
            stream=stream.kind,
            error=message,
            attempt=backoff.attempts,
        )
        self._refresh_status()
        await asyncio.sleep(backoff.next())

    def _stream_up(self, stream: _Stream) -> None:
        self._last_message[stream.symbol] = time.monotonic()
        if stream.up:
            return
        now_us = _now_us()
        if stream.had_data and stream.down_since is not None:
            self.status.gaps += 1
            self._note_gap(
                stream.symbol,
                {"stream": stream.kind, "start_ts": stream.down_since, "end_ts": now_us},
            )
            self._id_run[stream.symbol] = 0  # the id jump after this outage is this same gap
        stream.up, stream.had_data, stream.down_since, stream.error = True, True, None, ""
        self._stale.discard(stream.symbol)
        self._refresh_status()

    async def _watchdog(self) -> None:
        period = max(0.05, min(1.0, self.options.stale_after / 4))
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            changed = False
            for symbol, last in self._last_message.items():
                stale = now - last > self.options.stale_after
                if stale and symbol not in self._stale:
                    self._stale.add(symbol)
                    self._stale_since[symbol] = now
                    changed = True
                    self._log.warning("feed.stale", symbol=symbol, silent_s=round(now - last, 1))
                elif not stale and symbol in self._stale:
                    self._stale.discard(symbol)
                    changed = True
            if changed:
                self._refresh_status()
            limit = self.options.resubscribe_after
            if limit is not None and now - self._last_resubscribe >= limit:
                silent = sorted(s for s in self._stale if now - self._stale_since[s] >= limit)
                if silent:
                    await self._resubscribe(silent)

    def _refresh_status(self) -> None:
        """Derive the feed's state from its streams: any stream down → ``reconnecting``; else any
        silent symbol → ``stale``; else ``live`` once data flows."""
        if self.status.state in ("failed", "finished"):
            return
        down = [s for s in self._streams.values() if not s.up and s.error]
        for symbol in self.symbols:
            detail = self._symbol_detail(symbol)
            streams = [s for s in self._streams.values() if s.symbol == symbol]
            if any(not s.up and s.error for s in streams):
                detail["state"] = "reconnecting"
            elif symbol in self._stale:
                detail["state"] = "stale"
            elif any(s.up for s in streams):
                detail["state"] = "live"
        if down:
            first = down[0]
            what = (
                f"{self.exchange_id} unreachable"
                if len(down) == len(self._streams)
                else (f"{first.symbol} {first.kind} stream down")
            )
            message = (
                first.error if first.error.startswith("resubscribing") else f"{what}: {first.error}"
            )
            self.status.set("reconnecting", message)
        elif self._stale:
            silent = ", ".join(sorted(self._stale))
            self.status.set("stale", f"no data for {self.options.stale_after:g} s: {silent}")
        elif any(s.up for s in self._streams.values()):
            self.status.set("live")

    def _symbol_detail(self, symbol: str) -> dict[str, Any]:
        detail = self.status.symbols.get(symbol)
        if detail is None:
            detail = self.status.symbols[symbol] = {"state": "connecting", **self._counts[symbol]}
        return detail

    # turning ccxt structures into papertape events -----------------------------------------
    def _trades(self, symbol: str, raw: Sequence[dict[str, Any]]) -> list[MarketEvent]:
        ids, id_set = self._seen_ids[symbol]
        events: list[MarketEvent] = []
        for item in raw:
            ts = int(item["timestamp"]) * 1_000
            if self.resume_after is not None and ts <= self.resume_after:
                continue
            trade_id = str(item.get("id") or "")
            key = trade_id or (ts, item.get("price"), item.get("amount"), item.get("side"))
            if key in id_set:
                self.status.duplicates += 1
                continue
            if len(ids) == ids.maxlen:
                id_set.discard(ids[0])
            ids.append(key)
            id_set.add(key)
            if ts < self._last_trade_ts[symbol]:
                self.status.out_of_order += 1
            else:
                self._check_sequence(symbol, trade_id, ts)
                self._last_trade_ts[symbol] = ts
            trade = Trade(
                ts,
                symbol,
                float(item["price"]),
                float(item["amount"]),
                item.get("side") or "",
                trade_id,
            )
            events.append(trade)
        self._counts[symbol]["trades"] += len(events)
        self._symbol_detail(symbol).update(self._counts[symbol])
        return events

    def _check_sequence(self, symbol: str, trade_id: str, ts: int) -> None:
        """Count a gap when trade ids that have been consecutive jump ahead: prints were missed
        without any disconnect (ccxt's trade cache overflowed, the exchange skipped some).
        Exchanges whose ids are not consecutive never build the run this needs."""
        if not trade_id.isdigit():
            return
        number, last = int(trade_id), self._last_id[symbol]
        if last is not None and number == last + 1:
            self._id_run[symbol] += 1
        elif last is not None and number > last + 1:
            if self._id_run[symbol] >= SEQUENTIAL_RUN:
                self.status.gaps += 1
                self._note_gap(
                    symbol,
                    {
                        "stream": TRADES,
                        "start_ts": self._last_trade_ts[symbol],
                        "end_ts": ts,
                        "missing_trades": number - last - 1,
                    },
                )
            self._id_run[symbol] = 0
        if last is None or number > last:
            self._last_id[symbol] = number

    def _note_gap(self, symbol: str, span: dict[str, Any]) -> None:
        spans = self._symbol_detail(symbol).setdefault("gap_spans", [])
        spans.append(span)
        del spans[:-GAP_SPANS_KEPT]
        self._log.warning("feed.gap", symbol=symbol, **span)

    def _book(self, symbol: str, book: dict[str, Any]) -> list[MarketEvent]:
        now = time.monotonic()
        if now - self._last_book_at[symbol] < self.options.book_interval:
            return []
        stamp = book.get("timestamp")
        ts = int(stamp) * 1_000 if stamp else _now_us()
        if self.resume_after is not None and ts <= self.resume_after:
            return []
        depth = self.options.book_depth
        bids = tuple((float(level[0]), float(level[1])) for level in book["bids"][:depth])
        asks = tuple((float(level[0]), float(level[1])) for level in book["asks"][:depth])
        if not bids and not asks:
            return []
        self._last_book_at[symbol] = now
        self._counts[symbol]["books"] += 1
        self._symbol_detail(symbol).update(self._counts[symbol])
        return [BookSnapshot(ts, symbol, bids, asks)]

    def _mark(self, symbol: str, ticker: dict[str, Any]) -> list[MarketEvent]:
        """The mark price (an event) and the funding it announces (held by ``self.funding``
        until the data passes its funding time)."""
        mark, funding = parse_mark(symbol, ticker)
        if funding is not None:
            self.funding.announce(funding)
        if mark is None or (self.resume_after is not None and mark.ts <= self.resume_after):
            return []
        self._counts[symbol]["marks"] += 1
        self._symbol_detail(symbol).update(self._counts[symbol])
        return [mark]

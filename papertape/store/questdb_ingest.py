"""High-rate rows into QuestDB: ILP over HTTP through the official ``questdb`` client.

Every ``write`` call builds its rows into buffers of at most ``CHUNK_ROWS`` and flushes each one
before returning (auto-flush off: a batch is flushed when the caller hands it over, so nothing
lingers in a client buffer where a crash would lose it, and every flush has its own retry and
error path). A flush that fails is retried with backoff for up to ``retry_seconds``; every table
it feeds has ``DEDUP UPSERT KEYS``, so a retry of a batch the server had in fact committed (a
timeout after the commit) cannot duplicate rows. When the budget is spent the write raises
``StoreWriteFailed`` with the session id and logs ``store.write.failed``: it is never dropped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import structlog
from questdb import QuestDBError, QuestDBErrorCode, Sender, TimestampMicros
from questdb._client import Buffer  # the type only; buffers come from Sender.new_buffer()

from papertape.domain.errors import StoreWriteFailed
from papertape.domain.funding import FundingPayment, FundingRate
from papertape.domain.market import BookSnapshot, Candle, MarkPrice, Trade
from papertape.domain.records import EquityPoint, Fill, OrderRecord, PositionRecord
from papertape.store.trade_ties import tie_key

log = structlog.get_logger("papertape.store.questdb")

CHUNK_ROWS = 100_000
# Errors in the data itself: retrying sends the same bytes and fails the same way.
PERMANENT = {
    QuestDBErrorCode.InvalidName,
    QuestDBErrorCode.InvalidTimestamp,
    QuestDBErrorCode.InvalidUtf8,
    QuestDBErrorCode.InvalidApiCall,
    QuestDBErrorCode.ConfigError,
    QuestDBErrorCode.AuthError,
    QuestDBErrorCode.ServerRejection,
    QuestDBErrorCode.ServerSchemaMismatch,
    QuestDBErrorCode.ServerParseError,
}

RowWriter = Callable[[Buffer, Any], None]


def is_permanent(exc: QuestDBError) -> bool:
    """An error retrying cannot fix: bad data, bad config, refused credentials, or the server
    rejecting the rows themselves (HTTP 400 ``"code":"invalid"``, e.g. a type that does not cast)."""
    if exc.code in PERMANENT:
        return True
    return exc.code is QuestDBErrorCode.ServerFlushError and '"code":"invalid"' in str(exc)


class IlpWriter:
    """One ILP/HTTP sender. Rows are built into a buffer on one thread while the previous buffer
    is flushed on another (the flush releases the GIL), at most one flush in flight, in order."""

    def __init__(self, conf: str, retry_seconds: float):
        self._conf = conf
        self.retry_seconds = retry_seconds
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="questdb-ilp-build")
        self._flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="questdb-ilp-flush")
        # only makes buffers; with a fixed protocol version, establish() does not connect
        self._factory = Sender.from_conf(conf)
        self._factory.establish()  # type: ignore[no-untyped-call]  # unannotated in the stubs
        self._sender: Sender | None = None  # used on the flusher thread only
        self._closed = False

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._builder, lambda: None)  # let a write in progress end
        await loop.run_in_executor(self._flusher, self._drop_sender)
        self._builder.shutdown(wait=True)
        self._flusher.shutdown(wait=True)
        self._factory.close(flush=False)

    async def write(self, table: str, session_id: str, rows: Sequence[Any], put: RowWriter) -> None:
        """Write ``rows`` (each added by ``put(buffer, row)``) to ``table``; retried, never lost."""
        if rows:
            await asyncio.get_running_loop().run_in_executor(
                self._builder, self._write_chunks, table, session_id, rows, put
            )

    # on the builder's thread ---------------------------------------------------------------
    def _write_chunks(
        self, table: str, session_id: str, rows: Sequence[Any], put: RowWriter
    ) -> None:
        in_flight: Future[None] | None = None
        try:
            for start in range(0, len(rows), CHUNK_ROWS):
                chunk = rows[start : start + CHUNK_ROWS]
                buffer = self._build(chunk, put, table, session_id)
                if in_flight is not None:
                    in_flight.result()  # raises StoreWriteFailed: the rest is not attempted
                in_flight = self._flusher.submit(self._flush, buffer, len(chunk), table, session_id)
        finally:
            if in_flight is not None:
                in_flight.result()

    def _build(self, chunk: Sequence[Any], put: RowWriter, table: str, session_id: str) -> Buffer:
        buffer = self._factory.new_buffer()
        try:
            for row in chunk:
                put(buffer, row)
        except QuestDBError as exc:  # a value ILP cannot carry: no retry can help
            log.error(
                "store.write.failed",
                session_id=session_id,
                table=table,
                rows=len(chunk),
                attempts=0,
                error=str(exc),
            )
            raise StoreWriteFailed(
                f"rows for {table} cannot be written: {exc}",
                session_id=session_id,
                details={"table": table, "rows": len(chunk)},
            ) from exc
        return buffer

    # on the flusher's thread ---------------------------------------------------------------
    def _flush(self, buffer: Buffer, count: int, table: str, session_id: str) -> None:
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.1
        attempt = 0
        while True:
            attempt += 1
            try:
                self._connected().flush(buffer, clear=False)
                if attempt > 1:
                    log.info(
                        "store.write.recovered",
                        session_id=session_id,
                        table=table,
                        rows=count,
                        attempts=attempt,
                    )
                return
            except QuestDBError as exc:
                self._drop_sender()
                remaining = deadline - time.monotonic()
                if is_permanent(exc) or remaining <= 0:
                    log.error(
                        "store.write.failed",
                        session_id=session_id,
                        table=table,
                        rows=count,
                        attempts=attempt,
                        error=str(exc),
                    )
                    raise StoreWriteFailed(
                        f"writing {count} rows to {table} failed after {attempt} attempts: {exc}",
                        session_id=session_id,
                        details={"table": table, "rows": count, "attempts": attempt},
                    ) from exc
                log.warning(
                    "store.write.retry",
                    session_id=session_id,
                    table=table,
                    rows=count,
                    attempt=attempt,
                    error=str(exc),
                )
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 2.0)

    def _connected(self) -> Sender:
        if self._sender is None:
            sender = Sender.from_conf(self._conf)
            sender.establish()  # type: ignore[no-untyped-call]  # unannotated in the stubs
            self._sender = sender
        return self._sender

    def _drop_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            try:
                sender.close(flush=False)
            except QuestDBError:
                pass


# row builders: one per table -----------------------------------------------------------------
def _at(ts: int) -> Any:
    """``Buffer.row(at=...)`` takes TimestampMicros; the client's stubs list only TimestampNanos
    and datetime (hence ``Any``)."""
    return TimestampMicros(ts)


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    """ILP writes NULL by leaving a column out."""
    return {k: v for k, v in values.items() if v is not None}


def trade_row(source: str) -> RowWriter:
    tags: dict[
        tuple[str, str], dict[str, str | None]
    ] = {}  # one dict per (symbol, side): the hot path

    def put(buffer: Buffer, t: Trade) -> None:
        symbols = tags.get((t.symbol, t.side))
        if symbols is None:
            symbols = tags[(t.symbol, t.side)] = {
                "source": source,
                "symbol": t.symbol,
                "side": t.side,
            }
        columns: dict[str, Any] = {
            "trade_id": t.trade_id,
            "price": t.price,  # ints cast too
            "qty": t.qty,
        }
        key = tie_key(t.trade_id)
        if key is not None:
            columns["tie_key"] = key
        buffer.row(
            "trades",
            symbols=symbols,
            columns=columns,
            at=TimestampMicros(t.ts),  # type: ignore[arg-type]  # stubs gap, see _at
        )

    return put


def candle_row(source: str) -> RowWriter:
    def put(buffer: Buffer, c: Candle) -> None:
        buffer.row(
            "candles",
            symbols={"source": source, "symbol": c.symbol},
            columns={
                "interval": int(c.interval),
                "open": float(c.open),
                "high": float(c.high),
                "low": float(c.low),
                "close": float(c.close),
                "volume": float(c.volume),
            },
            at=_at(c.ts),
        )

    return put


def book_row(source: str) -> RowWriter:
    def put(buffer: Buffer, b: BookSnapshot) -> None:
        buffer.row(
            "books",
            symbols={"source": source, "symbol": b.symbol},
            columns={"bids": json.dumps(b.bids), "asks": json.dumps(b.asks)},
            at=_at(b.ts),
        )

    return put


def put_order(buffer: Buffer, o: OrderRecord) -> None:
    buffer.row(
        "orders",
        symbols={
            "session_id": o.session_id,
            "symbol": o.symbol,
            "side": o.side,
            "type": o.type,
            "status": o.status,
        },
        columns=_without_none(
            {
                "order_id": o.order_id,
                "qty": float(o.qty),
                "price": _float(o.price),
                "stop_price": _float(o.stop_price),
                "filled_qty": float(o.filled_qty),
                "avg_fill_price": _float(o.avg_fill_price),
                "created_ts": int(o.created_ts),
                "client_order_id": o.client_order_id,
                "reason": o.reason,
            }
        ),
        at=_at(o.ts),
    )


def put_fill(buffer: Buffer, f: Fill) -> None:
    buffer.row(
        "fills",
        symbols={
            "session_id": f.session_id,
            "symbol": f.symbol,
            "side": f.side,
            "liquidity": f.liquidity,
        },
        columns={
            "fill_id": f.fill_id,
            "order_id": f.order_id,
            "qty": float(f.qty),
            "price": float(f.price),
            "fee": float(f.fee),
        },
        at=_at(f.ts),
    )


def put_position(buffer: Buffer, p: PositionRecord) -> None:
    buffer.row(
        "positions",
        symbols={"session_id": p.session_id, "symbol": p.symbol},
        columns={name: float(getattr(p, name)) for name in _POSITION_VALUES},
        at=_at(p.ts),
    )


def put_equity(buffer: Buffer, e: EquityPoint) -> None:
    buffer.row(
        "equity",
        symbols={"session_id": e.session_id},
        columns={name: float(getattr(e, name)) for name in _EQUITY_VALUES},
        at=_at(e.ts),
    )


def funding_rate_row(source: str) -> RowWriter:
    def put(buffer: Buffer, f: FundingRate) -> None:
        buffer.row(
            "funding_rates",
            symbols={"source": source, "symbol": f.symbol},
            columns=_without_none({"rate": float(f.rate), "mark_price": _float(f.mark_price)}),
            at=_at(f.ts),
        )

    return put


def mark_row(source: str) -> RowWriter:
    def put(buffer: Buffer, m: MarkPrice) -> None:
        buffer.row(
            "mark_prices",
            symbols={"source": source, "symbol": m.symbol},
            columns={"price": float(m.price)},
            at=_at(m.ts),
        )

    return put


def put_funding(buffer: Buffer, p: FundingPayment) -> None:
    buffer.row(
        "funding",
        symbols={"session_id": p.session_id, "symbol": p.symbol, "price_source": p.price_source},
        columns={name: float(getattr(p, name)) for name in _FUNDING_VALUES},
        at=_at(p.ts),
    )


_FUNDING_VALUES = ("rate", "qty", "mark_price", "amount")
_POSITION_VALUES = ("qty", "avg_price", "mark_price", "realized_pnl", "unrealized_pnl", "fees")
_EQUITY_VALUES = ("equity", "cash", "unrealized_pnl", "realized_pnl", "fees")


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def sessions_of(rows: Iterable[Any]) -> str:
    """The session id a batch of trading-record rows belongs to (for errors and logs)."""
    ids = sorted({row.session_id for row in rows})
    return ids[0] if len(ids) == 1 else ",".join(ids)

"""Historical candles (ccxt's REST ``fetch_ohlcv``) and perpetuals' funding rates
(``fetch_funding_rate_history``) into a named dataset: paged and resumable.

Each page is written and the dataset's description updated before the next page is asked for,
so an interrupted download (network gone, Ctrl-C) keeps what it got and the same command run
again continues after the last stored bar. Only closed bars are stored: the bar still forming
at the exchange is left for the next run.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ccxt
import structlog

from papertape.domain.errors import UnknownSymbol, ValidationFailed
from papertape.domain.funding import FundingRate
from papertape.domain.market import MICROS, Candle
from papertape.domain.records import Dataset, check_dataset_name
from papertape.market.exchange.backoff import Backoff
from papertape.market.exchange.connector import ExchangeHub, default_hub, describe
from papertape.market.exchange.errors import (
    ExchangeRejected,
    ExchangeUnavailable,
    ExchangeUnsupported,
    InvalidTimeframe,
)
from papertape.market.exchange.symbols import to_ccxt
from papertape.store.base import MarketDataStore

log = structlog.get_logger("papertape.exchange.download")

PAGE_LIMIT = 1000
NETWORK_RETRIES = 6


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    pages: int
    rows: int
    cursor_ts: int  # µs: the next bar asked for
    end_ts: int  # µs: where the download stops


@dataclass(frozen=True, slots=True)
class DownloadResult:
    dataset: Dataset
    rows_added: int
    pages: int
    resumed_from: int | None  # µs: the bar the run started from when it continued a dataset


def default_dataset_name(exchange_id: str, market_type: str, symbol: str, timeframe: str) -> str:
    return f"{exchange_id}_{market_type}_{symbol}_{timeframe}"


def timeframe_seconds(timeframe: str) -> int:
    try:
        return int(ccxt.Exchange.parse_timeframe(timeframe))
    except Exception:
        raise InvalidTimeframe(
            f"invalid timeframe {timeframe!r} (examples: 1m, 5m, 1h, 1d)",
            details=[{"field": "timeframe", "message": f"invalid timeframe {timeframe!r}"}],
        ) from None


async def download_candles(
    store: MarketDataStore,
    *,
    exchange_id: str,
    symbol: str,
    timeframe: str,
    since: int,
    until: int | None = None,
    market_type: str = "spot",
    dataset: str | None = None,
    hub: ExchangeHub | None = None,
    page_limit: int = PAGE_LIMIT,
    on_page: Callable[[DownloadProgress], None] | None = None,
    retries: int = NETWORK_RETRIES,
) -> DownloadResult:
    """Fill dataset ``dataset`` with ``symbol``'s closed ``timeframe`` bars from ``since`` (µs)
    to ``until`` (µs, default now). Continues an existing dataset of the same series."""
    hub = hub or default_hub()
    interval = timeframe_seconds(timeframe)
    span = interval * MICROS
    name = check_dataset_name(
        dataset or default_dataset_name(exchange_id, market_type, symbol, timeframe)
    )
    unified = to_ccxt(symbol, market_type)
    markets = await hub.markets(exchange_id)
    hub.check_symbols(exchange_id, market_type, [symbol], markets)
    exchange = hub.create(exchange_id, market_type)
    try:
        _require_ohlcv(exchange, exchange_id, timeframe)
        existing = await store.get_dataset(name)
        _check_same_series(existing, name, symbol, interval)
        now = time.time_ns() // 1_000
        end = min(until or now, now - now % span)  # the bar at ``end`` is still forming
        cursor = since - since % span
        resumed_from = None
        if existing is not None and existing.end_ts is not None and existing.end_ts >= cursor:
            cursor = resumed_from = existing.end_ts + span
        base = existing or Dataset(
            name=name,
            kind="candles",
            symbols=(symbol,),
            rows=0,
            start_ts=None,
            end_ts=None,
            created_at=now,
            interval=interval,
            origin=f"ccxt:{exchange_id}:{unified}:{timeframe}",
        )

        async def page(cursor: int) -> list[Candle]:
            rows = await _fetch_page(
                functools.partial(
                    exchange.fetch_ohlcv,
                    unified,
                    timeframe,
                    since=cursor // 1_000,
                    limit=page_limit,
                ),
                exchange_id,
                unified,
                retries,
                "candle",
            )
            return [
                Candle(
                    int(r[0]) * 1_000,
                    symbol,
                    interval,
                    float(r[1]),
                    float(r[2]),
                    float(r[3]),
                    float(r[4]),
                    float(r[5] or 0.0),
                )
                for r in rows
                if r[0] is not None and cursor <= int(r[0]) * 1_000 < end
            ]

        paging = _Paging(store, store.write_candles, base, end, step=span, on_page=on_page)
        return await paging.run(page, cursor, resumed_from, exchange_id)
    finally:
        await _close(exchange)


class _Paging:
    """The download loop both kinds share: fetch a page from the cursor, file it, move the
    dataset record and the cursor past it (``step`` after its last row), until ``end`` or an
    empty page. The record is saved after every page, so an interrupted download continues."""

    def __init__(
        self,
        store: MarketDataStore,
        write: Callable[[str, Sequence[Any]], Awaitable[None]],
        base: Dataset,
        end: int,
        *,
        step: int,
        on_page: Callable[[DownloadProgress], None] | None,
    ):
        self.store, self.write, self.base, self.end = store, write, base, end
        self.step, self.on_page = step, on_page

    async def run(
        self,
        page: Callable[[int], Awaitable[Sequence[Any]]],
        cursor: int,
        resumed_from: int | None,
        exchange_id: str,
    ) -> DownloadResult:
        base, name = self.base, self.base.name
        pages = added = 0
        while cursor < self.end:
            rows = await page(cursor)
            if not rows:
                break
            await self.write(name, rows)
            pages += 1
            added += len(rows)
            base = base._replace(
                rows=base.rows + len(rows),
                start_ts=rows[0].ts if base.start_ts is None else min(base.start_ts, rows[0].ts),
                end_ts=rows[-1].ts if base.end_ts is None else max(base.end_ts, rows[-1].ts),
            )
            await self.store.save_dataset(base)
            cursor = rows[-1].ts + self.step
            if self.on_page is not None:
                self.on_page(DownloadProgress(pages, base.rows, cursor, self.end))
        log.info("download.done", dataset=name, rows_added=added, pages=pages, exchange=exchange_id)
        return DownloadResult(base, added, pages, resumed_from)


async def _close(exchange: Any) -> None:
    try:
        await exchange.close()
    except Exception as exc:
        log.warning("download.close_failed", error=describe(exc))


def _require_ohlcv(exchange: Any, exchange_id: str, timeframe: str) -> None:
    if not (getattr(exchange, "has", {}) or {}).get("fetchOHLCV"):
        raise ExchangeUnsupported(f"{exchange_id} offers no candle history (fetchOHLCV) in ccxt")
    timeframes = getattr(exchange, "timeframes", None)
    if timeframes and timeframe not in timeframes:
        raise InvalidTimeframe(
            f"{exchange_id} has no {timeframe} candles; it has {', '.join(timeframes)}",
            details=[{"field": "timeframe", "message": f"not offered by {exchange_id}"}],
        )


def _check_same_series(
    existing: Dataset | None, name: str, symbol: str, interval: int | None, kind: str = "candles"
) -> None:
    if existing is None:
        return
    if (
        existing.kind != kind
        or existing.interval != interval
        or tuple(existing.symbols) != (symbol,)
    ):
        raise ValidationFailed(
            f"dataset {name!r} already holds other data ({existing.kind}, {', '.join(existing.symbols)}, "
            f"interval {existing.interval}); choose another --dataset name",
            details=[{"field": "dataset", "message": "exists with different content"}],
        )


async def _fetch_page(
    request: Callable[[], Awaitable[list[Any]]],
    exchange_id: str,
    unified: str,
    retries: int,
    what: str,
) -> list[Any]:
    """One page of history; network failures retried with backoff, then reported."""
    backoff = Backoff(initial=1.0, maximum=30.0)
    attempt = 0
    while True:
        try:
            return await request()
        except ccxt.BadSymbol as exc:
            raise UnknownSymbol(f"{exchange_id} rejects {unified}: {describe(exc)}") from None
        except (TimeoutError, ccxt.NetworkError, OSError) as exc:
            if attempt == retries:
                raise ExchangeUnavailable(
                    f"{exchange_id} unreachable: {describe(exc)}; what was downloaded is kept, run "
                    "the same command again to continue",
                    details={"exchange": exchange_id},
                ) from None
            attempt += 1
            delay = backoff.next()
            log.warning(
                "download.retry", error=describe(exc), attempt=attempt, delay=round(delay, 2)
            )
            await asyncio.sleep(delay)
        except ccxt.ExchangeError as exc:
            raise ExchangeRejected(
                f"{exchange_id} refused the {what} request: {describe(exc)}"
            ) from None


async def download_funding(
    store: MarketDataStore,
    *,
    exchange_id: str,
    symbol: str,
    since: int,
    until: int | None = None,
    dataset: str | None = None,
    hub: ExchangeHub | None = None,
    page_limit: int = PAGE_LIMIT,
    on_page: Callable[[DownloadProgress], None] | None = None,
    retries: int = NETWORK_RETRIES,
) -> DownloadResult:
    """Fill dataset ``dataset`` with the perpetual ``symbol``'s funding rates from ``since`` (µs)
    to ``until`` (µs, default now), through ccxt's ``fetch_funding_rate_history``. Continues an
    existing funding dataset of the same symbol. The settlement mark price is kept when the
    exchange gives one (Binance's ``markPrice``)."""
    hub = hub or default_hub()
    name = check_dataset_name(
        dataset or default_dataset_name(exchange_id, "swap", symbol, "funding")
    )
    unified = to_ccxt(symbol, "swap")
    markets = await hub.markets(exchange_id)
    hub.check_symbols(exchange_id, "swap", [symbol], markets)
    exchange = hub.create(exchange_id, "swap")
    try:
        _require_funding_history(exchange, exchange_id)
        existing = await store.get_dataset(name)
        _check_same_series(existing, name, symbol, None, kind="funding")
        now = time.time_ns() // 1_000
        end = min(until or now, now)
        cursor = since
        resumed_from = None
        if existing is not None and existing.end_ts is not None and existing.end_ts >= cursor:
            cursor = resumed_from = existing.end_ts + 1
        base = existing or Dataset(
            name=name,
            kind="funding",
            symbols=(symbol,),
            rows=0,
            start_ts=None,
            end_ts=None,
            created_at=now,
            origin=f"ccxt:{exchange_id}:{unified}:funding",
        )

        async def page(cursor: int) -> list[FundingRate]:
            return await _funding_page(
                exchange, exchange_id, symbol, cursor, end, page_limit=page_limit, retries=retries
            )

        paging = _Paging(store, store.write_funding, base, end, step=1, on_page=on_page)
        return await paging.run(page, cursor, resumed_from, exchange_id)
    finally:
        await _close(exchange)


async def funding_history(
    exchange: Any,
    exchange_id: str,
    symbol: str,
    start: int,
    end: int,
    *,
    page_limit: int = PAGE_LIMIT,
    retries: int = NETWORK_RETRIES,
) -> list[FundingRate]:
    """The perpetual ``symbol``'s funding rates at funding times in ``[start, end)`` (µs), paged
    from ``exchange`` (a ccxt client) as the download pages them; raises ``ExchangeUnavailable``
    / ``ExchangeRejected`` / ``UnknownSymbol`` when the exchange cannot answer."""
    _require_funding_history(exchange, exchange_id)
    rates: list[FundingRate] = []
    cursor = start
    while cursor < end:
        page = await _funding_page(
            exchange, exchange_id, symbol, cursor, end, page_limit=page_limit, retries=retries
        )
        if not page:
            break
        rates.extend(page)
        cursor = page[-1].ts + 1
    return rates


def _require_funding_history(exchange: Any, exchange_id: str) -> None:
    if not (getattr(exchange, "has", {}) or {}).get("fetchFundingRateHistory"):
        raise ExchangeUnsupported(
            f"{exchange_id} offers no funding rate history (fetchFundingRateHistory) in ccxt"
        )


async def _funding_page(
    exchange: Any,
    exchange_id: str,
    symbol: str,
    cursor: int,
    end: int,
    *,
    page_limit: int,
    retries: int,
) -> list[FundingRate]:
    """One page of funding rates from ``cursor`` (µs), those before ``end``, in time order."""
    unified = to_ccxt(symbol, "swap")
    entries = await _fetch_page(
        functools.partial(
            exchange.fetch_funding_rate_history,
            unified,
            since=-(-cursor // 1_000),
            limit=page_limit,
        ),
        exchange_id,
        unified,
        retries,
        "funding rate",
    )
    rates = sorted(
        (rate for entry in entries if (rate := _funding_rate(entry, symbol)) is not None),
        key=lambda r: r.ts,
    )
    return [r for r in rates if cursor <= r.ts < end]


def _funding_rate(entry: dict[str, Any], symbol: str) -> FundingRate | None:
    """A ccxt funding-history entry → ``FundingRate`` (``None`` without time or rate)."""
    ts, rate = entry.get("timestamp"), entry.get("fundingRate")
    if ts is None or rate is None:
        return None
    info = entry.get("info") or {}
    mark = entry.get("markPrice") or info.get("markPrice")
    mark_price = float(mark) if mark not in (None, "") and float(mark) > 0 else None
    return FundingRate(int(ts) * 1_000, symbol, float(rate), mark_price)

"""``papertape data download``: historical candles, or a perpetual's funding rates
(``--kind funding``), from an exchange's REST API into a dataset, with a progress bar; run it
again to continue an interrupted download. ``--exchange-url`` sends every request of the ccxt
client to another server (a recorder or replay of the exchange) instead of the exchange."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from papertape.domain.errors import PapertapeError, ValidationFailed
from papertape.domain.market import iso, to_micros
from papertape.domain.symbols import canonical
from papertape.store import DEFAULT_STORE_URL, open_store

if TYPE_CHECKING:
    from papertape.market.exchange.download import DownloadProgress, DownloadResult

console = Console()
errors = Console(stderr=True)


def parse_day_or_time(text: str, field: str) -> int:
    """``2024-01-01`` or ``2024-01-01T12:00[:00]`` (UTC unless an offset is given) → µs."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"--{field} must be a date or time such as 2024-01-01 or 2024-01-01T12:00, not {text!r}",
            details=[{"field": field, "message": "not an ISO date"}],
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_micros(moment)


def data_download(
    symbol: Annotated[str, typer.Option(help="canonical symbol, e.g. BTC_USDT")],
    since: Annotated[
        str, typer.Option(help="first bar or funding time, UTC: 2024-01-01 or 2024-01-01T12:00")
    ],
    exchange: Annotated[str, typer.Option(help="a ccxt exchange id")] = "mexc",
    timeframe: Annotated[str, typer.Option(help="bar length: 1m, 5m, 1h, 1d, ...")] = "1m",
    until: Annotated[
        str | None, typer.Option(help="stop before this moment (default: now)")
    ] = None,
    market_type: Annotated[str, typer.Option("--market-type", help="spot or swap")] = "spot",
    kind: Annotated[
        str, typer.Option(help="candles, or funding (a perpetual's funding rates: swap)")
    ] = "candles",
    exchange_url: Annotated[
        str | None,
        typer.Option(help="send the exchange's requests to this http://host:port instead"),
    ] = None,
    dataset: Annotated[
        str | None, typer.Option(help="dataset name (default EXCHANGE_TYPE_SYMBOL_TF)")
    ] = None,
    store: Annotated[str, typer.Option("--store", envvar="PAPERTAPE_STORE")] = DEFAULT_STORE_URL,
) -> None:
    """Download historical candles or funding rates through ccxt into a dataset (paged,
    resumable)."""
    try:
        if kind not in ("candles", "funding"):
            raise ValueError(f"--kind must be candles or funding, not {kind!r}")
        if kind == "funding" and market_type != "swap":
            raise ValueError("funding rates belong to perpetuals: add --market-type swap")
        request = _Request(
            exchange,
            canonical(symbol),
            kind,
            timeframe,
            since,
            until,
            market_type,
            dataset,
            store,
            exchange_url,
        )
        result = asyncio.run(_download(request))
    except ValueError as exc:
        errors.print(f"[red]error[/red] [bold]validation_error[/bold]: {exc}")
        raise typer.Exit(1) from None
    except PapertapeError as exc:
        errors.print(f"[red]error[/red] [bold]{exc.code}[/bold]: {exc.message}")
        raise typer.Exit(1) from None
    data = result.dataset
    unit = "bars" if kind == "candles" else "funding rates"
    resumed = f" (continued from {iso(result.resumed_from)})" if result.resumed_from else ""
    console.print(
        f"[bold]{data.name}[/bold]: +{result.rows_added} {unit} in {result.pages} pages"
        f"{resumed}; {data.rows} {unit} {iso(data.start_ts)} → {iso(data.end_ts)}"
    )


@dataclass(frozen=True, slots=True)
class _Request:
    exchange: str
    symbol: str
    kind: str
    timeframe: str
    since: str
    until: str | None
    market_type: str
    dataset: str | None
    store_url: str
    exchange_url: str | None


async def _download(request: _Request) -> DownloadResult:
    from papertape.market.exchange.connector import ExchangeHub, ccxt_factory, default_hub
    from papertape.market.exchange.download import download_candles, download_funding
    from papertape.market.exchange.urls import redirected

    start = parse_day_or_time(request.since, "since")
    end = parse_day_or_time(request.until, "until") if request.until else None
    hub = (
        ExchangeHub(redirected(ccxt_factory, request.exchange_url))
        if request.exchange_url
        else default_hub()
    )
    exchange, symbol = request.exchange, request.symbol
    store = await open_store(request.store_url)
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]} bars"),
            TextColumn("{task.fields[at]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            label = request.timeframe if request.kind == "candles" else "funding"
            task = progress.add_task(f"{exchange} {symbol} {label}", total=None, rows=0, at="")

            def on_page(p: DownloadProgress) -> None:
                progress.update(
                    task,
                    total=p.end_ts - start,
                    completed=p.cursor_ts - start,
                    rows=p.rows,
                    at=iso(p.cursor_ts),
                )

            if request.kind == "funding":
                return await download_funding(
                    store,
                    exchange_id=exchange,
                    symbol=symbol,
                    since=start,
                    until=end,
                    dataset=request.dataset,
                    hub=hub,
                    on_page=on_page,
                )
            return await download_candles(
                store,
                exchange_id=exchange,
                symbol=symbol,
                timeframe=request.timeframe,
                since=start,
                until=end,
                market_type=request.market_type,
                dataset=request.dataset,
                hub=hub,
                on_page=on_page,
            )
    finally:
        await store.close()

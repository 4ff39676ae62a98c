"""``papertape data download``: historical candles from an exchange's REST API into a dataset,
with a progress bar; run it again to continue an interrupted download."""

from __future__ import annotations

import asyncio
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
    since: Annotated[str, typer.Option(help="first bar, UTC: 2024-01-01 or 2024-01-01T12:00")],
    exchange: Annotated[str, typer.Option(help="a ccxt exchange id")] = "mexc",
    timeframe: Annotated[str, typer.Option(help="bar length: 1m, 5m, 1h, 1d, ...")] = "1m",
    until: Annotated[
        str | None, typer.Option(help="stop before this moment (default: now)")
    ] = None,
    market_type: Annotated[str, typer.Option("--market-type", help="spot or swap")] = "spot",
    dataset: Annotated[
        str | None, typer.Option(help="dataset name (default EXCHANGE_TYPE_SYMBOL_TF)")
    ] = None,
    store: Annotated[str, typer.Option("--store", envvar="PAPERTAPE_STORE")] = DEFAULT_STORE_URL,
) -> None:
    """Download historical candles through ccxt into a dataset (paged, resumable)."""
    try:
        result = asyncio.run(
            _download(
                exchange, canonical(symbol), timeframe, since, until, market_type, dataset, store
            )
        )
    except ValueError as exc:
        errors.print(f"[red]error[/red] [bold]validation_error[/bold]: {exc}")
        raise typer.Exit(1) from None
    except PapertapeError as exc:
        errors.print(f"[red]error[/red] [bold]{exc.code}[/bold]: {exc.message}")
        raise typer.Exit(1) from None
    data = result.dataset
    resumed = f" (continued from {iso(result.resumed_from)})" if result.resumed_from else ""
    console.print(
        f"[bold]{data.name}[/bold]: +{result.rows_added} bars in {result.pages} pages{resumed}; "
        f"{data.rows} bars {iso(data.start_ts)} → {iso(data.end_ts)}"
    )


async def _download(
    exchange: str,
    symbol: str,
    timeframe: str,
    since: str,
    until: str | None,
    market_type: str,
    dataset: str | None,
    store_url: str,
) -> DownloadResult:
    from papertape.market.exchange.download import download_candles

    start = parse_day_or_time(since, "since")
    end = parse_day_or_time(until, "until") if until else None
    store = await open_store(store_url)
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]} bars"),
            TextColumn("{task.fields[at]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(f"{exchange} {symbol} {timeframe}", total=None, rows=0, at="")

            def on_page(p: DownloadProgress) -> None:
                progress.update(
                    task,
                    total=p.end_ts - start,
                    completed=p.cursor_ts - start,
                    rows=p.rows,
                    at=iso(p.cursor_ts),
                )

            return await download_candles(
                store,
                exchange_id=exchange,
                symbol=symbol,
                timeframe=timeframe,
                since=start,
                until=end,
                market_type=market_type,
                dataset=dataset,
                on_page=on_page,
            )
    finally:
        await store.close()

"""``papertape``: serve the platform, control sessions, manage data."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from papertape.cli.backtest import backtest
from papertape.cli.client import ServerError, call, server_url
from papertape.cli.collect import collect
from papertape.cli.download import data_download
from papertape.cli.sweep import sweep
from papertape.domain.errors import PapertapeError
from papertape.store import DEFAULT_STORE_URL, open_store

app = typer.Typer(help="papertape: crypto trading sessions.", no_args_is_help=True)
sessions_app = typer.Typer(help="List, inspect and stop sessions on a running server.")
data_app = typer.Typer(help="Datasets: import files, list what is recorded.")
app.add_typer(sessions_app, name="sessions")
app.add_typer(data_app, name="data")
app.command("backtest")(backtest)
app.command("collect")(collect)
app.command("sweep")(sweep)
data_app.command("download")(data_download)

console = Console()
errors = Console(stderr=True)

StoreOption = Annotated[
    str,
    typer.Option("--store", envvar="PAPERTAPE_STORE", help="sqlite:///PATH or questdb://HOST:PORT"),
]
ServerOption = Annotated[
    str | None,
    typer.Option("--server", envvar="PAPERTAPE_URL", help=f"default {server_url(None)}"),
]


def fail(error: PapertapeError) -> None:
    errors.print(f"[red]error[/red] [bold]{error.code}[/bold]: {error.message}")
    if error.details:
        errors.print(error.details)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="PAPERTAPE_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PAPERTAPE_PORT")] = 8080,
    store: StoreOption = DEFAULT_STORE_URL,
    enable_live: Annotated[
        bool, typer.Option("--enable-live", help="allow mode=live sessions (needs keys)")
    ] = False,
    log_level: Annotated[str, typer.Option(envvar="PAPERTAPE_LOG_LEVEL")] = "info",
    engine_workers: Annotated[
        bool,
        typer.Option(
            envvar="PAPERTAPE_ENGINE_WORKERS",
            help="run backtests in worker processes (--no-engine-workers: in the server's)",
        ),
    ] = True,
) -> None:
    """Serve the API, /ws and the dashboard."""
    import uvicorn

    from papertape.api.app import AppSettings, create_app
    from papertape.api.auth import is_loopback
    from papertape.logs import configure_logging

    configure_logging(log_level)
    token = os.environ.get("PAPERTAPE_API_TOKEN") or None
    if not is_loopback(host) and token is None:
        errors.print(
            f"[red]refusing to listen on {host}[/red]: beyond loopback every call needs a token. "
            "Set PAPERTAPE_API_TOKEN (clients send 'Authorization: Bearer <token>')."
        )
        raise typer.Exit(2)
    settings = AppSettings(
        store_url=store,
        api_token=token,
        host=host,
        live_enabled=enable_live,
        engine_workers=engine_workers,
    )
    console.print(f"papertape on [bold]http://{host}:{port}[/bold] (store {store})")
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="warning", ws="websockets-sansio"
    )


# sessions --------------------------------------------------------------------------------------
def _session_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("session", "state", "mode", "symbols", "feed", "created", "ended", "reason")
    for s in rows:
        feed = (s.get("feed") or {}).get("state", "")
        reason = s.get("stop_reason") or s.get("error_code") or ""
        table.add_row(
            s["session_id"],
            s["state"],
            s["mode"],
            ",".join(s["symbols"]),
            feed,
            s["created_at"],
            s.get("ended_at") or "",
            reason,
        )
    return table


@sessions_app.command("list")
def sessions_list(
    server: ServerOption = None,
    state: Annotated[str | None, typer.Option()] = None,
    mode: Annotated[str | None, typer.Option()] = None,
    symbol: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
) -> None:
    """Sessions, newest first."""
    params = {
        k: v for k, v in dict(state=state, mode=mode, symbol=symbol, limit=limit).items() if v
    }
    try:
        body = call(server_url(server), "GET", "/sessions", params=params)
    except ServerError as exc:
        fail(exc)
    data = body["data"]
    console.print(_session_table(data["sessions"]))
    console.print(f"{len(data['sessions'])} of {data['total']}")


@sessions_app.command("show")
def sessions_show(session_id: str, server: ServerOption = None) -> None:
    """One session in full."""
    try:
        body = call(server_url(server), "GET", f"/sessions/{session_id}")
    except ServerError as exc:
        fail(exc)
    console.print_json(data=body["data"])


@sessions_app.command("stop")
def sessions_stop(session_id: str, server: ServerOption = None) -> None:
    """Stop a session; answers once it has stopped."""
    try:
        body = call(server_url(server), "POST", "/sessions/stop", json={"session_id": session_id})
    except ServerError as exc:
        fail(exc)
    data = body["data"]
    if data["stopped_via"] == "already_stopped":
        console.print(f"{session_id} was already {data['final_state']}")
    else:
        console.print(f"{session_id} {data['final_state']}")


@sessions_app.command("stop-all")
def sessions_stop_all(
    server: ServerOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Emergency stop: stop every session that has not ended."""
    if not yes:
        typer.confirm("Stop every running session?", abort=True)
    try:
        body = call(server_url(server), "POST", "/sessions/stop_all")
    except ServerError as exc:
        fail(exc)
    for item in body["data"]["stopped"]:
        console.print(f"{item['session_id']} {item['final_state']}")
    console.print(f"{body['data']['count']} session(s) stopped")


# data ------------------------------------------------------------------------------------------
@data_app.command("import")
def data_import(
    file: Annotated[str, typer.Argument(help="CSV, JSON or Parquet, optionally .gz")],
    name: Annotated[str, typer.Option(help="the dataset's name")],
    symbol: Annotated[
        str | None, typer.Option(help="e.g. BTC_USDT, when the file has none")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="trades, candles or book (auto-detected)")
    ] = None,
    store: StoreOption = DEFAULT_STORE_URL,
) -> None:
    """Import a market-data file into the store as a named dataset."""
    from papertape.domain.records import check_dataset_name
    from papertape.market.dataset_import import import_dataset

    async def run() -> Any:
        opened = await open_store(store)
        try:
            return await import_dataset(opened, file, check_dataset_name(name), symbol, kind)
        finally:
            await opened.close()

    try:
        dataset = asyncio.run(run())
    except PapertapeError as exc:
        fail(exc)
    console.print(
        f"imported [bold]{dataset.name}[/bold]: {dataset.rows} {dataset.kind} rows of "
        f"{', '.join(dataset.symbols)}"
    )


@data_app.command("list")
def data_list(store: StoreOption = DEFAULT_STORE_URL) -> None:
    """The datasets in the store."""

    async def run() -> Any:
        opened = await open_store(store)
        try:
            return await opened.list_datasets()
        finally:
            await opened.close()

    table = Table("name", "kind", "symbols", "rows", "interval", "origin")
    for d in asyncio.run(run()):
        table.add_row(
            d.name, d.kind, ",".join(d.symbols), str(d.rows), str(d.interval or ""), d.origin
        )
    console.print(table)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())

"""``papertape collect``: start a collect session on the running server and show its progress
live (feed state, rows written and failed) until it ends; Ctrl-C stops it.

The session runs in the server, like every session, so the dashboard and ``papertape sessions``
see the same one and a server restart resumes it.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from papertape.cli.client import ServerError, call, server_url

console = Console()
errors = Console(stderr=True)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
TERMINAL = {"stopped", "completed", "failed"}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``1h``, ``2d`` → seconds."""
    match = _DURATION.match(text.lower())
    if not match or float(match.group(1)) <= 0:
        raise typer.BadParameter(f"{text!r} is not a duration such as 90s, 15m, 1h or 2d")
    return float(match.group(1)) * _UNIT[match.group(2)]


def progress_table(session: dict[str, Any]) -> Table:
    feed = session.get("feed") or {}
    counters = session.get("counters") or {}
    table = Table(title=f"{session['session_id']} · {session['state']}", show_header=False)
    table.add_row("feed", f"{feed.get('state', '?')} {feed.get('message', '')}".strip())
    table.add_row("reconnects / gaps", f"{feed.get('reconnects', 0)} / {feed.get('gaps', 0)}")
    for label in ("rows_written", "rows_failed", "rows_pending"):
        if label in counters:
            value = counters[label]
            table.add_row(
                label.replace("_", " "),
                ", ".join(f"{k} {v}" for k, v in value.items())
                if isinstance(value, dict)
                else str(value),
            )
    for symbol, info in (feed.get("symbols") or {}).items():
        table.add_row(
            symbol,
            f"{info.get('state')}: {info.get('trades', 0)} trades, {info.get('books', 0)} books",
        )
    return table


def collect(
    symbol: Annotated[
        list[str],
        typer.Option("--symbol", help="repeat for several: --symbol BTC_USDT --symbol ETH_USDT"),
    ],
    duration: Annotated[
        str | None, typer.Option(help="e.g. 90s, 15m, 1h, 2d (default: until stopped)")
    ] = None,
    exchange: Annotated[str, typer.Option(help="a ccxt exchange id")] = "mexc",
    market_type: Annotated[str, typer.Option("--market-type", help="spot or swap")] = "spot",
    server: Annotated[str | None, typer.Option("--server", envvar="PAPERTAPE_URL")] = None,
    label: Annotated[str | None, typer.Option(help="a note shown with the session")] = None,
) -> None:
    """Record live trades and order-book snapshots as a collect session, with live progress."""
    url = server_url(server)
    body: dict[str, Any] = {
        "mode": "collect",
        "symbols": symbol,
        "market": {"source": "exchange", "exchange": exchange, "market_type": market_type},
    }
    if duration:
        body["duration_seconds"] = parse_duration(duration)
    if label:
        body["label"] = label
    try:
        session = call(url, "POST", "/sessions/start", json=body)["data"]
    except ServerError as exc:
        _fail(exc)
    session_id = session["session_id"]
    console.print(f"collecting into [bold]{session_id}[/bold] (Ctrl-C stops it)")
    try:
        with Live(progress_table(session), console=console, refresh_per_second=2) as live:
            while session["state"] not in TERMINAL:
                time.sleep(1.0)
                session = call(url, "GET", f"/sessions/{session_id}")["data"]
                live.update(progress_table(session))
    except KeyboardInterrupt:
        console.print("stopping…")
        try:
            session = {
                **session,
                "state": call(url, "POST", "/sessions/stop", json={"session_id": session_id})[
                    "data"
                ]["final_state"],
            }
        except ServerError as exc:
            _fail(exc)
    except ServerError as exc:
        _fail(exc)
    console.print(
        f"{session_id} {session['state']}"
        + (
            f": {session.get('error_code')} {session.get('error_message')}"
            if session.get("error_code")
            else ""
        )
    )
    if session["state"] == "failed":
        raise typer.Exit(1)


def _fail(exc: ServerError) -> None:
    errors.print(f"[red]error[/red] [bold]{exc.code}[/bold]: {exc.message}")
    if exc.details:
        errors.print(exc.details)
    raise typer.Exit(1)

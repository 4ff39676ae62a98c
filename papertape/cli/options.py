"""Command-line options more than one command takes, declared once: the same name, type and
help wherever they appear."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Symbol = Annotated[str, typer.Option(help="the symbol to trade, e.g. BTC_USDT")]
Strategy = Annotated[str, typer.Option(help="a built-in, example or saved strategy")]
DataFile = Annotated[
    Path | None,
    typer.Option(help="a candles or trades file (CSV, JSON, Parquet, optionally .gz)"),
]
DatasetName = Annotated[str | None, typer.Option(help="a stored dataset's name")]
Fee = Annotated[float, typer.Option(help="fee rate per fill (0.001 = 0.1 %)")]
Cash = Annotated[float, typer.Option(help="starting cash (quote currency)")]
SlippageBps = Annotated[float, typer.Option(help="slippage in basis points")]
AsJson = Annotated[bool, typer.Option("--json", help="print the results as JSON")]
StoreUrl = Annotated[
    str, typer.Option(envvar="PAPERTAPE_STORE", help="store URL (datasets, saved strategies)")
]

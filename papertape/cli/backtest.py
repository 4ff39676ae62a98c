"""``papertape backtest``: run a strategy over a file or a stored dataset, print the results.

    papertape backtest --data FILE|--dataset NAME --symbol BTC_USDT --strategy sma_cross \\
        --param fast=10 --param slow=30 [--fee 0.001] [--cash 10000] [--json] \
        [--market-type swap --leverage 2 --funding FILE|--funding-dataset NAME]
        [--margin-tiers FILE] [--liquidation-fee 0.0125] [--liquidation-close bankruptcy]

``--json`` prints ``{"metrics": {...}, "trades": [...]}``: ``metrics`` has ``final_equity``,
``total_return_pct``, ``max_drawdown_pct``, ``sharpe``, ``sortino``, ``trades`` (closed round
trips), ``win_rate_pct``, ``profit_factor``, ``exposure_pct``, ``fees``, ``funding`` (received,
negative = paid) and more; each trade has ``symbol, direction, entry_ts, exit_ts, qty,
entry_price, exit_price, pnl, fees, return_pct, funding`` (timestamps in µs UTC). A perpetual
(``--market-type swap``) pays or receives funding at each funding time of ``--funding`` (a file) or
``--funding-dataset`` that falls within the data, and is liquidated by the maintenance-margin tiers
of ``--margin-tiers`` (a JSON file of ccxt ``fetch_leverage_tiers`` rows for the symbol, or of
``{symbol: rows}``; Binance's BTCUSDT brackets without it), closed at its bankruptcy price (or
``--liquidation-close liquidation``) paying ``--liquidation-fee``. Entries are all-in (the whole available cash, fees included) unless the
strategy's parameters say otherwise; a market order decided on a bar fills at the next bar's open.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from papertape.cli import options
from papertape.domain.config import MarginConfig, StrategySpec
from papertape.domain.errors import DatasetNotFound, PapertapeError, ValidationFailed
from papertape.domain.funding import FundingRate, merge_funding
from papertape.domain.liquidation import BANKRUPTCY, DEFAULT_LIQUIDATION_FEE
from papertape.domain.market import MarketEvent, iso
from papertape.domain.numbers import finite
from papertape.domain.symbols import canonical
from papertape.engine.backtest import CHUNK, run_backtest_stream
from papertape.engine.core import StrategyPlan
from papertape.market.importers import read_market_file
from papertape.research.data import dataset_chunks
from papertape.sessions.strategy_catalog import resolve_strategies
from papertape.store import DEFAULT_STORE_URL, open_store


def checked_source(data: Path | None, dataset: str | None, symbol: str) -> str:
    """Exactly one of ``--data`` and ``--dataset``; the symbol, canonical."""
    if (data is None) == (dataset is None):
        raise ValidationFailed(
            "give exactly one of --data FILE or --dataset NAME",
            details=[{"field": "data", "message": "one source needed"}],
        )
    try:
        return canonical(symbol)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), details=[{"field": "symbol", "message": str(exc)}]
        ) from None


def parse_param(text: str) -> tuple[str, Any]:
    """``fast=10`` → ("fast", 10): the value is read as JSON when it is JSON (numbers, true,
    lists, objects), else kept as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ValidationFailed(
            f"--param must look like name=value, not {text!r}",
            details=[{"field": "param", "message": text}],
        )
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


async def _dataset_rows(
    store_url: str, name: str, symbol: str, kinds: tuple[str, ...] = ("candles", "trades", "book")
) -> Sequence[MarketEvent]:
    """The rows of a dataset, or of a collect session's recording (``name`` = its id): of the
    first of ``kinds`` it holds (candles when there are any, else trades, else book snapshots)."""
    store = await open_store(store_url)
    try:
        summary = await store.market_summary(name)
        kind = next((k for k in kinds if k in summary), None)
        if kind is None:
            raise DatasetNotFound(f"no {' or '.join(kinds)} dataset or recording named {name!r}")
        start, end = summary[kind]["start_ts"], summary[kind]["end_ts"] + 1
        return await store.read_kind(kind, name, [symbol], start, end)
    finally:
        await store.close()


async def _plans(store_url: str | None, specs: list[StrategySpec]) -> list[StrategyPlan]:
    if store_url is None:
        return await resolve_strategies(None, specs)
    store = await open_store(store_url)
    try:
        return await resolve_strategies(store, specs)
    finally:
        await store.close()


def _summary(title: str, metrics: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    rows = [
        (
            "period",
            f"{iso(metrics['start_ts'])} → {iso(metrics['end_ts'])}"
            if metrics.get("start_ts")
            else "-",
        ),
        ("final equity", f"{metrics['final_equity']:,.2f}"),
        ("total return", f"{metrics['total_return_pct']:+.2f} %"),
        ("max drawdown", f"{metrics['max_drawdown_pct']:.2f} %"),
        ("sharpe", _num(metrics["sharpe"])),
        ("sortino", _num(metrics["sortino"])),
        ("trades", str(metrics["trades"])),
        ("win rate", _num(metrics["win_rate_pct"], " %")),
        ("profit factor", _num(metrics["profit_factor"])),
        ("exposure", f"{metrics['exposure_pct']:.1f} %"),
        ("fees", f"{metrics['fees']:,.2f}"),
        ("funding", f"{metrics['funding']:+,.2f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _funding_rows(
    path: Path | None, dataset: str | None, store_url: str, symbol: str, market_type: str
) -> list[FundingRate]:
    if path is not None and dataset is not None:
        raise ValidationFailed(
            "give at most one of --funding FILE or --funding-dataset NAME",
            details=[{"field": "funding", "message": "one source"}],
        )
    if market_type != "swap":
        raise ValidationFailed(
            "funding is paid on perpetuals: add --market-type swap",
            details=[{"field": "funding", "message": "needs --market-type swap"}],
        )
    rows: Sequence[MarketEvent]
    if path is not None:
        rows = read_market_file(path, symbol=symbol, kind="funding").rows
    else:
        rows = asyncio.run(_dataset_rows(store_url, str(dataset), symbol, ("funding",)))
    return [row for row in rows if isinstance(row, FundingRate)]


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{unit}"


def backtest(
    symbol: options.Symbol,
    strategy: options.Strategy,
    data: options.DataFile = None,
    dataset: options.DatasetName = None,
    param: Annotated[
        list[str] | None, typer.Option(help="strategy parameter name=value (repeatable)")
    ] = None,
    fee: options.Fee = 0.001,
    cash: options.Cash = 10_000.0,
    slippage_bps: options.SlippageBps = 0.0,
    market_type: Annotated[
        str, typer.Option(help="spot, or swap (a linear perpetual: shorts, leverage, funding)")
    ] = "spot",
    leverage: Annotated[float, typer.Option(help="swap: leverage (cross margin)")] = 1.0,
    funding: Annotated[
        Path | None, typer.Option(help="swap: a funding-rate file (CSV/JSON) to settle")
    ] = None,
    funding_dataset: Annotated[
        str | None, typer.Option(help="swap: a stored funding dataset to settle")
    ] = None,
    margin_tiers: Annotated[
        Path | None,
        typer.Option(help="swap: maintenance-margin tiers, JSON of ccxt fetch_leverage_tiers rows"),
    ] = None,
    liquidation_fee: Annotated[
        float, typer.Option(help="swap: fee rate charged on a liquidation's notional")
    ] = DEFAULT_LIQUIDATION_FEE,
    liquidation_close: Annotated[
        str,
        typer.Option(help="swap: a liquidation closes at the 'bankruptcy' or 'liquidation' price"),
    ] = BANKRUPTCY,
    as_json: options.AsJson = False,
    store: options.StoreUrl = DEFAULT_STORE_URL,
) -> None:
    """Backtest a strategy on recorded data; deterministic, as fast as the machine allows."""
    console = Console(stderr=True)
    try:
        sym = checked_source(data, dataset, symbol)
        if market_type not in ("spot", "swap") or (market_type == "spot" and leverage != 1):
            raise ValidationFailed(
                "--market-type is spot or swap, and only swap takes --leverage",
                details=[{"field": "market_type", "message": market_type}],
            )
        margin = _margin(
            sym, market_type, leverage, margin_tiers, liquidation_fee, liquidation_close
        )
        params = dict(parse_param(p) for p in param or [])
        specs = [StrategySpec(name=strategy, params=params)]
        from papertape.sessions.strategy_catalog import STRATEGY_CLASSES
        from papertape.strategies.examples import RULE_EXAMPLES

        needs_store = dataset is not None or (
            strategy not in STRATEGY_CLASSES and strategy not in RULE_EXAMPLES
        )
        plans = asyncio.run(_plans(store if needs_store else None, specs))
        rows: Sequence[MarketEvent]
        if data is not None:
            rows = read_market_file(data, symbol=sym).rows
        elif dataset is not None and (funding is not None or funding_dataset is not None):
            # funding rates are merged into the rows by time: the dataset is read whole
            rows = asyncio.run(_dataset_rows(store, dataset, sym))
        if funding is not None or funding_dataset is not None:
            rows = merge_funding(
                rows, _funding_rows(funding, funding_dataset, store, sym, market_type)
            )
        if data is not None or funding is not None or funding_dataset is not None:
            total = len(rows)
            chunks: Iterable[Sequence[Any]] = (
                rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)
            )
        else:  # streamed from the store: memory holds one chunk, not the dataset
            assert dataset is not None  # exactly one of them, checked above
            total, chunks = dataset_chunks(store, dataset, sym, columns=True)
        seen = 0
        with Progress(
            TextColumn("backtest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
            transient=True,
        ) as progress:
            task = progress.add_task("rows", total=total)

            def advance(n: int) -> None:
                nonlocal seen
                seen += n
                progress.advance(task, n)

            result = run_backtest_stream(
                chunks,
                [sym],
                plans,
                cash=cash,
                taker=fee,
                maker=fee,
                slippage_bps=slippage_bps,
                market_type=market_type,
                leverage=leverage,
                margin_tiers=margin.margin_tiers(),
                liquidation_fee=margin.liquidation_fee,
                liquidation_close=margin.liquidation_close,
                progress=advance,
            )
        if not seen:
            raise ValidationFailed(
                f"no rows for {sym} in the data",
                details=[{"field": "symbol", "message": "no rows"}],
            )
    except PapertapeError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(finite(result.as_json())))
        return
    out = Console()
    shown = " ".join(f"{k}={v}" for k, v in params.items())
    out.print(
        _summary(f"{strategy} {shown} on {sym} ({seen:,} rows)".replace("  ", " "), result.metrics)
    )


def _margin(
    symbol: str, market_type: str, leverage: float, tiers: Path | None, fee: float, close: str
) -> MarginConfig:
    """The liquidation rules of the options, checked as a session's ``margin`` is."""
    try:
        rows = json.loads(tiers.read_text()) if tiers is not None else {}
        margin = MarginConfig(
            tiers=rows if isinstance(rows, dict) else {symbol: rows},
            liquidation_fee=fee,
            liquidation_close=close,  # pydantic checks it
        )
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise ValidationFailed(
            f"margin options: {exc}", details=[{"field": "margin_tiers", "message": str(exc)}]
        ) from None
    if market_type == "spot" and margin != MarginConfig():
        raise ValidationFailed(
            "--margin-tiers and the liquidation options need --market-type swap",
            details=[{"field": "market_type", "message": market_type}],
        )
    if market_type == "swap" and margin.too_leveraged([symbol], leverage):
        raise ValidationFailed(
            f"--leverage {leverage:g} is above what the first margin tier allows",
            details=[{"field": "leverage", "message": "see the tiers' maxLeverage"}],
        )
    return margin

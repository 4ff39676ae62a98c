"""``papertape sweep``: run a strategy over a grid (or an Optuna search) of parameters, rank the
trials by an objective.

    papertape sweep (--data FILE | --dataset NAME) --symbol BTC_USDT --strategy sma_cross \\
        --grid fast=5:50:5 --grid slow=30:210:20 [--fee 0.001] [--cash 10000] \\
        [--objective sharpe] [--min-trades N] [--search grid|random|tpe --trials N --seed S] \\
        [--workers N] [--ray-address ADDR] [--json]

``a:b:s`` is a to b inclusive in steps of s; ``fast=5,10,20`` is a list; ``--param`` fixes a
parameter for every trial. ``--json`` prints ``{"trials": [{"params", "metrics"}], "skipped":
[{"params", "error"}], "best": {"params", "metrics"}, "seconds"}``; each trial's ``metrics`` are
those ``papertape backtest --json`` prints for the same parameters. Parameter sets the strategy
refuses (``fast >= slow``) are listed under ``skipped``. Trials run on every core by default; with
``--ray-address`` (or ``PAPERTAPE_RAY_ADDRESS``) on a Ray cluster (``local`` starts a private one).

``--walk-forward train=14d,test=7d[,anchored]`` optimises on each training window and runs the
best trial on the test window after it; ``--json`` then prints ``{"walk_forward", "windows",
"in_sample", "out_of_sample": {"metrics", "score", "equity"}, "seconds"}``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from papertape.cli import options
from papertape.cli.backtest import checked_source, parse_param
from papertape.domain.errors import PapertapeError
from papertape.domain.grid import parse_grid
from papertape.domain.market import iso
from papertape.domain.numbers import finite
from papertape.research.data import DataSpec, load_rows, time_span
from papertape.research.executors import RAY_ENV, make_executor
from papertape.research.objectives import OBJECTIVES
from papertape.research.sweep import Sweep, SweepResult, SweepSpec, Trial
from papertape.research.trials import TrialSettings
from papertape.research.walkforward import WalkForward, parse_walk_forward
from papertape.research.walkforward import walk_forward as walk_forward_run
from papertape.sessions.sweep_plans import needs_store, sweep_plans
from papertape.store import DEFAULT_STORE_URL, open_store


async def _plans(store_url: str | None, strategy: str) -> Any:
    if store_url is None:
        return await sweep_plans(None, strategy)
    store = await open_store(store_url)
    try:
        return await sweep_plans(store, strategy)
    finally:
        await store.close()


def _table(result: SweepResult, objective: str, top: int = 15) -> Table:
    ranked = sorted(result.ran, key=lambda t: (t.score is None, -(t.score or 0.0), t.number))[:top]
    names = list(ranked[0].params) if ranked else []
    table = Table(*names, objective, "return %", "max dd %", "trades", title="best trials")
    for trial in ranked:
        m = trial.metrics or {}
        table.add_row(
            *(str(trial.params[n]) for n in names),
            "-" if trial.score is None else f"{trial.score:.3f}",
            f"{m['total_return_pct']:+.2f}",
            f"{m['max_drawdown_pct']:.2f}",
            str(m["trades"]),
        )
    return table


def _walk_forward(
    plan: WalkForward,
    spec: SweepSpec,
    plans: Any,
    source: DataSpec,
    settings: TrialSettings,
    workers: int | None,
    ray_address: str | None,
    as_json: bool,
    console: Console,
) -> None:
    rows = load_rows(source)
    windows = plan.windows(*time_span(rows))
    with (
        Progress(
            TextColumn("walk-forward"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=True,
        ) as progress,
        make_executor(source, settings, workers, ray_address) as executor,
    ):
        task = progress.add_task("windows", total=len(windows))
        result = walk_forward_run(
            plan, spec, plans, executor, rows, settings, lambda _: progress.advance(task)
        )
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    report = result.as_json()
    table = Table("train", "test", "best params", "in-sample", "out-of-sample", title=plan.text)
    for w in result.windows:
        table.add_row(
            f"{_day(w.train[0])} → {_day(w.train[1])}",
            f"{_day(w.test[0])} → {_day(w.test[1])}",
            "-" if w.best is None else " ".join(f"{k}={v}" for k, v in w.best.params.items()),
            _num(None if w.best is None else w.best.score),
            _num(w.test_score),
        )
    out = Console()
    out.print(table)
    oos = report["out_of_sample"]
    out.print(
        f"{spec.objective}: in-sample mean {_num(report['in_sample']['mean_score'])}, "
        f"out-of-sample (stitched) {_num(oos['score'])}; out-of-sample return "
        f"{_num(oos['metrics'] and oos['metrics']['total_return_pct'])} % "
        f"in {result.seconds:.1f} s"
    )


def _day(ts: int) -> str:
    return (iso(ts) or "")[:16]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def sweep(
    symbol: options.Symbol,
    strategy: options.Strategy,
    grid: Annotated[
        list[str],
        typer.Option(help="swept parameter: name=low:high:step (inclusive) or name=a,b,c"),
    ],
    data: options.DataFile = None,
    dataset: options.DatasetName = None,
    param: Annotated[
        list[str] | None, typer.Option(help="fixed strategy parameter name=value (repeatable)")
    ] = None,
    fee: options.Fee = 0.001,
    cash: options.Cash = 10_000.0,
    slippage_bps: options.SlippageBps = 0.0,
    objective: Annotated[
        str, typer.Option(help=f"what ranks the trials: {', '.join(OBJECTIVES)}")
    ] = "sharpe",
    min_trades: Annotated[
        int, typer.Option(min=0, help="trials with fewer closed trades cannot be the best")
    ] = 0,
    search: Annotated[
        str, typer.Option(help="grid (every set), random or tpe (Optuna, --trials of them)")
    ] = "grid",
    trials: Annotated[int | None, typer.Option(min=1, help="budget of a random/tpe search")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of a random/tpe search")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="cores to use; helper processes start when they pay (default: all)"
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(envvar=RAY_ENV, help="run trials on this Ray cluster ('local': a new one)"),
    ] = None,
    walk_forward: Annotated[
        str | None,
        typer.Option(
            help="walk-forward optimisation: train=14d,test=7d[,anchored] (rolling by default)"
        ),
    ] = None,
    as_json: options.AsJson = False,
    store: options.StoreUrl = DEFAULT_STORE_URL,
) -> None:
    """Sweep a strategy's parameters on recorded data, on every core or a Ray cluster."""
    console = Console(stderr=True)
    try:
        sym = checked_source(data, dataset, symbol)
        spec = SweepSpec(
            tuple(parse_grid(grid)),
            objective=objective,
            min_trades=min_trades,
            search=search,  # type: ignore[arg-type]  # checked by SweepSpec
            budget=trials,
            seed=seed,
            fixed=dict(parse_param(p) for p in param or []),
        )
        plans = asyncio.run(
            _plans(store if dataset is not None or needs_store(strategy) else None, strategy)
        )
        source = DataSpec(
            sym,
            file=str(data) if data is not None else None,
            dataset=dataset,
            store_url=store if dataset is not None else None,
        )
        settings = TrialSettings(sym, cash=cash, taker=fee, maker=fee, slippage_bps=slippage_bps)
        if walk_forward is not None:
            _walk_forward(
                parse_walk_forward(walk_forward), spec, plans, source, settings, workers,
                ray_address, as_json, console,
            )  # fmt: skip
            return
        with (
            Progress(
                TextColumn("sweep"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[best]}"),
                console=console,
                disable=not console.is_terminal,
                transient=True,
            ) as progress,
            make_executor(source, settings, workers, ray_address) as executor,
        ):
            task = progress.add_task("trials", total=spec.total, best="")

            best: list[float] = []  # the best score so far (not re-ranked on every trial)

            def advance(trial: Trial) -> None:
                if trial.score is not None and (not best or trial.score > best[0]):
                    best[:] = [trial.score]
                shown = f"best {objective} {best[0]:.3f}" if best else ""
                progress.update(task, advance=1, best=shown)

            result = Sweep(spec, plans, executor, on_trial=advance).run()
    except PapertapeError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(finite(result.as_json())))
        return
    out = Console()
    out.print(_table(result, objective))
    out.print(
        f"{len(result.ran)} trials, {len(result.skipped)} skipped, "
        f"{result.seconds:.1f} s on {executor.workers} worker(s)"
    )

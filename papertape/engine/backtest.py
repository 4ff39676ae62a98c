"""Backtests outside a session: the CLI's ``papertape backtest`` and the benchmarks.

The same ``Engine`` a backtest session runs, fed the rows directly in chunks (from memory, or
streamed from a store so that a dataset larger than memory can be backtested); the result holds
the metrics, the closed round trips and the engine (with its full record). Deterministic: no
clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from papertape.domain.liquidation import BANKRUPTCY, DEFAULT_LIQUIDATION_FEE, Tiers
from papertape.domain.risk import RiskRules
from papertape.domain.trade_columns import TradeColumns
from papertape.engine.core import Engine, EngineConfig, StrategyPlan

CHUNK = 10_000  # rows per engine call: fine-grained progress, no measurable overhead


@dataclass(frozen=True, slots=True)
class BacktestResult:
    metrics: dict[str, Any]
    trades: list[dict[str, Any]]
    engine: Engine

    def as_json(self) -> dict[str, Any]:
        """The documented output of ``papertape backtest --json``."""
        return {"metrics": self.metrics, "trades": self.trades}


def run_backtest(
    rows: Sequence[Any] | TradeColumns,
    symbols: Sequence[str],
    plans: Sequence[StrategyPlan],
    **options: Any,
) -> BacktestResult:
    """A backtest over ``rows`` (or one symbol's trade columns) held in memory; ``options`` as
    ``run_backtest_stream``'s."""
    chunks = (rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK))
    return run_backtest_stream(chunks, symbols, plans, **options)


def run_backtest_stream(
    chunks: Iterable[Sequence[Any] | TradeColumns],
    symbols: Sequence[str],
    plans: Sequence[StrategyPlan],
    *,
    cash: float = 10_000.0,
    taker: float = 0.001,
    maker: float | None = None,
    market_type: str = "spot",
    leverage: float = 1.0,
    slippage_bps: float = 0.0,
    bar_fill: str = "next_open",
    margin_tiers: Mapping[str, Tiers] | None = None,
    liquidation_fee: float = DEFAULT_LIQUIDATION_FEE,
    liquidation_close: str = BANKRUPTCY,
    risk: RiskRules | None = None,
    session_id: str = "backtest",
    progress: Callable[[int], None] | None = None,
) -> BacktestResult:
    engine = Engine(
        EngineConfig(
            session_id=session_id,
            symbols=tuple(symbols),
            cash=cash,
            market_type=market_type,
            leverage=leverage,
            taker=taker,
            maker=taker if maker is None else maker,
            slippage_bps=slippage_bps,
            bar_fill=bar_fill,
            margin_tiers=margin_tiers or {},
            liquidation_fee=liquidation_fee,
            liquidation_close=liquidation_close,
            risk=risk or RiskRules(),
        ),
        plans,
    )
    engine.start()
    for chunk in chunks:
        engine.process(chunk)
        if progress is not None:
            progress(len(chunk))
        if engine.halted:
            break
    engine.stop()
    trades = [t.as_dict() for t in engine.portfolio.trips]
    return BacktestResult(engine.metrics(), trades, engine)

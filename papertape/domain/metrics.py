"""Performance metrics of a session, from its equity curve and its closed round trips.

Sharpe and Sortino use returns of the equity curve resampled to a regular period (a day when the
run spans at least a week, else an hour when it spans a day, else a minute), risk-free rate 0,
annualized for markets that trade every day (365 days). ``max_drawdown_pct`` is the largest
peak-to-trough fall of equity, as a positive percentage. ``exposure_pct`` is the share of the
run's time with at least one open position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from papertape.domain.market import MICROS
from papertape.domain.portfolio import Portfolio, RoundTrip

DAY = 86_400 * MICROS
YEAR_DAYS = 365


def max_drawdown_pct(equity: Sequence[float]) -> float:
    peak, worst = -math.inf, 0.0
    for value in equity:
        if value > peak:
            peak = value
        elif peak > 0:
            drop = (peak - value) / peak
            if drop > worst:
                worst = drop
    return worst * 100


def resample(points: Sequence[tuple[int, float]], period: int) -> list[float]:
    """The last equity of each ``period`` (µs) bucket, gaps carried forward."""
    if not points:
        return []
    first = points[0][0] // period
    values: list[float] = []
    bucket, last = first, points[0][1]
    for ts, value in points:
        b = ts // period
        while bucket < b:
            values.append(last)
            bucket += 1
        last = value
    values.append(last)
    return values


def resample_period(span: int) -> int:
    """The resampling period (µs) of a run spanning ``span`` µs."""
    if span >= 7 * DAY:
        return DAY
    if span >= DAY:
        return 3_600 * MICROS
    return 60 * MICROS


def sharpe_sortino(points: Sequence[tuple[int, float]]) -> tuple[float | None, float | None]:
    if len(points) < 2:
        return None, None
    period = resample_period(points[-1][0] - points[0][0])
    return ratios(resample(points, period), period)


def ratios(values: Sequence[float], period: int) -> tuple[float | None, float | None]:
    """Sharpe and Sortino of equity ``values`` sampled every ``period`` µs."""
    returns = [b / a - 1 for a, b in zip(values, values[1:], strict=False) if a > 0]
    if len(returns) < 2:
        return None, None
    n = len(returns)
    mean = math.fsum(returns) / n
    std = math.sqrt(math.fsum((r - mean) ** 2 for r in returns) / (n - 1))
    downside = math.sqrt(math.fsum(min(r, 0.0) ** 2 for r in returns) / n)
    scale = math.sqrt(YEAR_DAYS * DAY / period)
    sharpe = mean / std * scale if std > 0 else None
    sortino = mean / downside * scale if downside > 0 else None
    return sharpe, sortino


def exposure_pct(
    trips: Sequence[RoundTrip], open_since: Sequence[int], start: int, end: int
) -> float:
    """Share of ``[start, end]`` covered by the union of the trips' and open positions' spans."""
    if end <= start:
        return 0.0
    spans = sorted([(t.entry_ts, t.exit_ts) for t in trips] + [(s, end) for s in open_since])
    covered = 0
    current: tuple[int, int] | None = None  # the span being merged
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        if current is None or a > current[1]:
            if current is not None:
                covered += current[1] - current[0]
            current = (a, b)
        else:
            current = (current[0], max(current[1], b))
    if current is not None:
        covered += current[1] - current[0]
    return covered / (end - start) * 100


def compute(
    *,
    initial: float,
    points: Sequence[tuple[int, float]],
    trips: Sequence[RoundTrip],
    fees: float,
    open_since: Sequence[int] = (),
) -> dict[str, Any]:
    """Every metric a session reports. ``points`` are ``(ts, equity)``, oldest first."""
    return summarise(
        initial=initial,
        final=points[-1][1] if points else initial,
        drawdown_pct=max_drawdown_pct([initial] + [v for _, v in points]),
        sharpe_and_sortino=sharpe_sortino(points),
        span=(points[0][0], points[-1][0]) if points else None,
        trips=trips,
        fees=fees,
        open_since=open_since,
    )


def summarise(
    *,
    initial: float,
    final: float,
    drawdown_pct: float,
    sharpe_and_sortino: tuple[float | None, float | None],
    span: tuple[int, int] | None,
    trips: Sequence[RoundTrip],
    fees: float,
    open_since: Sequence[int] = (),
) -> dict[str, Any]:
    """``compute``'s result from the equity curve's figures (its final value, drawdown, ratios and
    time span, ``None`` for an empty curve) already worked out, by ``compute`` point by point or
    by a vectorised evaluator (``papertape.research.fastpath``) over arrays."""
    wins = [t.pnl for t in trips if t.pnl > 0]
    losses = [t.pnl for t in trips if t.pnl <= 0]
    gross_loss = -math.fsum(losses)
    sharpe, sortino = sharpe_and_sortino
    start, end = span or (0, 0)
    return {
        "initial_equity": initial,
        "final_equity": final,
        "total_return_pct": (final / initial - 1) * 100 if initial else 0.0,
        "max_drawdown_pct": drawdown_pct,
        "sharpe": sharpe,
        "sortino": sortino,
        "trades": len(trips),
        "win_rate_pct": len(wins) / len(trips) * 100 if trips else None,
        "profit_factor": math.fsum(wins) / gross_loss if gross_loss > 0 else None,
        "avg_trade_pct": math.fsum(t.return_pct for t in trips) / len(trips) if trips else None,
        "best_trade_pct": max((t.return_pct for t in trips), default=None),
        "worst_trade_pct": min((t.return_pct for t in trips), default=None),
        "exposure_pct": exposure_pct(trips, open_since, start, end),
        "fees": fees,
        "start_ts": start if span else None,
        "end_ts": end if span else None,
    }


def account_metrics(portfolio: Portfolio) -> dict[str, Any]:
    """The metrics a backtest adds to ``compute``'s from its portfolio at the end of the run."""
    open_positions = portfolio.open_positions()
    return {
        "fills": portfolio.fill_count,
        "open_positions": len(open_positions),
        "unrealized_pnl": sum(p.unrealized_pnl for p in open_positions),
        "realized_pnl": portfolio.realized_pnl,
        "funding": portfolio.funding,
    }

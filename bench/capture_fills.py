"""Fill realism on a real Binance capture (issue 14): the raw futures BTCUSDT websocket capture
(5¾ minutes: 21,313 trades, 6,551 depth updates) imported, replayed through the engine, and
traded against with each queue model.

Figures printed:

- import: capture messages/s through the book rebuild (JSON parsing, chain checks, snapshots of
  the top 50 levels after every update), futures and spot;
- replay: capture events/s through the engine with no orders, and with resting orders;
- passive orders at the touch, per queue model (and, for reference, the naive rule "filled by
  the first print at the price", which no papertape model uses): every ``--every`` seconds of exchange time a buy
  limit at the best bid and a sell limit at the best ask (``--size`` BTC each), cancelled after
  ``--ttl`` seconds unfilled: the share filled (fully / at least partly) and the time in queue
  until the first fill (p50 / p90 of the filled ones);
- market orders by size: the VWAP of a buy and a sell walking the rebuilt book, against the mid,
  in basis points (mean / p50 / p99 over one book a second).

    uv run python bench/capture_fills.py            # the whole capture
    uv run python bench/capture_fills.py --quick    # the first minute, smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from bisect import bisect_left
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from papertape.domain.market import BookSnapshot
from papertape.domain.portfolio import SWAP
from papertape.engine.core import Engine, EngineConfig
from papertape.market.binance_capture import read_capture
from tests.support.data import MARKET_DATA

FUTURES = MARKET_DATA / "binance-futures_btcusdt_l2-stream_2024-08-08.txt.gz"
SPOT = MARKET_DATA / "binance_btcusdt_l2-stream_2024-08-08.txt.gz"
MODELS = ("trade_through", "risk_averse", "probabilistic")
SIZES = (0.1, 1.0, 5.0, 10.0, 25.0)
SECOND = 1_000_000


def _engine(model: str) -> Engine:
    config = EngineConfig(
        "bench", ("BTC_USDT",), cash=1e9, market_type=SWAP, taker=0.0, maker=0.0, queue_model=model
    )
    return Engine(config)


def import_rate(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    capture = read_capture(path)
    return capture.report.messages / (time.perf_counter() - started), capture.report.messages


def passive(events: list, model: str, every: float, ttl: float, size: float) -> dict:
    """Limit orders at the touch, placed every ``every`` s and cancelled after ``ttl`` s."""
    engine = _engine(model)
    placed: list[tuple[object, int]] = []
    book: BookSnapshot | None = None
    next_place = events[0].ts
    waiting: list[tuple[object, int]] = []
    for event in events:
        if book is not None and event.ts >= next_place:
            next_place = event.ts + int(every * SECOND)
            for side, price in (("buy", book.bids[0][0]), ("sell", book.asks[0][0])):
                order = engine.place_manual_order("BTC_USDT", side, "limit", size, price=price)
                placed.append((order, event.ts))
                waiting.append((order, event.ts))
        if waiting and event.ts - waiting[0][1] > ttl * SECOND:
            still = []
            for order, at in waiting:
                if event.ts - at > ttl * SECOND:
                    if order.is_live:
                        engine.cancel(order.order_id, "expired")
                else:
                    still.append((order, at))
            waiting = still
        engine.process([event])
        if isinstance(event, BookSnapshot):
            book = event
    first_fill: dict[str, int] = {}
    for fill in engine.record.fills:
        first_fill.setdefault(fill.order_id, fill.ts)
    orders = [o for o, _ in placed]
    waits = sorted(
        (first_fill[o.order_id] - at) / SECOND for o, at in placed if o.order_id in first_fill
    )
    full = sum(o.filled_qty >= size * (1 - 1e-9) for o in orders)
    return {
        "orders": len(orders),
        "full": full / len(orders),
        "any": len(waits) / len(orders),
        "wait_p50": waits[len(waits) // 2] if waits else None,
        "wait_p90": waits[int(len(waits) * 0.9)] if waits else None,
    }


def touch_prints(events: list, every: float, ttl: float) -> dict:
    """The naive reference (what a fill-on-touch backtest does): the same placements, counted as
    filled by the first print of the other side at their price or through it."""
    placed, book, next_place = [], None, events[0].ts
    for event in events:
        if book is not None and event.ts >= next_place:
            next_place = event.ts + int(every * SECOND)
            placed += [("buy", book.bids[0][0], event.ts), ("sell", book.asks[0][0], event.ts)]
        if isinstance(event, BookSnapshot):
            book = event
    prints = [e for e in events if not isinstance(e, BookSnapshot)]
    times = [p.ts for p in prints]
    waits = []
    for side, price, at in placed:
        i = bisect_left(times, at)
        while i < len(prints) and prints[i].ts - at <= ttl * SECOND:
            p = prints[i]
            if p.side != side and ((p.price <= price) if side == "buy" else (p.price >= price)):
                waits.append((p.ts - at) / SECOND)
                break
            i += 1
    waits.sort()
    return {
        "orders": len(placed),
        "full": len(waits) / len(placed),
        "any": len(waits) / len(placed),
        "wait_p50": waits[len(waits) // 2] if waits else None,
        "wait_p90": waits[int(len(waits) * 0.9)] if waits else None,
    }


def slippage(events: list) -> dict[float, tuple[list[float], list[float]]]:
    """Buy and sell VWAP vs mid (bps) for each size, on one book a second."""
    result: dict[float, tuple[list[float], list[float]]] = {s: ([], []) for s in SIZES}
    next_ts = 0
    for event in events:
        if not isinstance(event, BookSnapshot) or event.ts < next_ts:
            continue
        next_ts = event.ts + SECOND
        mid = (event.bids[0][0] + event.asks[0][0]) / 2
        for size in SIZES:
            for levels, sign, out in (
                (event.asks, 1, result[size][0]),
                (event.bids, -1, result[size][1]),
            ):
                left, cost = size, 0.0
                for price, qty in levels:
                    take = min(left, qty)
                    cost += take * price
                    left -= take
                    if left <= 1e-12:
                        break
                if left <= 1e-12:
                    out.append(sign * (cost / size - mid) / mid * 10_000)
    return result


def _stats(values: list[float]) -> str:
    if not values:
        return "no book deep enough"
    ordered = sorted(values)
    return (
        f"{statistics.fmean(ordered):6.2f} / {ordered[len(ordered) // 2]:6.2f} / "
        f"{ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]:6.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the first minute only")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between placements")
    parser.add_argument("--ttl", type=float, default=30.0, help="seconds an order rests")
    parser.add_argument("--size", type=float, default=0.01, help="BTC per passive order")
    args = parser.parse_args()

    rate, messages = import_rate(FUTURES)
    print(f"import, futures capture: {messages:,} messages at {rate:,.0f} messages/s")
    rate, messages = import_rate(SPOT)
    print(f"import, spot capture:    {messages:,} messages at {rate:,.0f} messages/s")

    events = read_capture(FUTURES).events
    if args.quick:
        events = [e for e in events if e.ts < events[0].ts + 60 * SECOND]
    span = (events[-1].ts - events[0].ts) / SECOND
    started = time.perf_counter()
    engine = _engine("risk_averse")
    engine.process(events)
    elapsed = time.perf_counter() - started
    print(
        f"replay through the engine, no orders: {len(events):,} events ({span:.0f} s of market) "
        f"at {len(events) / elapsed:,.0f} events/s"
    )

    print(
        f"\npassive limit orders at the touch: {args.size} BTC, one bid and one ask every "
        f"{args.every:g} s, cancelled after {args.ttl:g} s"
    )
    print(
        f"{'model':<15} {'orders':>6} {'filled fully':>13} {'filled at all':>14} {'time in queue p50 / p90':>25}  events/s"
    )
    for model in ("touch (naive)", *MODELS):
        started = time.perf_counter()
        figures = (
            touch_prints(events, args.every, args.ttl)
            if model.startswith("touch")
            else passive(events, model, args.every, args.ttl, args.size)
        )
        elapsed = time.perf_counter() - started
        waits = (
            f"{figures['wait_p50']:.2f} / {figures['wait_p90']:.2f} s"
            if figures["wait_p50"] is not None
            else "-"
        )
        print(
            f"{model:<15} {figures['orders']:>6} {figures['full']:>12.1%} {figures['any']:>14.1%} "
            f"{waits:>25}  {len(events) / elapsed:,.0f}"
        )

    print(
        "\nmarket orders walking the rebuilt book (top 50 levels): VWAP vs mid, bps, mean / p50 / p99"
    )
    for size, (buys, sells) in slippage(events).items():
        print(f"  {size:>5g} BTC  buy {_stats(buys)}   sell {_stats(sells)}")


if __name__ == "__main__":
    main()

"""Mark prices and funding through the unmodified ccxt pro client and papertape's feed (issue 14):
a loopback Binance (``tests/support/binance_replay.py``) streams ``markPriceUpdate`` messages
built from the shared XRP/USDT files (``tests/support/binance_marks.py``: real marks, rates and
funding times, Binance's framing) to ``ExchangeSource`` through ccxt's ``watch_mark_price``.

The 39 real hourly messages are repeated ``--copies`` times, each copy shifted by 40 hours (five
funding intervals; ``E`` and ``T`` alike; the output says so), and sent back to back, then at
fixed paces. Figures per run: mark messages sent and delivered (ccxt keeps only the newest ticker,
so a consumer that falls behind skips marks), the send rate, server send → feed out latency of the
delivered marks (p50 / p99), and the funding times the data passed that were handed out (once
each, at the last rate announced for them). Live, Binance announces each funding time in 28,800
messages (one a second for 8 hours); here the last funding time of a copy is announced by one
message only, so skipping that one message loses it.

    uv run python bench/ccxt_marks.py             # 256 copies (9,984 messages)
    uv run python bench/ccxt_marks.py --quick     # 32 copies
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from papertape.domain.funding import FundingRate
from papertape.domain.market import MarkPrice
from papertape.market.exchange.connector import ExchangeHub, ccxt_factory
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from papertape.market.exchange.urls import redirected
from tests.support.binance_marks import HOUR_MS, capture_lines, mark_messages
from tests.support.binance_replay import BinanceReplay

SYMBOL = "XRP_USDT"
SHIFT_HOURS = 40  # a copy spans 38 hours; five funding intervals keep the 8-hour grid


def shifted_copies(copies: int) -> list[dict]:
    """The real messages, ``copies`` times, copy ``k`` shifted by ``k × 40`` hours."""
    real = mark_messages()
    span = SHIFT_HOURS * HOUR_MS
    return [
        {**m, "E": m["E"] + k * span, "T": m["T"] + k * span} for k in range(copies) for m in real
    ]


def expected_funding(messages: list[dict]) -> list[tuple[int, float]]:
    """Every funding time the data passes, with the last rate announced for it."""
    last_e = messages[-1]["E"]
    rates = {m["T"]: float(m["r"]) for m in messages}
    return sorted((t * 1_000, r) for t, r in rates.items() if t < last_e)


async def run(messages: list[dict], per_second: float | None) -> dict:
    speed = HOUR_MS / 1_000 * per_second if per_second else 0.0
    async with BinanceReplay(capture_lines(messages), speed=speed) as server:
        hub = ExchangeHub(redirected(ccxt_factory, server.base_url))
        source = ExchangeSource([SYMBOL], "binance", "swap", hub=hub, options=FeedOptions())
        marks: dict[int, float] = {}  # E (ms) → perf_counter when the feed handed it out
        funding: list[FundingRate] = []

        async def read() -> None:
            async for batch in source.batches():
                now = time.perf_counter()
                for event in batch:
                    if isinstance(event, MarkPrice):
                        marks[event.ts // 1_000] = now
                    elif isinstance(event, FundingRate):
                        funding.append(event)

        reader = asyncio.create_task(read())
        last_e, quiet_since, seen = messages[-1]["E"], time.monotonic(), -1
        while last_e not in marks and time.monotonic() - quiet_since < 3:
            await asyncio.sleep(0.05)
            if len(marks) != seen:
                seen, quiet_since = len(marks), time.monotonic()
        await source.close()
        reader.cancel()
        sent = {int(k.split(":")[1]): v for k, v in server.sent_at.items() if k.startswith("mark:")}
    first, last = min(sent.values()), max(sent.values())
    latencies = sorted(marks[e] - sent[e] for e in marks if e in sent)
    return {
        "sent": len(sent),
        "delivered": len(marks),
        "rate": len(sent) / max(last - first, 1e-9),
        "p50": latencies[len(latencies) // 2] * 1_000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1_000,
        "funding": _funding_figures([(f.ts, f.rate) for f in funding], expected_funding(messages)),
    }


def _funding_figures(got: list[tuple[int, float]], expected: list[tuple[int, float]]) -> str:
    times = [ts for ts, _ in got]
    rates = dict(expected)
    wrong = sum(1 for ts, rate in got if rates.get(ts) != rate)
    return (
        f"{len(set(times) & set(rates))} of {len(expected)} funding times handed out "
        f"({len(times) - len(set(times))} twice, {wrong} at another rate)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    copies = 32 if args.quick else 256
    messages = shifted_copies(copies)
    print(
        f"{len(messages):,} markPriceUpdate messages: the 39 real ones {copies} times, each copy "
        f"shifted by {SHIFT_HOURS} h"
    )
    for pace, count in ((None, len(messages)), (1_000.0, len(messages)), (100.0, 39 * 8)):
        result = asyncio.run(run(messages[:count], pace))
        what = "back to back" if pace is None else f"{pace:,.0f} messages/s"
        print(
            f"{what}: sent at {result['rate']:,.0f}/s; {result['delivered']:,} of "
            f"{result['sent']:,} marks delivered; send → feed out p50 {result['p50']:.2f} ms, "
            f"p99 {result['p99']:.2f} ms; {result['funding']}"
        )


if __name__ == "__main__":
    main()

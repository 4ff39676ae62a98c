"""The real Binance capture through the unmodified ccxt pro client and papertape's feed
(issue 14): a loopback server (``tests/support/binance_replay.py``) replays the futures BTCUSDT
capture's trade and depth streams over websockets; ccxt is pointed at it with the project's URL
override; ``ExchangeSource`` delivers the events.

Figures: messages/s replayed as fast as the client reads (trade + depth messages sent until the
feed has handed out the last of the 21,313 trades), and
at recorded pace the latency from the server sending a trade to the feed handing it out
(p50 / p99), with the count of trades delivered (every one, or the run says how many are
missing).

    uv run python bench/ccxt_replay.py            # full speed, then 60 s at recorded pace
    uv run python bench/ccxt_replay.py --quick    # full speed, then 10 s at recorded pace
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from papertape.domain.market import Trade
from papertape.market.exchange.connector import ExchangeHub, ccxt_factory
from papertape.market.exchange.feed import ExchangeSource, FeedOptions
from papertape.market.exchange.urls import redirected
from tests.support.binance_replay import BinanceReplay
from tests.support.data import MARKET_DATA

FUTURES = MARKET_DATA / "binance-futures_btcusdt_l2-stream_2024-08-08.txt.gz"
STREAMS = ("btcusdt@trade", "btcusdt@depth")


async def run(lines: list[str], speed: float, seconds: float | None) -> dict:
    async with BinanceReplay(lines, speed=speed) as server:
        hub = ExchangeHub(redirected(ccxt_factory, server.base_url))
        source = ExchangeSource(["BTC_USDT"], "binance", "swap", hub=hub, options=FeedOptions())
        received: dict[str, float] = {}

        async def read() -> None:
            async for batch in source.batches():
                now = time.perf_counter()
                for event in batch:
                    if isinstance(event, Trade):
                        received[event.trade_id] = now

        reader = asyncio.create_task(read())
        started = time.perf_counter()
        first: float | None = None
        while True:
            await asyncio.sleep(0.05)
            if first is None and server.sent_at:
                first = min(server.sent_at.values())
            if len(received) >= server.counts["btcusdt@trade"]:
                break
            if seconds is not None and time.perf_counter() - started > seconds:
                break
            if time.perf_counter() - started > 300:
                break
        await asyncio.sleep(0.2)
        finished = max(received.values()) if received else time.perf_counter()
        status = source.status
        await source.close()
        reader.cancel()
        sent = server.sent_at
        latencies = sorted(received[i] - sent[i] for i in received if i in sent)
        messages = sum(server.sent[k] for k in STREAMS)  # sent until the last trade was out
        return {
            "messages": messages,
            "rate": messages / (finished - (first or started)),
            "trades_sent": len(sent),
            "trades_received": len(received),
            "gaps": status.gaps,
            "p50": latencies[len(latencies) // 2] * 1_000 if latencies else None,
            "p99": latencies[int(len(latencies) * 0.99)] * 1_000 if latencies else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    lines = gzip.decompress(FUTURES.read_bytes()).decode().splitlines()
    fast = asyncio.run(run(lines, 0.0, None))
    print(
        f"full speed: {fast['messages']:,} trade + depth messages through ccxt and the feed at "
        f"{fast['rate']:,.0f} messages/s; trades {fast['trades_received']:,} of "
        f"{fast['trades_sent']:,} delivered, gaps {fast['gaps']}"
    )
    seconds = 10.0 if args.quick else 60.0
    paced = asyncio.run(run(lines, 1.0, seconds))
    print(
        f"recorded pace, {seconds:g} s: {paced['trades_received']:,} of {paced['trades_sent']:,} "
        f"trades sent delivered; server send → feed out p50 {paced['p50']:.2f} ms, "
        f"p99 {paced['p99']:.2f} ms"
    )


if __name__ == "__main__":
    main()

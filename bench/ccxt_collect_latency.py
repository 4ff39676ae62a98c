"""A collect session's end-to-end latency through the unmodified ccxt pro client (issue 14): a
real ``papertape serve`` (SQLite store in a temporary directory) runs a collect session on
BTC_USDT swap whose ``market.exchange_url`` points at the loopback Binance replaying the shared
futures capture at recorded pace (``tests/support/binance_replay.py``, in this process); this
process subscribes to the session on ``/ws`` and times what arrives against when the loopback
server sent each trade (both clocks are this process's ``perf_counter``).

``/ws`` carries no individual trades for a collect session, so two things it does carry are
timed, per trade sent:

- record path: the session summary (``session`` message, pushed once a second while a screen
  watches) whose ``counters.rows_written.trades`` first covers the trade: server send → ccxt →
  feed → recorder → SQLite write committed → counter on ``/ws``. The recorder writes trades in
  arrival order, so the n-th trade sent is recorded once n trades are written.
- price path: the ``price`` tick (pushed at most 4 times a second, then coalesced per subscriber
  every 0.25 s) whose last price and exchange time are those of the trade: server send → ccxt →
  feed → price tracker → ``/ws``, not through the store. Only the trades whose price a tick
  showed are timed; the others were overtaken before a tick went out.

At the end the session is stopped and the trades it recorded are counted in the store
(the session's ``rows_written``, and the volume of the 1 s bars ``GET /data/{session id}/candles``
builds from the stored trades against the volume of the trades sent).

    uv run python bench/ccxt_collect_latency.py               # 25 s at recorded pace
    uv run python bench/ccxt_collect_latency.py --seconds 60
    uv run python bench/ccxt_collect_latency.py --quick       # 5 s
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tests.support` from the repository

from tests.support.binance_replay import BinanceReplay
from tests.support.data import MARKET_DATA
from tests.support.server import ServerProcess

FUTURES = MARKET_DATA / "binance-futures_btcusdt_l2-stream_2024-08-08.txt.gz"
SYMBOL = "BTC_USDT"
DRAIN_SECONDS = 15.0  # how long the trades already sent may take to be recorded on a busy machine


@dataclass
class Result:
    trades_sent: int = 0
    trades_recorded: int = 0  # in the store after the stop
    record_ms: list[float] = field(default_factory=list)  # per trade: send → counter on /ws
    price_ms: list[float] = field(default_factory=list)  # per trade shown: send → tick on /ws
    ticks: int = 0
    volume_sent: float = 0.0  # BTC in the trades the session says it recorded, as sent
    volume_stored: float = 0.0  # BTC in the 1 s bars the API builds from the stored trades
    ticks_unmatched: int = 0  # a tick showing a book mid, not a trade

    @staticmethod
    def percentile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def trade_order(
    server: BinanceReplay,
) -> tuple[list[str], list[float], dict[tuple[int, float], str]]:
    """The trade ids and sizes in the order the server sends them, and the id of the last trade
    sent at each (exchange time in µs, price): what a price tick shows."""
    ids: list[str] = []
    sizes: list[float] = []
    last_at: dict[tuple[int, float], str] = {}
    for _, stream, text in server.messages:
        if stream.endswith("@trade"):
            data = json.loads(text)
            ids.append(str(data["t"]))
            sizes.append(float(data["q"]))
            last_at[(int(data["T"]) * 1_000, float(data["p"]))] = str(data["t"])
    return ids, sizes, last_at


async def _recorded(http: httpx.AsyncClient, session_id: str, wanted: int, seconds: float) -> int:
    """The session's recorded trades, once they reach ``wanted`` or ``seconds`` have passed."""
    deadline = time.perf_counter() + seconds
    while True:
        session = (await http.get(f"/sessions/{session_id}")).json()["data"]
        written = int(session["counters"].get("rows_written", {}).get("trades", 0))
        if written >= wanted or time.perf_counter() >= deadline:
            return written
        await asyncio.sleep(0.1)


async def run(lines: list[str], seconds: float, server_url: str) -> Result:
    result = Result()
    exchange = BinanceReplay(lines, speed=1.0)
    async with (
        exchange,
        httpx.AsyncClient(base_url=server_url, timeout=30) as http,
        aiohttp.ClientSession() as client,
    ):
        order, sizes, last_at = trade_order(exchange)
        socket = await client.ws_connect(server_url.replace("http", "ws", 1) + "/ws")
        body = {
            "mode": "collect",
            "symbols": [SYMBOL],
            "market": {
                "source": "exchange",
                "exchange": "binance",
                "market_type": "swap",
                "exchange_url": exchange.base_url,
            },
        }
        response = await http.post("/sessions/start", json=body)
        assert response.status_code == 201, response.text
        session_id = response.json()["data"]["session_id"]
        await socket.send_json(
            {"action": "subscribe", "topic": "session", "session_id": session_id}
        )
        credited = 0  # trades (in send order) whose record was seen on /ws
        shown: set[str] = set()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            try:
                frame = await socket.receive(timeout=deadline - time.perf_counter())
            except TimeoutError:
                break
            now = time.perf_counter()
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            if message["type"] == "tick" and message["kind"] == "price":
                result.ticks += 1
                last = message["data"]["prices"].get(SYMBOL)
                trade = last and last_at.get((last["ts"], last["price"]))
                if trade and trade in exchange.sent_at and trade not in shown:
                    shown.add(trade)
                    result.price_ms.append((now - exchange.sent_at[trade]) * 1_000)
                elif not trade:
                    result.ticks_unmatched += 1
            elif message["type"] == "session":
                written = message["data"]["counters"].get("rows_written", {}).get("trades", 0)
                for trade in order[credited:written]:
                    result.record_ms.append((now - exchange.sent_at[trade]) * 1_000)
                credited = max(credited, written)
        await socket.close()
        # the exchange goes quiet before the stop, so that no trade is still on its way when the
        # session stops (a stop does not wait for what the exchange has not delivered yet)
        exchange.halt()
        result.trades_sent = exchange.sent["btcusdt@trade"]
        await _recorded(http, session_id, result.trades_sent - 1, DRAIN_SECONDS)
        response = await http.post(f"/sessions/{session_id}/stop")
        assert response.status_code == 200, response.text
        result.trades_recorded = await _recorded(http, session_id, 0, 0.0)
        bars = (
            await http.get(f"/data/{session_id}/candles", params={"symbol": SYMBOL, "interval": 1})
        ).json()["data"]
        assert bars["built_from"] == "trades", bars
        result.volume_sent = sum(sizes[: result.trades_recorded])
        result.volume_stored = sum(bar["volume"] for bar in bars["items"])
    return result


def measure(seconds: float, workdir: Path) -> Result:
    lines = gzip.decompress(FUTURES.read_bytes()).decode().splitlines()
    server = ServerProcess(f"sqlite:///{workdir / 'papertape.db'}", workdir / "serve.log").start()
    try:
        return asyncio.run(run(lines, seconds, server.url))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--quick", action="store_true", help="5 s (as `python -m bench --quick`)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 5.0
    with tempfile.TemporaryDirectory(prefix="papertape-collect-") as workdir:
        result = measure(args.seconds, Path(workdir))
    p = Result.percentile
    print(
        f"{args.seconds:g} s at recorded pace: {result.trades_sent:,} trades sent, "
        f"{result.trades_recorded:,} recorded in the store; "
        f"{len(result.record_ms):,} seen recorded on /ws; their volume sent "
        f"{result.volume_sent:.3f} BTC, in the stored trades {result.volume_stored:.3f} BTC"
    )
    if result.record_ms:
        print(
            f"record path, server send → recorded-trades counter on /ws: "
            f"p50 {p(result.record_ms, 0.5):.1f} ms, p99 {p(result.record_ms, 0.99):.1f} ms, "
            f"max {max(result.record_ms):.1f} ms"
        )
    if result.price_ms:
        print(
            f"price path, server send → price tick on /ws ({len(result.price_ms):,} trades shown "
            f"in {result.ticks:,} ticks, {result.ticks_unmatched} showing a book mid): "
            f"p50 {p(result.price_ms, 0.5):.1f} ms, p99 {p(result.price_ms, 0.99):.1f} ms, "
            f"max {max(result.price_ms):.1f} ms"
        )


if __name__ == "__main__":
    main()

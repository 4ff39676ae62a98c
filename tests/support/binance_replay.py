"""A loopback Binance that replays a raw websocket capture to the unmodified ccxt pro client (a
test and benchmark tool; ``papertape.market.exchange.urls.redirected`` points ccxt at it).

On top of ``BinanceLoopback``'s REST (market lists, funding history: ``funding``, ``port`` and
``refuse_funding`` are passed to it) it serves:

- ``GET /fapi/v1/depth`` (and spot's ``/api/v3/depth``): the capture's REST depth snapshot;
- websockets on any path (ccxt opens ``…/public/ws/<n>`` and ``…/market/ws/<n>``): Binance's
  ``{"method": "SUBSCRIBE", "params": [...], "id": N}`` is answered ``{"result": null, "id": N}``
  and the connection then receives, in exchange-time order, the bare payload (the capture's
  ``data`` object, as Binance sends on a ``/ws`` path) of every captured message of the streams it
  subscribed to. A depth subscription matches the captured depth stream whatever its rate suffix
  (ccxt asks for ``@depth@100ms``; the capture holds ``@depth@0ms``).

``speed``: 0 sends as fast as the client reads; otherwise the capture's exchange-time gaps
divided by ``speed``. ``counts`` holds the captured messages per stream, ``sent`` the payloads
sent per stream (over all connections).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiohttp import WSMsgType, web

from papertape.domain.funding import FundingRate
from tests.support.binance_loopback import BinanceLoopback


def _key(stream: str) -> str:
    """``btcusdt@depth@100ms`` → ``btcusdt@depth``: the stream without its rate."""
    return "@".join(stream.split("@")[:2])


def _exchange_time(data: dict[str, Any]) -> int:
    """When the exchange sent a message: a trade's or depth update's ``T``, else the event time
    ``E`` (a mark-price update's ``T`` is the next funding time, not its own)."""
    if data.get("e") == "markPriceUpdate":
        return int(data["E"])
    return int(data.get("T") or data.get("E") or 0)


class BinanceReplay(BinanceLoopback):
    def __init__(
        self,
        capture_lines: Sequence[str],
        speed: float = 0.0,
        *,
        funding: Sequence[FundingRate] = (),
        port: int = 0,
        refuse_funding: bool = False,
    ):
        super().__init__(funding, port=port, refuse_funding=refuse_funding)
        self.speed = speed
        self.snapshot: dict[str, Any] | None = None
        messages: list[tuple[int, str, str]] = []
        for line in capture_lines:
            if not line.strip():
                continue
            message = json.loads(line.split(" ", 1)[1])
            if "lastUpdateId" in message:
                self.snapshot = message
                continue
            data = message["data"]
            at = _exchange_time(data)
            messages.append((at, _key(message["stream"]), json.dumps(data)))
        messages.sort(key=lambda m: m[0])  # stable: equal times keep the capture's order
        self.messages = messages
        self.counts: Counter[str] = Counter(stream for _, stream, _ in messages)
        self.sent: Counter[str] = Counter()
        # wall time (perf_counter) each trade (by id) and mark (``mark:<E>``) was sent
        self.sent_at: dict[str, float] = {}
        self.connections = 0
        self.halted = False

    def halt(self) -> None:
        """Send nothing more on any socket (the exchange goes quiet; its sockets stay open), so
        that what was sent can be counted and waited for."""
        self.halted = True

    async def _route(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._socket(request)
        path = "/" + request.match_info["path"]
        if path.endswith(("/fapi/v1/depth", "/api/v3/depth")) and self.snapshot is not None:
            self.requests.append((path, dict(request.query)))
            return web.json_response(self.snapshot)
        return await super()._route(request)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        self.connections += 1
        wanted: set[str] = set()
        sender: asyncio.Task | None = None
        try:
            async for frame in socket:
                if frame.type != WSMsgType.TEXT:
                    continue
                command = json.loads(frame.data)
                if command.get("method") == "SUBSCRIBE":
                    wanted |= {_key(s) for s in command.get("params", [])}
                    await socket.send_str(json.dumps({"result": None, "id": command.get("id")}))
                    if sender is None:
                        sender = asyncio.create_task(self._send(socket, wanted))
                elif command.get("method") == "UNSUBSCRIBE":
                    wanted -= {_key(s) for s in command.get("params", [])}
                    await socket.send_str(json.dumps({"result": None, "id": command.get("id")}))
        finally:
            if sender is not None:
                sender.cancel()
        return socket

    async def _send(self, socket: web.WebSocketResponse, wanted: set[str]) -> None:
        start_wall, start_at = time.monotonic(), self.messages[0][0] if self.messages else 0
        for i, (at, stream, text) in enumerate(self.messages):
            if stream not in wanted:
                continue
            if self.speed:
                delay = start_wall + (at - start_at) / 1_000 / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif i % 200 == 0:
                await asyncio.sleep(0)
            if self.halted:
                return
            await socket.send_str(text)
            self.sent[stream] += 1
            if stream.endswith("@trade"):
                self.sent_at[text.split('"t":', 1)[1].split(",", 1)[0].strip()] = (
                    time.perf_counter()
                )
            elif stream.endswith("@markPrice"):
                self.sent_at[f"mark:{json.loads(text)['E']}"] = time.perf_counter()

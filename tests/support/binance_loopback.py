"""A loopback stand-in for Binance's REST endpoints, for driving the unmodified ccxt client in tests
and benchmarks (``papertape.market.exchange.urls.redirected`` points ccxt at it; nothing leaves
127.0.0.1).

It answers in Binance's wire format, documented at
https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api:

- ``GET /fapi/v1/exchangeInfo``: the USD-M perpetuals the recorded data covers. The per-symbol
  fields are Binance's (tick and step sizes of XRPUSDT and BTCUSDT as Binance lists them); only
  the symbols the tests need are listed. Spot's and coin-M's market lists are empty.
- ``GET /fapi/v1/fundingRate``: funding history served from a real funding file (the rows of a
  ``funding`` dataset), paged the way Binance pages it: ascending from ``startTime``, at most
  ``limit`` rows (default 100, max 1000), ``endTime`` inclusive. With ``refuse_funding`` it
  answers what Binance answers when it fails a request (HTTP 400, code -1000).

``port``: listen there (a restarted exchange at the URL a session was configured with); 0: any.

Requests are logged in ``requests`` (path and query) so tests can check the paging.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from papertape.domain.funding import FundingRate

FUTURES_HOST = "fapi.binance.com"

# (symbol, base, tick size, step size, price precision, quantity precision)
PERPETUALS = (
    ("BTCUSDT", "BTC", "0.10", "0.001", 2, 3),
    ("XRPUSDT", "XRP", "0.0001", "0.1", 4, 1),
)


def _perpetual(symbol: str, base: str, tick: str, step: str, price_p: int, qty_p: int) -> dict:
    return {
        "symbol": symbol,
        "pair": symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": price_p,
        "quantityPrecision": qty_p,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000",
                "tickSize": tick,
            },
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "1000000", "stepSize": step},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": step,
                "maxQty": "100000",
                "stepSize": step,
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": "5"},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def _exchange_info(symbols: list[dict]) -> dict:
    return {
        "timezone": "UTC",
        "serverTime": time.time_ns() // 1_000_000,
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [],
        "symbols": symbols,
    }


class BinanceLoopback:
    """``async with BinanceLoopback(funding=rows) as server``: ``server.base_url`` is the base to
    give ``redirected``."""

    def __init__(
        self, funding: Sequence[FundingRate] = (), *, port: int = 0, refuse_funding: bool = False
    ):
        self.funding = sorted(funding, key=lambda r: r.ts)
        self.port = port
        self.refuse_funding = refuse_funding
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> BinanceLoopback:
        app = web.Application()
        app.router.add_get("/{host}/{path:.*}", self._route)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.port, self.base_url = port, f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _route(self, request: web.Request) -> web.Response:
        host, path = request.match_info["host"], "/" + request.match_info["path"]
        query = dict(request.query)
        self.requests.append((path, query))
        if path.endswith("/exchangeInfo"):
            listed = [_perpetual(*p) for p in PERPETUALS] if host == FUTURES_HOST else []
            return web.json_response(_exchange_info(listed))
        if host == FUTURES_HOST and path == "/fapi/v1/fundingRate":
            if self.refuse_funding:
                error = {"code": -1000, "msg": "An unknown error occurred while processing."}
                return web.json_response(error, status=400)
            return web.json_response(self._funding_page(query))
        return web.json_response({"code": -1121, "msg": f"not served here: {path}"}, status=400)

    def _funding_page(self, query: dict[str, str]) -> list[dict]:
        symbol = query.get("symbol", "")
        start = int(query.get("startTime", 0)) * 1_000
        end = int(query["endTime"]) * 1_000 if "endTime" in query else None
        limit = min(int(query.get("limit", 100)), 1000)
        rows = [
            r
            for r in self.funding
            if r.symbol.replace("_", "") == symbol
            and r.ts >= start
            and (end is None or r.ts <= end)
        ][:limit]
        return [
            {
                "symbol": symbol,
                "fundingTime": r.ts // 1_000,
                "fundingRate": f"{r.rate:.8f}",
                **({"markPrice": f"{r.mark_price:.8f}"} if r.mark_price is not None else {}),
            }
            for r in rows
        ]

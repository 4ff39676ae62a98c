"""A recorded-data exchange double that behaves like a ccxt.pro exchange object.

It answers the same methods with the same signatures papertape uses (``load_markets``,
``set_markets``, ``watch_trades``, ``watch_order_book``, ``fetch_ohlcv``, ``create_order``,
``cancel_order``, ``fetch_order``, ``fetch_open_orders``, ``fetch_closed_orders``,
``fetch_balance``, ``close``), returns ccxt's unified structures, and raises ccxt's own exception
classes. Its market data is the shared real data (``tests/support/market_tapes.py`` says which
file feeds which market), streamed at a chosen ``speed`` (0: as fast as the client reads, in
messages of ``message_size`` trades) and looped when a file ends: each loop
shifts timestamps by the file's span and trade ids by its id span, and with ``rebase`` the first
loop is shifted to start at the wall-clock moment the world was created (so a dashboard shows
current times). A subscription starts at "now" on the tape, like a real exchange: what was
published while a client was disconnected is lost to it (a gap).

One ``DoubleWorld`` is the exchange; every object its ``factory`` creates is a client of it, so a
test can cut the network (``set_unreachable``), drop every connection (``disconnect``), silence a
symbol (``silence``), re-deliver or hold back trades (``redeliver_last``, ``hold_back``), and
script order rejections (``reject_next_order``, ``timeout_after_accept_next_order``). Orders fill
against the recorded trades published after them, so partial fills happen the way real prints
arrive. Inject it with ``ExchangeHub(factory=world.factory)``.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ccxt

from tests.support import market_tapes as tapes

FEE_RATE = 0.001
PAGE_LIMIT = 1000
TRADES_LIMIT = 1000  # ccxt.pro's default trade cache size


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _market(
    symbol: str, market_type: str, precision: tuple[float, float], min_amount: float
) -> dict:
    base, rest = symbol.split("/")
    quote = rest.split(":")[0]
    swap = market_type == "swap"
    return {
        "id": f"{base}{quote}" + ("_PERP" if swap else ""),
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "settle": quote if swap else None,
        "baseId": base,
        "quoteId": quote,
        "settleId": quote if swap else None,
        "type": market_type,
        "spot": not swap,
        "margin": False,
        "swap": swap,
        "future": False,
        "option": False,
        "active": True,
        "contract": swap,
        "linear": True if swap else None,
        "inverse": False if swap else None,
        "contractSize": 1.0 if swap else None,
        "taker": FEE_RATE,
        "maker": FEE_RATE,
        "precision": {"price": precision[0], "amount": precision[1]},
        "limits": {"amount": {"min": min_amount, "max": None}, "cost": {"min": 1.0, "max": None}},
        "info": {},
    }


MARKETS = {
    "BTC/USDT": _market("BTC/USDT", "spot", (0.01, 0.000001), 0.000001),
    "XRP/ETH": _market("XRP/ETH", "spot", (0.00000001, 1.0), 1.0),
    "BTC/USDT:USDT": _market("BTC/USDT:USDT", "swap", (0.1, 0.001), 0.001),
    "ETH/USDT:USDT": _market("ETH/USDT:USDT", "swap", (0.01, 0.001), 0.001),
}


class _Tape:
    """A recorded sequence looped forever: item ``i`` is due ``due(i)`` tape-seconds after the
    world started."""

    def __init__(self, times_ms: list[int], rebase_to_ms: int | None):
        self.first = times_ms[0]
        self.span = times_ms[-1] - times_ms[0] + 1  # +1 ms keeps loops strictly after each other
        self.offsets = [t - self.first for t in times_ms]
        self.n = len(times_ms)
        self.shift = 0 if rebase_to_ms is None else rebase_to_ms - self.first

    def split(self, i: int) -> tuple[int, int]:
        return divmod(i, self.n)

    def ts(self, i: int) -> int:
        loop, j = self.split(i)
        return self.first + self.shift + loop * self.span + self.offsets[j]

    def due(self, i: int) -> float:
        loop, j = self.split(i)
        return (loop * self.span + self.offsets[j]) / 1000

    def published(self, elapsed: float) -> int:
        """How many items are due by ``elapsed`` tape-seconds."""
        ms = elapsed * 1000
        loop, rest = divmod(ms, self.span)
        return int(loop) * self.n + bisect.bisect_right(self.offsets, rest)


@dataclass
class _Order:
    id: str
    client_order_id: str
    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    timestamp: int
    start_index: int
    filled: float = 0.0
    cost: float = 0.0
    fee: float = 0.0
    status: str = "open"
    trades: list[dict] = field(default_factory=list)
    last_trade_ts: int | None = None

    def unified(self, quote: str) -> dict:
        return {
            "id": self.id,
            "clientOrderId": self.client_order_id,
            "timestamp": self.timestamp,
            "datetime": _iso(self.timestamp),
            "lastTradeTimestamp": self.last_trade_ts,
            "symbol": self.symbol,
            "type": self.type,
            "timeInForce": "GTC",
            "side": self.side,
            "price": self.price,
            "average": self.cost / self.filled if self.filled else None,
            "amount": self.amount,
            "filled": self.filled,
            "remaining": self.amount - self.filled,
            "cost": self.cost,
            "status": self.status,
            "fee": {"cost": self.fee, "currency": quote},
            "trades": [dict(t) for t in self.trades],
            "info": {},
        }


class DoubleWorld:
    def __init__(
        self,
        *,
        speed: float = 1.0,
        message_size: int = TRADES_LIMIT,
        rebase: bool = True,
        balances: dict[str, float] | None = None,
        api_key: str = "double-key",
        secret: str = "double-secret",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.speed = speed
        self.message_size = message_size  # at speed 0: trades per watch_trades answer
        self.clock = clock
        self.trades = {
            "BTC/USDT": tapes.btc_spot_trades(),
            "ETH/USDT:USDT": tapes.eth_swap_trades(),
            "XRP/ETH": tapes.xrp_eth_trades(),
        }
        self.books = {"BTC/USDT": tapes.btc_spot_books(), "BTC/USDT:USDT": tapes.btc_swap_books()}
        start_ms = int(time.time() * 1000) if rebase else None
        self._trade_tapes = {
            s: _Tape([t.ts_ms for t in v], start_ms) for s, v in self.trades.items()
        }
        self._book_tapes = {s: _Tape([b.ts_ms for b in v], start_ms) for s, v in self.books.items()}
        self.started = clock()
        self.unreachable: str | None = None
        self.epoch = 0
        self.silenced: set[str] = set()
        self._changed: asyncio.Event | None = None
        self._redeliver: dict[str, int] = {}
        self._hold: dict[str, int] = {}
        self._held: dict[str, list[dict]] = {}
        self._corrupt: set[str] = set()
        self._recent: dict[str, deque] = {s: deque(maxlen=TRADES_LIMIT) for s in self.trades}
        self.balances = dict(
            balances or {"USDT": 100_000.0, "BTC": 1.0, "ETH": 10.0, "XRP": 10_000.0}
        )
        self.api_key, self.secret = api_key, secret
        self.orders: dict[str, _Order] = {}
        self._order_ids = itertools.count(1)
        self._reject_next: list[BaseException] = []
        self._timeout_after_accept = 0
        self.calls: dict[str, int] = {}
        self.instances: list[DoubleExchange] = []

    # the factory seam ----------------------------------------------------------------------
    def factory(self, exchange_id: str, config: dict[str, Any]) -> DoubleExchange:
        exchange = DoubleExchange(self, exchange_id, config)
        self.instances.append(exchange)
        return exchange

    # scripting -----------------------------------------------------------------------------
    def set_unreachable(self, reason: str | None = "network is unreachable") -> None:
        """Every call fails with a ccxt ``NetworkError`` until called again with ``None``."""
        self.unreachable = reason
        if reason:
            self.disconnect()

    def disconnect(self) -> None:
        """Drop every open websocket: pending and next ``watch_*`` calls raise ``NetworkError``."""
        self.epoch += 1
        self._notify()

    def silence(self, symbol: str, silent: bool = True) -> None:
        """Stop (or resume) publishing ``symbol`` to clients; what the tape publishes meanwhile is
        lost to them, like a stalled exchange feed."""
        (self.silenced.add if silent else self.silenced.discard)(symbol)
        self._notify()

    def redeliver_last(self, symbol: str, count: int) -> None:
        """The next ``watch_trades`` answer repeats the last ``count`` trades (duplicates)."""
        self._redeliver[symbol] = count

    def hold_back(self, symbol: str, count: int) -> None:
        """Keep the next ``count`` trades back and deliver them after the following answer
        (out of order)."""
        self._hold[symbol] = count

    def corrupt_next_trade(self, symbol: str) -> None:
        """The next ``watch_trades`` answer carries a trade whose price ccxt could not parse
        (``None``, as ccxt leaves unparseable fields)."""
        self._corrupt.add(symbol)

    def reject_next_order(self, error: BaseException) -> None:
        self._reject_next.append(error)

    def timeout_after_accept_next_order(self, times: int = 1) -> None:
        """The next ``times`` ``create_order`` calls place the order, then raise
        ``RequestTimeout`` as if the answer were lost on the way back."""
        self._timeout_after_accept = times

    # time ----------------------------------------------------------------------------------
    def elapsed(self) -> float:
        return (self.clock() - self.started) * self.speed

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def _wait(self, seconds: float | None) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def _check_reachable(self) -> None:
        if self.unreachable:
            raise ccxt.NetworkError(f"double {self.unreachable}")

    # trades as ccxt structures -------------------------------------------------------------
    def trade_at(self, symbol: str, i: int) -> dict:
        tape, base = self._trade_tapes[symbol], self.trades[symbol]
        loop, j = tape.split(i)
        rec = base[j]
        id_span = base[-1].trade_id - base[0].trade_id + 1
        ts = tape.ts(i)
        return {
            "info": {},
            "id": str(rec.trade_id + loop * id_span),
            "timestamp": ts,
            "datetime": _iso(ts),
            "symbol": symbol,
            "order": None,
            "type": None,
            "side": rec.side,
            "takerOrMaker": "taker",
            "price": rec.price,
            "amount": rec.amount,
            "cost": rec.price * rec.amount,
            "fee": None,
            "fees": [],
        }

    def book_at(self, symbol: str, i: int, limit: int | None) -> dict:
        tape, base = self._book_tapes[symbol], self.books[symbol]
        loop, j = tape.split(i)
        rec = base[j]
        ts = tape.ts(i)
        return {
            "symbol": symbol,
            "bids": [[p, a] for p, a in rec.bids[:limit]],
            "asks": [[p, a] for p, a in rec.asks[:limit]],
            "timestamp": ts,
            "datetime": _iso(ts),
            "nonce": rec.nonce + loop * 1_000_000_000,
        }

    def _shape_delivery(self, symbol: str, trades: list[dict]) -> list[dict]:
        """Apply scripted duplicates / hold-backs to one ``watch_trades`` answer."""
        recent = self._recent[symbol]
        out = list(self._held.pop(symbol, []))
        count = self._redeliver.pop(symbol, 0)
        if count:
            out = list(recent)[-count:] + out
        hold = self._hold.pop(symbol, 0)
        if hold and len(trades) > hold and trades[hold - 1]["timestamp"] < trades[-1]["timestamp"]:
            self._held[symbol] = trades[:hold]
            trades = trades[hold:]
        elif hold:
            self._hold[symbol] = hold
        recent.extend(trades)
        if symbol in self._corrupt and trades:
            self._corrupt.discard(symbol)
            trades = [dict(trades[0], price=None, cost=None), *trades[1:]]
        return out + trades

    def published(self, tape: _Tape, cursor: int, chunk: int = TRADES_LIMIT) -> int:
        """How far a client at ``cursor`` may read; at speed 0 (as fast as possible) the next
        ``chunk`` items are always there."""
        if self.speed == 0:
            return cursor + chunk
        return tape.published(self.elapsed())

    # orders --------------------------------------------------------------------------------
    def match(self, symbol: str) -> None:
        """Fill open orders of ``symbol`` against the trades published since they were placed."""
        tape = self._trade_tapes.get(symbol)
        if tape is None:
            return
        for order in self.orders.values():
            if order.symbol != symbol or order.status != "open":
                continue
            end = self.published(tape, order.start_index)
            while order.start_index < end and order.status == "open":
                print_ = self.trade_at(symbol, order.start_index)
                order.start_index += 1
                if order.type == "limit" and (
                    (order.side == "buy" and print_["price"] > order.price)
                    or (order.side == "sell" and print_["price"] < order.price)
                ):
                    continue
                price = print_["price"] if order.type == "market" else order.price
                self._fill(
                    order,
                    min(order.amount - order.filled, print_["amount"]),
                    price,
                    print_["timestamp"],
                )

    def _fill(self, order: _Order, qty: float, price: float, ts: int) -> None:
        market = MARKETS[order.symbol]
        cost = qty * price
        fee = cost * FEE_RATE
        sign = 1 if order.side == "buy" else -1
        self.balances[market["base"]] = self.balances.get(market["base"], 0.0) + sign * qty
        self.balances[market["quote"]] = self.balances.get(market["quote"], 0.0) - sign * cost - fee
        order.filled += qty
        order.cost += cost
        order.fee += fee
        order.last_trade_ts = ts
        order.trades.append(
            {
                "id": f"{order.id}-{len(order.trades) + 1}",
                "order": order.id,
                "timestamp": ts,
                "datetime": _iso(ts),
                "symbol": order.symbol,
                "side": order.side,
                "type": order.type,
                "takerOrMaker": "taker" if order.type == "market" else "maker",
                "price": price,
                "amount": qty,
                "cost": cost,
                "fee": {"cost": fee, "currency": market["quote"]},
            }
        )
        if order.amount - order.filled <= 1e-12:
            order.status = "closed"


class DoubleExchange:
    """One client of a ``DoubleWorld``: what ``ccxt.pro.<id>(config)`` would return."""

    timeframes = {"1m": "1m"}

    def __init__(self, world: DoubleWorld, exchange_id: str, config: dict[str, Any]):
        self.world = world
        self.id = exchange_id
        self.options = dict(config.get("options") or {})
        self.apiKey = config.get("apiKey")
        self.secret = config.get("secret")
        self.markets: dict[str, dict] | None = None
        self.currencies: dict | None = None
        self.symbols: list[str] = []
        self.has = {
            "watchTrades": True,
            "watchOrderBook": True,
            "watchMarkPrice": True,  # claimed, but refused: the tapes hold no mark prices
            "fetchOHLCV": True,
            "createOrder": True,
            "fetchOpenOrders": True,
            "fetchClosedOrders": True,
            "fetchBalance": True,
        }
        self.closed = False
        self._cursors: dict[tuple[str, str], list[int]] = {}  # (kind, symbol) → [index, epoch]

    # markets -------------------------------------------------------------------------------
    async def load_markets(self, reload: bool = False, params: dict | None = None) -> dict:
        if self.markets and not reload:
            return self.markets
        self.world._count("load_markets")
        self.world._check_reachable()
        await asyncio.sleep(0)
        return self.set_markets({k: dict(v) for k, v in MARKETS.items()})

    def set_markets(self, markets: dict, currencies: dict | None = None) -> dict:
        self.markets = markets
        self.symbols = sorted(markets)
        self.currencies = currencies or {
            code: {"code": code} for m in markets.values() for code in (m["base"], m["quote"])
        }
        return markets

    def market(self, symbol: str) -> dict:
        if not self.markets or symbol not in self.markets:
            raise ccxt.BadSymbol(f"{self.id} does not have market symbol {symbol}")
        return self.markets[symbol]

    async def close(self) -> None:
        self.closed = True
        self.world._notify()

    # streams -------------------------------------------------------------------------------
    def _cursor(self, kind: str, symbol: str, tape: _Tape | None) -> list[int]:
        """The client's position on a tape; a new or re-opened subscription starts at "now"."""
        cursor = self._cursors.get((kind, symbol))
        if cursor is None or cursor[1] != self.world.epoch:
            if cursor is not None and cursor[1] >= 0:
                cursor[1] = -1  # this connection died: report it once, then resubscribe
                raise ccxt.NetworkError(f"{self.id} websocket connection closed")
            start = (
                0 if tape is None or self.world.speed == 0 else tape.published(self.world.elapsed())
            )
            if kind == "book" and tape is not None:
                start = max(0, start - 1)  # subscribing delivers the current book first
            cursor = [start, self.world.epoch]
            self._cursors[(kind, symbol)] = cursor
        return cursor

    async def _next(
        self, kind: str, symbol: str, tape: _Tape | None, at_most: int
    ) -> tuple[int, int]:
        """Wait until ``symbol``'s tape has something for this client; return the index range."""
        await self.load_markets()
        self.market(symbol)
        world = self.world
        await asyncio.sleep(0)  # a websocket read always yields to the loop, even with data ready
        while True:
            if self.closed:
                raise ccxt.ExchangeClosedByUser("Connection closed by the user")
            if world.unreachable:
                stale = self._cursors.get((kind, symbol))
                if stale is not None:
                    stale[1] = -2  # the connection is gone: resubscribe quietly once reachable
                world._check_reachable()
            cursor = self._cursor(kind, symbol, tape)
            if symbol in world.silenced or tape is None:
                await world._wait(None)
                if tape is not None and world.speed:
                    cursor[0] = max(cursor[0], tape.published(world.elapsed()))
                continue
            end = world.published(tape, cursor[0], chunk=min(at_most, world.message_size))
            if end > cursor[0]:
                # like ccxt.pro's bounded cache: a client that fell behind gets the newest
                # ``at_most`` items; the older ones are gone
                start = max(cursor[0], end - at_most)
                cursor[0] = end
                return start, end
            delay = (tape.due(cursor[0]) - world.elapsed()) / world.speed
            await world._wait(max(delay, 0.001))

    async def watch_trades(
        self,
        symbol: str,
        since: int | None = None,
        limit: int | None = None,
        params: dict | None = None,
    ) -> list[dict]:
        self.world._count("watch_trades")
        tape = self.world._trade_tapes.get(symbol)
        start, end = await self._next("trades", symbol, tape, TRADES_LIMIT)
        trades = [self.world.trade_at(symbol, i) for i in range(start, end)]
        self.world.match(symbol)
        return self.world._shape_delivery(symbol, trades)

    async def watch_order_book(
        self, symbol: str, limit: int | None = None, params: dict | None = None
    ) -> dict:
        self.world._count("watch_order_book")
        tape = self.world._book_tapes.get(symbol)
        # ccxt answers with the book as it is now, however many updates made it so; at speed 0
        # every update is one answer.
        _, end = await self._next("book", symbol, tape, 1 if self.world.speed == 0 else 1_000_000)
        return self.world.book_at(symbol, end - 1, limit)

    async def watch_mark_price(self, symbol: str, params: dict | None = None) -> dict:
        """The recorded tapes have no mark prices: refused the way ccxt refuses a stream an
        exchange lacks for a market."""
        self.world._count("watch_mark_price")
        raise ccxt.NotSupported(f"{self.id} watchMarkPrice() is not supported for {symbol}")

    # REST ----------------------------------------------------------------------------------
    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
        params: dict | None = None,
    ) -> list[list]:
        self.world._count("fetch_ohlcv")
        self.world._check_reachable()
        await self.load_markets()
        self.market(symbol)
        if timeframe not in self.timeframes:
            raise ccxt.BadRequest(f"{self.id} fetchOHLCV() does not support timeframe {timeframe}")
        rows = tapes.btc_perp_candles_1m() if symbol.startswith("BTC/USDT") else ()
        first = bisect.bisect_left(rows, (since or 0,))
        count = min(limit or PAGE_LIMIT, PAGE_LIMIT)
        return [list(r) for r in rows[first : first + count]]

    def _private(self, name: str) -> None:
        self.world._count(name)
        self.world._check_reachable()
        if not self.apiKey or not self.secret:
            raise ccxt.AuthenticationError(f'{self.id} requires "apiKey" credential')
        if (self.apiKey, self.secret) != (self.world.api_key, self.world.secret):
            raise ccxt.AuthenticationError(
                f'{self.id} {{"code":700002,"msg":"Signature for this request is not valid."}}'
            )

    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict | None = None,
    ) -> dict:
        self._private("create_order")
        await self.load_markets()
        market = self.market(symbol)
        world = self.world
        if world._reject_next:
            raise world._reject_next.pop(0)
        client_id = (params or {}).get("clientOrderId") or f"double-{next(world._order_ids)}"
        if any(o.client_order_id == client_id for o in world.orders.values()):
            raise ccxt.DuplicateOrderId(f"{self.id} duplicate clientOrderId {client_id}")
        if amount < market["limits"]["amount"]["min"]:
            raise ccxt.InvalidOrder(f"{self.id} amount {amount} below the minimum")
        if type == "limit" and price is None:
            raise ccxt.ArgumentsRequired(
                f"{self.id} createOrder() requires a price for limit orders"
            )
        tape = world._trade_tapes.get(symbol)
        if tape is None and type == "market":
            raise ccxt.InvalidOrder(
                f"{self.id} no liquidity for market orders on {symbol} in the double"
            )
        reference = (
            price
            if price is not None
            else world.trade_at(symbol, world.published(tape, 0)).get("price")
        )
        needed, currency = (
            (amount * reference * (1 + FEE_RATE), market["quote"])
            if side == "buy"
            else (amount, market["base"])
        )
        if world.balances.get(currency, 0.0) < needed:
            raise ccxt.InsufficientFunds(f"{self.id} insufficient {currency} balance")
        order = _Order(
            id=str(next(world._order_ids)),
            client_order_id=client_id,
            symbol=symbol,
            type=type,
            side=side,
            amount=float(amount),
            price=price,
            timestamp=int(time.time() * 1000),
            start_index=world.published(tape, 0) if tape else 0,
        )
        world.orders[order.id] = order
        if world._timeout_after_accept:
            world._timeout_after_accept -= 1
            raise ccxt.RequestTimeout(f"{self.id} POST /api/v3/order request timeout")
        return order.unified(market["quote"])

    def _find(self, order_id: str) -> _Order:
        order = self.world.orders.get(order_id)
        if order is None:
            raise ccxt.OrderNotFound(f"{self.id} order {order_id} not found")
        self.world.match(order.symbol)
        return order

    async def fetch_order(
        self, id: str, symbol: str | None = None, params: dict | None = None
    ) -> dict:
        self._private("fetch_order")
        order = self._find(id)
        return order.unified(MARKETS[order.symbol]["quote"])

    async def cancel_order(
        self, id: str, symbol: str | None = None, params: dict | None = None
    ) -> dict:
        self._private("cancel_order")
        order = self._find(id)
        if order.status != "open":
            raise ccxt.OrderNotFound(f"{self.id} order {id} is {order.status}, not open")
        order.status = "canceled"
        return order.unified(MARKETS[order.symbol]["quote"])

    def _orders(self, symbol: str | None, open_: bool) -> list[dict]:
        for s in {o.symbol for o in self.world.orders.values()}:
            self.world.match(s)
        return [
            o.unified(MARKETS[o.symbol]["quote"])
            for o in self.world.orders.values()
            if (symbol is None or o.symbol == symbol) and (o.status == "open") == open_
        ]

    async def fetch_open_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict | None = None,
    ) -> list[dict]:
        self._private("fetch_open_orders")
        return self._orders(symbol, True)

    async def fetch_closed_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict | None = None,
    ) -> list[dict]:
        self._private("fetch_closed_orders")
        return self._orders(symbol, False)

    async def fetch_balance(self, params: dict | None = None) -> dict:
        self._private("fetch_balance")
        for s in {o.symbol for o in self.world.orders.values()}:
            self.world.match(s)
        used: dict[str, float] = {}
        for o in self.world.orders.values():
            if o.status == "open":
                m = MARKETS[o.symbol]
                if o.side == "buy":
                    used[m["quote"]] = used.get(m["quote"], 0.0) + (o.amount - o.filled) * (
                        o.price or 0.0
                    )
                else:
                    used[m["base"]] = used.get(m["base"], 0.0) + (o.amount - o.filled)
        result: dict[str, Any] = {"info": {}, "free": {}, "used": {}, "total": {}}
        for code, total in self.world.balances.items():
            entry = {
                "free": total - used.get(code, 0.0),
                "used": used.get(code, 0.0),
                "total": total,
            }
            result[code] = entry
            for key in ("free", "used", "total"):
                result[key][code] = entry[key]
        return result

"""The consumers every session gets from the sessions layer: price tracking and recording the
feed to the tape. Strategy execution is the engine's ``TradingConsumer``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from papertape.domain.market import BookSnapshot, Candle, MarketEvent, Trade, event_price
from papertape.domain.session import Session
from papertape.engine.consumer import Consumer

PRICE_TICKS_PER_SECOND = 4


class PriceTracker(Consumer):
    """Keeps each symbol's last price and pushes it to ``/ws`` at most a few times a second."""

    def __init__(self) -> None:
        self.last_prices: dict[str, dict[str, Any]] = {}
        self.events_seen = 0
        self._last_push = 0.0

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        self.events_seen += len(events)
        for event in events:
            price = event_price(event)
            if price is not None:
                self.last_prices[event.symbol] = {"price": price, "ts": event.ts}
        now = time.monotonic()
        if now - self._last_push >= 1 / PRICE_TICKS_PER_SECOND and self.last_prices:
            self._last_push = now
            self.ctx.broadcast("price", {"prices": self.last_prices})

    def detail(self) -> dict[str, Any]:
        return {"events_seen": self.events_seen, "last_prices": self.last_prices}


class MarketRecorder(Consumer):
    """Writes every trade, candle and book snapshot to the store under the session's id, so the
    session can be replayed and backtested against. A write that fails raises (the runner fails
    the session with the store's error): nothing is dropped quietly."""

    def __init__(self) -> None:
        self.rows_written = {"trades": 0, "candles": 0, "book": 0}

    async def on_batch(self, events: Sequence[MarketEvent]) -> None:
        trades = [e for e in events if isinstance(e, Trade)]
        candles = [e for e in events if isinstance(e, Candle)]
        books = [e for e in events if isinstance(e, BookSnapshot)]
        source = self.ctx.session.session_id
        if trades:
            await self.ctx.store.write_trades(source, trades)
            self.rows_written["trades"] += len(trades)
        if candles:
            await self.ctx.store.write_candles(source, candles)
            self.rows_written["candles"] += len(candles)
        if books:
            await self.ctx.store.write_books(source, books)
            self.rows_written["book"] += len(books)

    def detail(self) -> dict[str, Any]:
        return {"rows_written": dict(self.rows_written)}


def consumers_for(session: Session) -> list[Consumer]:
    """What a session does with its market data, by mode. Everything a live feed delivers is
    recorded on the tape; a replay's data is on the tape already."""
    consumers: list[Consumer] = [PriceTracker()]
    if session.config["market"]["source"] == "exchange":
        consumers.append(MarketRecorder())
    return consumers

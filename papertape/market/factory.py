"""Which market source a session reads, decided from its config in one place."""

from __future__ import annotations

from papertape.domain.config import SessionConfig
from papertape.domain.market import StreamPosition
from papertape.domain.session import Mode, Session
from papertape.market.replay import ReplaySource
from papertape.market.source import MarketSource
from papertape.store.base import MarketDataStore


def build_source(
    session: Session,
    config: SessionConfig,
    store: MarketDataStore,
    position: StreamPosition | None = None,
) -> MarketSource:
    """The session's source, continuing after ``position`` (None: from the start)."""
    market = config.market
    if market.source == "replay":
        speed = 0.0 if session.mode is Mode.BACKTEST else market.speed
        extras = {"funding": market.funding, "mark": market.mark}
        return ReplaySource(
            store,
            market.dataset or "",  # set: the config's rules require a dataset for a replay
            session.symbols,
            speed,
            position,
            extras={kind: name for kind, name in extras.items() if name},
        )
    from papertape.market.exchange.connector import hub_for
    from papertape.market.exchange.feed import ExchangeSource, FeedOptions

    return ExchangeSource(
        session.symbols,
        market.exchange,
        market.market_type,
        resume_after=None if position is None else position.ts,
        session_id=session.session_id,
        hub=hub_for(market.exchange_url),
        options=FeedOptions(book_depth=market.book_depth, book_interval=market.book_interval),
    )

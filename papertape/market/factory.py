"""Which market source a session reads, decided from its config in one place."""

from __future__ import annotations

from papertape.domain.market import StreamPosition
from papertape.domain.session import Mode, Session
from papertape.market.replay import ReplaySource
from papertape.market.source import MarketSource
from papertape.store.base import Store


def build_source(
    session: Session, store: Store, position: StreamPosition | None = None
) -> MarketSource:
    """The session's source, continuing after ``position`` (None: from the start)."""
    market = session.config["market"]
    if market["source"] == "replay":
        speed = 0.0 if session.mode is Mode.BACKTEST else float(market["speed"])
        return ReplaySource(
            store,
            market["dataset"],
            session.symbols,
            speed,
            position,
            extras={k: market[k] for k in ("funding", "mark") if market.get(k)},
        )
    from papertape.market.exchange.connector import hub_for
    from papertape.market.exchange.feed import ExchangeSource, FeedOptions

    defaults = FeedOptions()  # sessions recorded before these settings existed keep the defaults
    return ExchangeSource(
        session.symbols,
        market["exchange"],
        market["market_type"],
        resume_after=None if position is None else position.ts,
        session_id=session.session_id,
        hub=hub_for(market.get("exchange_url")),
        options=FeedOptions(
            book_depth=market.get("book_depth", defaults.book_depth),
            book_interval=market.get("book_interval", defaults.book_interval),
        ),
    )

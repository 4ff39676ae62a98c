"""Which market source a session reads, decided from its config in one place."""

from __future__ import annotations

from papertape.domain.session import Mode, Session
from papertape.market.replay import ReplaySource
from papertape.market.source import MarketSource
from papertape.store.base import Store


def build_source(session: Session, store: Store) -> MarketSource:
    market = session.config["market"]
    resume_after = session.checkpoint.get("last_ts")
    if market["source"] == "replay":
        speed = 0.0 if session.mode is Mode.BACKTEST else float(market["speed"])
        return ReplaySource(
            store,
            market["dataset"],
            session.symbols,
            speed,
            resume_after,
            extras={k: market[k] for k in ("funding", "mark") if market.get(k)},
        )
    from papertape.market.exchange.connector import hub_for
    from papertape.market.exchange.feed import ExchangeSource, FeedOptions

    defaults = FeedOptions()  # sessions recorded before these settings existed keep the defaults
    return ExchangeSource(
        session.symbols,
        market["exchange"],
        market["market_type"],
        resume_after=resume_after,
        session_id=session.session_id,
        hub=hub_for(market.get("exchange_url")),
        options=FeedOptions(
            book_depth=market.get("book_depth", defaults.book_depth),
            book_interval=market.get("book_interval", defaults.book_interval),
        ),
    )

"""Which source a session's runner reads: market data (``papertape.market.factory``), or for a
sweep session its trials (``papertape.sessions.consumers.sweep``)."""

from __future__ import annotations

from papertape.domain.config import SessionConfig
from papertape.domain.market import StreamPosition
from papertape.domain.session import Mode, Session
from papertape.market.factory import build_source
from papertape.market.source import MarketSource
from papertape.store.base import Store


def source_for(
    session: Session,
    config: SessionConfig,
    store: Store,
    position: StreamPosition | None = None,
) -> MarketSource:
    """The session's source, continuing after ``position`` (market data; a sweep resumes from
    the trials it recorded instead)."""
    if session.mode is Mode.SWEEP:
        from papertape.sessions.consumers.sweep import SweepSource

        return SweepSource(session, config, store)
    return build_source(session, config, store, position)

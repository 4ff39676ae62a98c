"""Errors specific to reaching exchanges, each with a stable code (mapped to HTTP statuses in
``papertape.api.errors``).

Transient network trouble is not an error here: the feed retries it forever and reports
``reconnecting``. These are the cases a user must hear about.
"""

from __future__ import annotations

from papertape.domain.errors import FeedError, PapertapeError, ValidationFailed


class ExchangeUnavailable(PapertapeError):
    """The exchange could not be reached now (network down, exchange in maintenance). Retrying
    later may work; nothing was lost."""

    code = "exchange_unavailable"


class ExchangeAuthFailed(FeedError):
    """The exchange refused the API keys (or their permissions)."""

    code = "exchange_auth_failed"


class ExchangeUnsupported(FeedError):
    """The exchange (in ccxt) lacks a capability the session needs, e.g. ``watchTrades``."""

    code = "exchange_unsupported"


class ExchangeRejected(FeedError):
    """The exchange permanently refused a request of the feed (not a network problem)."""

    code = "exchange_rejected"


class CredentialsMissing(ValidationFailed):
    """Live trading was asked for but no API keys were found for the exchange."""

    code = "exchange_credentials_missing"


class InvalidTimeframe(ValidationFailed):
    code = "invalid_timeframe"

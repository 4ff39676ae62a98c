"""Errors with stable machine codes.

Every error a user can meet is a ``PapertapeError`` with a ``code`` that never changes meaning, a
human ``message`` and, where one is involved, the ``session_id``. The API maps codes to HTTP
statuses (``papertape.api.errors``); the CLI prints them; nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class PapertapeError(Exception):
    code = "papertape_error"

    def __init__(self, message: str, *, session_id: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.session_id = session_id
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole (session id and details too): a backtest's worker process hands the
        server's errors back and forth."""
        return (type(self), (self.message,), self.__dict__)


class ValidationFailed(PapertapeError):
    """Input that cannot be accepted; ``details`` lists ``{"field", "message"}`` items."""

    code = "validation_error"


class UnknownSymbol(ValidationFailed):
    code = "unknown_symbol"


class UnknownStrategy(ValidationFailed):
    code = "unknown_strategy"


class InvalidStrategyParams(ValidationFailed):
    code = "invalid_strategy_params"


class UnknownDataset(ValidationFailed):
    code = "unknown_dataset"


class UnknownExchange(ValidationFailed):
    code = "unknown_exchange"


class InvalidDataFile(ValidationFailed):
    """A market-data file that cannot be read: unknown format or kind, missing or bad columns."""

    code = "invalid_data_file"


class OrderRejected(ValidationFailed):
    """An order the venue, the portfolio or a risk rule refuses; ``details`` says which rule."""

    code = "order_rejected"


class DatasetNotFound(PapertapeError):
    code = "dataset_not_found"


class DatasetExists(PapertapeError):
    code = "dataset_exists"


class IllegalTransition(PapertapeError):
    """A state change the state machine forbids (for example stopping a stopped session)."""

    code = "illegal_transition"


class SessionNotRunning(PapertapeError):
    """An action that needs a running session (a manual order) on one that is not."""

    code = "session_not_running"


class NoMarketPrice(PapertapeError):
    """An order before the session has seen a price for its symbol: a market order would have
    nothing to fill against, and its record no market time to carry."""

    code = "no_market_price"


class StopTimeout(PapertapeError):
    """The runner did not finish in time; the session stays ``stopping`` and can be stopped again."""

    code = "stop_timeout"


class LiveTradingDisabled(PapertapeError):
    code = "live_trading_disabled"


class StoreError(PapertapeError):
    """The store could not do what was asked. ``retryable``: the same call may succeed later
    (the store was unreachable or refused a write for now), as opposed to one that will fail
    the same way every time."""

    code = "store_error"
    retryable = False


class StoreUnavailable(StoreError):
    """The store cannot be reached (closed, down, a table suspended)."""

    code = "store_unavailable"
    retryable = True


class StoreWriteFailed(StoreError):
    """A write that still failed after its retries. Raised, never swallowed."""

    code = "store_write_failed"
    retryable = True


class SessionNotFound(StoreError):
    """No session by that id (in the store, or asked of the service)."""

    code = "session_not_found"


class FeedError(PapertapeError):
    """A permanent market-data error (bad symbol on the exchange, auth refused)."""

    code = "feed_error"


class Unauthorized(PapertapeError):
    code = "unauthorized"

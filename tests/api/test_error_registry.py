"""One registry maps errors to HTTP statuses, by class: every error the package defines gets
the status its code always had, and a new subclass answers like its family."""

from __future__ import annotations

import papertape.api.app  # noqa: F401  (imports every module that defines an error)
from papertape.api.errors import status_for
from papertape.domain.errors import FeedError, PapertapeError, StoreError, ValidationFailed

# the statuses clients rely on, by stable code
EXPECTED = {
    "no_market_price": 409,
    # a resumed session's own record refused (they fail the session, not a request)
    "record_inconsistent": 400,
    "resume_state_unreadable": 400,
    "session_not_found": 404,
    "dataset_not_found": 404,
    "illegal_transition": 409,
    "state_conflict": 409,
    "session_not_running": 409,
    "dataset_exists": 409,
    "live_trading_disabled": 403,
    "unauthorized": 401,
    "stop_timeout": 504,
    "store_error": 503,
    "store_unavailable": 503,
    "store_write_failed": 503,
    "exchange_unavailable": 503,
    "session_start_failed": 500,
    "feed_error": 502,
    "exchange_auth_failed": 502,
    "exchange_rejected": 502,
    "exchange_unsupported": 400,
    "papertape_error": 400,
}


def every_error(cls: type[PapertapeError] = PapertapeError) -> list[type[PapertapeError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(every_error(sub))
    return found


def test_every_error_class_answers_its_codes_status():
    errors = [e for e in every_error() if e.__module__.startswith("papertape.")]
    assert len(errors) > 20
    for cls in errors:
        if cls.__module__ == "papertape.cli.client":
            continue  # the CLI's view of a server's answer, never raised by the server
        expected = 422 if issubclass(cls, ValidationFailed) else EXPECTED[cls.code]
        assert status_for(cls("x")) == expected, cls


def test_a_new_subclass_answers_like_its_family():
    class OddFeed(FeedError):
        code = "odd_feed"

    class OddStore(StoreError):
        code = "odd_store"

    class OddInput(ValidationFailed):
        code = "odd_input"

    assert [status_for(c("x")) for c in (OddFeed, OddStore, OddInput)] == [502, 503, 422]

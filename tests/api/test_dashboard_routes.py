"""Which requests get the dashboard and which get the API (``papertape.api.static``): the same
paths serve both, told apart by what the client accepts; ``/`` is the dashboard for everyone."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from papertape.api.static import is_dashboard_request


def request(method: str, path: str, accept: str | None = None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "method": method, "path": path, "headers": headers})


BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.mark.parametrize(
    ("method", "path", "accept", "dashboard"),
    [
        ("GET", "/", None, True),  # curl
        ("GET", "/", "application/json", True),
        ("GET", "/", BROWSER, True),
        ("HEAD", "/", None, False),
        ("POST", "/", BROWSER, False),
        ("GET", "/sessions/exec_1", BROWSER, True),  # a page of the dashboard
        ("GET", "/sessions/exec_1", "application/json", False),  # the session's JSON
        ("GET", "/sessions/exec_1", None, False),
        ("POST", "/sessions/start", BROWSER, False),
        ("GET", "/health", BROWSER, False),
        ("GET", "/docs", BROWSER, False),
        ("GET", "/assets/index.js", None, True),
    ],
)
def test_dashboard_or_api(method: str, path: str, accept: str | None, dashboard: bool) -> None:
    assert is_dashboard_request(request(method, path, accept)) is dashboard

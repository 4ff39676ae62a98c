"""The CLI's HTTP client for a running server: session control goes through the server that
runs the sessions, so the CLI and the dashboard can never disagree."""

from __future__ import annotations

import os
from typing import Any

import httpx

from papertape.domain.errors import PapertapeError

DEFAULT_SERVER = "http://127.0.0.1:8080"


class ServerError(PapertapeError):
    """The server answered with the error envelope; ``code`` is its ``error_code``."""

    def __init__(self, code: str, message: str, status: int, details: Any = None):
        super().__init__(message, details=details)
        self.code = code
        self.status = status


def server_url(explicit: str | None) -> str:
    return (explicit or os.environ.get("PAPERTAPE_URL") or DEFAULT_SERVER).rstrip("/")


def call(server: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    headers = {}
    token = os.environ.get("PAPERTAPE_API_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx.request(method, f"{server}{path}", headers=headers, timeout=60, **kwargs)
    except httpx.HTTPError as exc:
        raise ServerError(
            "server_unreachable", f"cannot reach the papertape server at {server}: {exc}", 0
        ) from exc
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise ServerError(
            "bad_response",
            f"{server}{path} answered {response.status_code} without JSON",
            response.status_code,
        ) from None
    if response.is_error:
        raise ServerError(
            body.get("error_code", "http_error"),
            body.get("message", response.text),
            response.status_code,
            body.get("details"),
        )
    return body

"""API token: required when the server listens beyond loopback.

On loopback (the default, 127.0.0.1) the machine's own users are trusted, as with any local
dev server. Bound to another address the server refuses to start without
``PAPERTAPE_API_TOKEN``, and then every call needs ``Authorization: Bearer <token>`` (the
websocket also accepts ``?token=``, since browsers cannot set headers on websockets).
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request, WebSocket
from starlette.types import ASGIApp, Receive, Scope, Send

from papertape.api.errors import send_error
from papertape.api.static import is_dashboard_request

OPEN_PATHS = ("/health",)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _token_matches(expected: str | None, presented: str | None) -> bool:
    if expected is None:
        return True
    return presented is not None and hmac.compare_digest(expected, presented)


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def websocket_allowed(socket: WebSocket) -> bool:
    expected = socket.app.state.api_token
    presented = _bearer(socket.headers.get("authorization")) or socket.query_params.get("token")
    return _token_matches(expected, presented)


class TokenMiddleware:
    """Plain ASGI (no per-request task or stream, unlike ``BaseHTTPMiddleware``): every HTTP
    request but ``/health`` and the dashboard's files needs the token when one is set."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        expected = request.app.state.api_token
        if (
            expected is None
            or request.url.path in OPEN_PATHS
            or is_dashboard_request(request)
            or _token_matches(expected, _bearer(request.headers.get("authorization")))
        ):
            await self.app(scope, receive, send)
            return
        await send_error(
            send,
            401,
            "unauthorized",
            "missing or wrong API token: send 'Authorization: Bearer <PAPERTAPE_API_TOKEN>'",
        )

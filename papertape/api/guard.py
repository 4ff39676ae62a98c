"""Cross-site protection: only this server's own pages and non-browser clients drive it.

Three checks, before anything else sees a request (HTTP and ``/ws``):

1. **Host** (DNS rebinding): a page on ``evil.example`` whose name an attacker re-points at
   127.0.0.1 reaches this server with ``Host: evil.example``. The Host must be an IP literal, the
   name the server was bound to, ``localhost``, or one of ``PAPERTAPE_ALLOWED_HOSTS`` → else
   ``421 host_not_allowed``.
2. **Origin** (cross-site requests): a state-changing request (and a websocket handshake) whose
   ``Origin`` — or, without one, ``Referer`` — is neither this server's own origin (the same
   host and port as the ``Host`` it was sent to) nor one of ``PAPERTAPE_ALLOWED_ORIGINS`` →
   ``403 cross_origin_refused``. Without either header (curl, the CLI) the request passes:
   browsers always send ``Origin`` on cross-site POSTs.
3. **Content type**: a state-changing request with a body must send ``application/json``
   (``multipart/form-data`` for a dataset upload) → else ``415 unsupported_media_type``. A form
   post, the one cross-site POST a browser sends without asking first, can never pass.

Reads (GET) need no Origin check: without CORS headers a foreign page cannot read the answers.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from papertape.api.errors import send_error
from papertape.api.limits import UPLOAD_PATHS

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
WS_POLICY_VIOLATION = 1008


def _split_env(name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in os.environ.get(name, "").split(",") if p.strip())


def _host_name(netloc: str) -> str:
    """``Example.com:8080`` → ``example.com``; ``[::1]:8080`` → ``::1``."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _origin_of(url: str) -> str | None:
    """``https://Host:8080/path?x`` → ``https://host:8080``; None for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class GuardPolicy:
    """Which hosts and origins may drive this server."""

    bound_host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, bound_host: str) -> GuardPolicy:
        return cls(
            bound_host=bound_host,
            allowed_hosts=_split_env("PAPERTAPE_ALLOWED_HOSTS"),
            allowed_origins=_split_env("PAPERTAPE_ALLOWED_ORIGINS"),
        )

    def host_allowed(self, host_header: str | None) -> bool:
        if not host_header:
            return True  # HTTP/1.0 clients; browsers always send Host
        name = _host_name(host_header)
        allowed = {h.lower() for h in self.allowed_hosts} | LOCAL_NAMES
        allowed.add(_host_name(self.bound_host))
        return _is_ip(name) or name in allowed

    def origin_allowed(self, origin: str, host_header: str | None) -> bool:
        wanted = _origin_of(origin)
        if wanted is None:
            return False  # "null" (sandboxed frames, file://) or garbage
        if host_header and urlsplit(wanted).netloc == host_header.strip().lower():
            return True
        return wanted in {o.rstrip("/").lower() for o in self.allowed_origins}


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _content_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _has_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in headers


class GuardMiddleware:
    """Applies ``GuardPolicy`` to every HTTP request and websocket handshake."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await _close_websocket(receive, send, refusal[2])
        else:
            await send_error(send, *refusal)

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """``(status, error_code, message)`` when the request must be refused."""
        headers = _headers(scope)
        host = headers.get("host")
        if not self.policy.host_allowed(host):
            return (
                421,
                "host_not_allowed",
                f"Host {host!r} is not a name this server answers to; add it to "
                "PAPERTAPE_ALLOWED_HOSTS if it is yours",
            )
        method = scope.get("method", "GET")
        if scope["type"] == "websocket" or method in STATE_CHANGING:
            origin = headers.get("origin") or headers.get("referer")
            if origin is not None and not self.policy.origin_allowed(origin, host):
                return (
                    403,
                    "cross_origin_refused",
                    f"requests from {origin!r} may not control this server; add the origin "
                    "to PAPERTAPE_ALLOWED_ORIGINS if it is yours",
                )
        if method in STATE_CHANGING and _has_body(headers):
            return _media_refusal(scope["path"], _content_type(headers))
        return None


def _media_refusal(path: str, content_type: str) -> tuple[int, str, str] | None:
    wanted: Iterable[str] = (
        ("multipart/form-data",) if path in UPLOAD_PATHS else ("application/json",)
    )
    if content_type in wanted:
        return None
    return (
        415,
        "unsupported_media_type",
        f"send the body as {' or '.join(wanted)}, not {content_type or 'no content type'!r}",
    )


async def _close_websocket(receive: Receive, send: Send, reason: str) -> None:
    """Accept, then close with 1008 (policy violation) and the reason: a browser sees a close
    code it can report, where a refused handshake is only an anonymous failure."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION, "reason": reason[:120]})

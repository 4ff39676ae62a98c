"""The one error envelope and the map from stable error codes to HTTP statuses.

``{"status": "error", "error_code": "<stable_code>", "message": "<human text>", "details": ...}``
(plus ``session_id`` when a session is involved). Client mistakes are 4xx with a specific
code; nothing a client sends can produce a 500.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from papertape.domain.errors import (
    DatasetExists,
    DatasetNotFound,
    FeedError,
    IllegalTransition,
    LiveTradingDisabled,
    NoMarketPrice,
    PapertapeError,
    SessionNotFound,
    SessionNotRunning,
    StopTimeout,
    StoreError,
    Unauthorized,
    ValidationFailed,
)
from papertape.market.exchange.errors import ExchangeUnavailable, ExchangeUnsupported
from papertape.sessions.service import SessionStartFailed, StateConflict
from papertape.sessions.strategy_catalog import strategy_param_errors

log = structlog.get_logger("papertape.api")

# The HTTP status of every error, by class: an error takes the entry of the nearest class in
# its ancestry, so a new subclass answers like its family until it is given its own.
STATUS_BY_ERROR: dict[type[PapertapeError], int] = {
    PapertapeError: 400,
    ValidationFailed: 422,
    Unauthorized: 401,
    LiveTradingDisabled: 403,
    SessionNotFound: 404,
    DatasetNotFound: 404,
    IllegalTransition: 409,
    StateConflict: 409,
    SessionNotRunning: 409,
    NoMarketPrice: 409,
    DatasetExists: 409,
    SessionStartFailed: 500,
    FeedError: 502,
    ExchangeUnsupported: 400,  # a capability the exchange lacks: the request's to change
    StoreError: 503,
    ExchangeUnavailable: 503,
    StopTimeout: 504,
}


def status_for(error: PapertapeError) -> int:
    return next(STATUS_BY_ERROR[c] for c in type(error).__mro__ if c in STATUS_BY_ERROR)


def error_body(
    code: str, message: str, details: Any = None, session_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "error_code": code,
        "message": message,
        "details": details,
    }
    if session_id is not None:
        body["session_id"] = session_id
    return body


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """pydantic's errors as ``{"field": "market.speed", "message": "..."}`` items."""
    details = []
    for error in errors:
        location = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            location = ("body",)
            message = f"malformed JSON: {error.get('ctx', {}).get('error', message)}"
        elif location == ("body",) and error.get("type") in ("model_attributes_type", "dict_type"):
            message = "the body must be a JSON object (send Content-Type: application/json)"
        details.append({"field": _field_name(location), "message": message})
    return details


BODY_PARSE_ERROR = "There was an error parsing the body"


def _allowed_methods(request: Request) -> list[str] | None:
    """The methods the published API documents for this path: those of the most specific path
    template that matches it (``/sessions/start`` before ``/sessions/{session_id}``). ``None``
    for paths outside the API document."""
    segments = request.url.path.rstrip("/").split("/")
    best: tuple[int, dict[str, Any]] | None = None
    for template, operations in request.app.openapi().get("paths", {}).items():
        parts = template.rstrip("/").split("/")
        if len(parts) != len(segments):
            continue
        if all(p.startswith("{") or p == s for p, s in zip(parts, segments, strict=False)):
            params = sum(p.startswith("{") for p in parts)
            if best is None or params < best[0]:
                best = (params, operations)
    if best is None:
        return None
    return sorted(m.upper() for m in best[1] if m.upper() in HTTP_METHODS)


HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PapertapeError)
    async def papertape_error(request: Request, exc: PapertapeError) -> JSONResponse:
        status = status_for(exc)
        logger = log.error if status >= 500 else log.info
        logger(
            "api.error",
            error_code=exc.code,
            status=status,
            path=request.url.path,
            session_id=exc.session_id,
            message=exc.message,
        )
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details, exc.session_id), status_code=status
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        if request.url.path == "/sessions/start":
            # the strategies' own parameter rules, in the same answer as the other fields'
            known = {d["field"] for d in details}
            details += [d for d in strategy_param_errors(exc.body) if d["field"] not in known]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return JSONResponse(
            error_body("validation_error", f"invalid request: {summary}", details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # only the framework raises these: a body it cannot parse (bytes that are not UTF-8
            # JSON, broken multipart). The same client mistake as malformed JSON: the same 422
            message = (
                "malformed JSON: the body is not UTF-8 text"
                if exc.detail == BODY_PARSE_ERROR
                else f"malformed body: {exc.detail}"
            )
            details = [{"field": "body", "message": message}]
            return JSONResponse(
                error_body("validation_error", f"invalid request: body: {message}", details),
                status_code=422,
            )
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            # Starlette names only the first route that matched the path; list them all
            headers["Allow"] = ", ".join(allowed)
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )


async def send_error(send: Send, status: int, code: str, message: str, details: Any = None) -> None:
    """Answer with the error envelope straight from an ASGI middleware."""
    body = json.dumps(error_body(code, message, details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CrashMiddleware:
    """The last line: an exception nothing else handled answers a generic 500 carrying an
    error id. The exception itself goes to the log under that id, never to the client (its
    text can name files, SQL or internals)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] in ("http.response.start", "websocket.accept"):
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("api.crash", error_id=error_id, path=scope.get("path"))
            if scope["type"] == "http" and not started:
                await send_error(
                    send,
                    500,
                    "internal_error",
                    f"internal error (error id {error_id}; the server log has the details)",
                    {"error_id": error_id},
                )

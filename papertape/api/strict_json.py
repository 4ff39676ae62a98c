"""Strict JSON bodies: standard JSON only, nested at most ``MAX_DEPTH`` levels.

Python's ``json`` reads ``NaN`` and ``Infinity``, which no other JSON parser accepts: stored in a
session's config they would come back out as JSON the dashboard cannot parse. A body nested
thousands of levels deep would exhaust the parser's stack. Both are refused here with a 422
naming the body, before any route reads it; the body is then handed on unchanged.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from papertape.api.errors import send_error

MAX_DEPTH = 64


class InvalidJson(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not JSON: send numbers as finite values")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise InvalidJson(f"{text[:40]} is too large for a 64-bit float")
    return value


def check_json(data: bytes) -> None:
    """Raise ``InvalidJson`` for anything but standard JSON nested at most ``MAX_DEPTH`` deep
    whose numbers fit a 64-bit float."""
    try:
        document = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InvalidJson:
        raise
    except RecursionError:
        raise InvalidJson(f"nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        return  # malformed: the framework's own parse reports it with its position
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_DEPTH:
                    raise InvalidJson(f"nested deeper than {MAX_DEPTH} levels")
                stack.append((child, depth + 1))


def _is_json(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key.lower() == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/json")
    return False


class StrictJsonMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_json(body)
        except InvalidJson as exc:
            await _invalid(send, str(exc))
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _invalid(send: Send, message: str) -> None:
    text = f"malformed JSON: {message}"
    details = [{"field": "body", "message": text}]
    await send_error(send, 422, "validation_error", f"invalid request: body: {text}", details)

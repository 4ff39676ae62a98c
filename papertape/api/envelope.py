"""The one success envelope: ``{"status": "<what happened>", "data": {...}}``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.responses import Response


def ok(status: str, data: Any) -> dict[str, Any]:
    return {"status": status, "data": data}


async def ok_built(status: str, build: Callable[[], Any]) -> Response:
    """The envelope around what ``build()`` returns, made and encoded in a worker thread. For the
    large replies (thousands of records or bars): building and validating them on the event loop
    held it for seconds while a session's page loaded, and every other request waited. The
    route's ``response_model`` still documents the reply; ``build`` returns exactly its shape."""

    def encode() -> bytes:
        body = {"status": status, "data": build()}
        return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

    return Response(await asyncio.to_thread(encode), media_type="application/json")

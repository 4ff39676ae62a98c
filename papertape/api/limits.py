"""Request body limits: a huge body gets a 413 with the error envelope, never a 500 or an
exhausted server."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from papertape.api.errors import send_error

JSON_BODY_LIMIT = 1 << 20  # 1 MiB: far above any real control request
UPLOAD_BODY_LIMIT = 512 << 20  # dataset files
UPLOAD_PATHS = ("/datasets",)


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = UPLOAD_BODY_LIMIT if scope["path"] in UPLOAD_PATHS else JSON_BODY_LIMIT
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    await send_error(send, 413, "payload_too_large", f"request body larger than {limit} bytes")

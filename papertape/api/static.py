"""Serving the built dashboard (``web/dist``) from the API's own port.

Client-side routes share paths with the API (``/sessions/exec_...`` is both a page and a JSON
resource), so the answer depends on who asks: a browser navigation (``Accept: text/html``) gets
the dashboard's ``index.html``; ``fetch`` and API clients get JSON. ``/`` is the dashboard for
every client (``curl http://127.0.0.1:8080/`` shows that it is up).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
NOT_HTML = ("/docs", "/redoc", "/openapi.json", "/health", "/metrics", "/ws")

MISSING_DASHBOARD = """<!doctype html><html><head><title>papertape</title></head>
<body style="font-family:sans-serif;background:#1a1b1e;color:#e0e0e0;padding:2em">
<h1>papertape</h1><p>The dashboard has not been built: <code>{dist}</code> is missing.</p>
<p>Run <code>make run</code> (it builds it), or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run
build</code>. The API is up: see <a href="/docs" style="color:#74c0fc">/docs</a>.</p>
</body></html>"""


def is_dashboard_request(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/assets/") or path in ("/favicon.ico", "/favicon.svg"):
        return True
    if path == "/" and request.method == "GET":  # no API resource lives there: whoever asks
        return True
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and not path.startswith(NOT_HTML)
    )


class DashboardMiddleware:
    """Plain ASGI: a browser navigation gets the dashboard; everything else goes on."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if request.url.path.startswith("/assets/") or not is_dashboard_request(request):
            await self.app(scope, receive, send)
            return
        await dashboard_response(request.url.path)(scope, receive, send)


def dashboard_response(path: str) -> Response:
    index = DIST / "index.html"
    if not index.exists():
        return HTMLResponse(MISSING_DASHBOARD.format(dist=DIST), status_code=503)
    candidate = (DIST / path.lstrip("/")).resolve()
    if candidate.is_file() and DIST in candidate.parents:
        return FileResponse(candidate)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


def install_dashboard(app: FastAPI) -> None:
    app.add_middleware(DashboardMiddleware)
    assets = DIST / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")

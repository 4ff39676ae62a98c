"""Only this server's own pages and non-browser clients can drive it: a foreign page's form post,
a cross-site fetch, a DNS-rebound name and a foreign websocket are all refused, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import module_server
from tests.support.server import ServerProcess

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('guard') / 'papertape.db'}"
    yield from module_server(url, tmp_path_factory)


@pytest.fixture(scope="module")
def trusting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One configured to trust a reverse proxy's name and a separate dashboard origin."""
    root = tmp_path_factory.mktemp("guard-env")
    process = ServerProcess(
        f"sqlite:///{root / 'papertape.db'}",
        root / "server.log",
        extra_env={
            "PAPERTAPE_ALLOWED_HOSTS": "papertape.internal",
            "PAPERTAPE_ALLOWED_ORIGINS": "https://desk.example, https://ops.example:8443",
        },
    ).start()
    yield process
    process.stop()


def post(server: ServerProcess, path: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", timeout=10, **kwargs)


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and body["error_code"] == code, body
    assert body["message"]


# --- Origin / Referer ------------------------------------------------------------------------
def test_a_foreign_page_cannot_stop_every_session(server: ServerProcess) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    refused(
        post(server, "/sessions/stop_all", headers={"Origin": EVIL, **form}),
        403,
        "cross_origin_refused",
    )
    refused(
        post(server, "/sessions/stop_all", headers={"Origin": EVIL}), 403, "cross_origin_refused"
    )
    refused(
        post(server, "/sessions/x/stop", headers={"Referer": f"{EVIL}/page.html"}),
        403,
        "cross_origin_refused",
    )
    refused(
        post(server, "/sessions/stop", headers={"Origin": "null"}, json={"session_id": "x"}),
        403,
        "cross_origin_refused",
    )
    # the same port on another name, or another port on this name, is another origin
    other_port = f"http://127.0.0.1:{server.port + 1}"
    refused(
        post(server, "/sessions/stop_all", headers={"Origin": other_port}),
        403,
        "cross_origin_refused",
    )


def test_the_servers_own_pages_and_plain_clients_pass(server: ServerProcess) -> None:
    assert post(server, "/sessions/stop_all", headers={"Origin": server.url}).status_code == 200
    own_page = {"Referer": f"{server.url}/sessions"}
    assert post(server, "/sessions/stop_all", headers=own_page).status_code == 200
    # curl and the CLI send no Origin at all
    missing = post(server, "/sessions/stop", json={"session_id": "fake_session_12345"})
    refused(missing, 404, "session_not_found")


def test_reads_are_not_origin_checked(server: ServerProcess) -> None:
    # a foreign page cannot read the answer anyway (no CORS headers are ever sent)
    response = httpx.get(f"{server.url}/sessions", headers={"Origin": EVIL}, timeout=10)
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


# --- content type ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", None],
)
def test_control_bodies_must_be_json(server: ServerProcess, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = b'{"session_id": "fake_session_12345"}'
    response = post(server, "/sessions/stop", headers=headers, content=body)
    refused(response, 415, "unsupported_media_type")
    assert "application/json" in response.json()["message"]


def test_uploads_must_be_multipart(server: ServerProcess) -> None:
    response = post(server, "/datasets", json={"name": "x"})
    refused(response, 415, "unsupported_media_type")
    assert "multipart/form-data" in response.json()["message"]


def test_json_with_a_charset_passes(server: ServerProcess) -> None:
    response = post(
        server,
        "/sessions/stop",
        headers={"content-type": "application/json; charset=utf-8"},
        content=b'{"session_id": "fake_session_12345"}',
    )
    refused(response, 404, "session_not_found")


# --- Host (DNS rebinding) --------------------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io"])
def test_a_rebound_name_is_refused(server: ServerProcess, host: str) -> None:
    for method, path in [("GET", "/sessions"), ("POST", "/sessions/stop_all"), ("GET", "/health")]:
        response = httpx.request(method, f"{server.url}{path}", headers={"Host": host}, timeout=10)
        refused(response, 421, "host_not_allowed")


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:{port}", "127.0.0.1:{port}", "[::1]:{port}"]
)
def test_the_servers_own_names_pass(server: ServerProcess, host: str) -> None:
    headers = {"Host": host.format(port=server.port)}
    assert httpx.get(f"{server.url}/sessions", headers=headers, timeout=10).status_code == 200


def test_a_foreign_websocket_is_closed_with_a_policy_code(server: ServerProcess) -> None:
    ws_url = server.url.replace("http://", "ws://") + "/ws"
    with connect(ws_url, origin=EVIL) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with connect(ws_url, origin=server.url) as socket:
        socket.send('{"action": "ping"}')
        assert json.loads(socket.recv(timeout=5)) == {"type": "pong"}


# --- the allow-lists -------------------------------------------------------------------------
def test_configured_hosts_and_origins_pass(trusting_server: ServerProcess) -> None:
    s = trusting_server
    headers = {"Host": "papertape.internal", "Origin": "https://desk.example"}
    assert post(s, "/sessions/stop_all", headers=headers).status_code == 200
    assert (
        post(s, "/sessions/stop_all", headers={"Origin": "https://ops.example:8443"}).status_code
        == 200
    )
    refused(
        post(s, "/sessions/stop_all", headers={"Origin": "https://ops.example"}),
        403,
        "cross_origin_refused",
    )
    refused(
        httpx.get(f"{s.url}/sessions", headers={"Host": "other.internal"}, timeout=10),
        421,
        "host_not_allowed",
    )

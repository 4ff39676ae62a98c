"""The guard that keeps tests on loopback works: a non-loopback connection or name lookup is
refused and recorded (the autouse fixture then fails the test), loopback passes, and real ccxt
clients are pointed at a closed loopback port."""

from __future__ import annotations

import socket

import pytest

from papertape.market.exchange.connector import ccxt_factory
from tests.support import no_network


@pytest.mark.parametrize(
    ("family", "address"),
    [(socket.AF_INET, ("93.184.216.34", 443)), (socket.AF_INET6, ("2606:4700::1", 443, 0, 0))],
)
def test_a_connection_beyond_loopback_is_refused_and_recorded(family, address) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(OSError, match="only loopback"):
            sock.connect(address)
    with pytest.raises(OSError, match="only loopback"):
        socket.getaddrinfo("api.mexc.com", 443)
    attempts = no_network.take_attempts()  # taken here, so this test itself passes
    assert attempts[0] == f"connect {address[0]!r}" and attempts[-1] == "resolve 'api.mexc.com'"


def test_loopback_passes() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
    assert socket.getaddrinfo("localhost", 80)
    assert no_network.take_attempts() == []


def test_ccxt_clients_go_through_a_closed_loopback_proxy() -> None:
    exchange = ccxt_factory("mexc", {})
    proxy = exchange.httpsProxy
    assert proxy.startswith("http://127.0.0.1:") and exchange.wssProxy == proxy
    port = int(proxy.rsplit(":", 1)[1])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens there

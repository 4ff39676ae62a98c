"""Tests never reach anything but loopback.

``install()`` wraps the socket calls every client library ends in (``connect``, ``connect_ex``,
``getaddrinfo``, ``sendto``): a destination that is not a loopback address or name is refused
with ``OSError`` and remembered, and ``check()`` fails the test that tried — even when the code
under test swallowed the error as "exchange unreachable", as it is built to. Server processes the
tests start get ``PAPERTAPE_EXCHANGE_PROXY`` pointed at a closed loopback port, so their ccxt
clients are refused at once without leaving the machine.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_attempts: list[str] = []
_installed = False


def is_loopback(host: Any) -> bool:
    if host is None or host == "":
        return True  # a passive/any-address lookup (bind), not a destination
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").split("%", 1)[0].lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _refuse(what: str, host: Any) -> None:
    _attempts.append(f"{what} {host!r}")
    raise OSError(f"tests may not reach {host!r}: only loopback (tests/support/no_network.py)")


def _destination(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        return address[0]
    return None  # unix sockets and the like


def install() -> None:
    """Patch the socket module once per process; idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    connect, connect_ex, sendto = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.socket.sendto,
    )
    getaddrinfo = socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = _destination(self, address)
        if not is_loopback(host):
            _refuse("connect", host)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        host = _destination(self, address)
        if not is_loopback(host):
            _refuse("connect", host)
        return connect_ex(self, address)

    def guarded_sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        host = _destination(self, args[-1]) if args else None
        if not is_loopback(host):
            _refuse("sendto", host)
        return sendto(self, data, *args)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            _refuse("resolve", host)
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = guarded_sendto  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_getaddrinfo


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released on exit: nothing listens there


def point_exchanges_at_a_closed_port() -> None:
    """Every ccxt client — in this process and in the servers it starts — talks to a proxy
    that refuses every connection."""
    os.environ["PAPERTAPE_EXCHANGE_PROXY"] = f"http://127.0.0.1:{closed_loopback_port()}"


def take_attempts() -> list[str]:
    attempts = list(_attempts)
    _attempts.clear()
    return attempts

"""The pinger's liveness check: many addresses at once, a refused or silent one named with why, nothing sent."""

from __future__ import annotations

import socket

from clusterstack.server.orchestration.tcp_liveness import unreachable


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_listening_addresses_pass_and_closed_ones_are_refused() -> None:
    listeners = [_listener() for _ in range(5)]
    try:
        open_addresses = [("127.0.0.1", s.getsockname()[1]) for s in listeners]
        closed = ("127.0.0.1", _closed_port())
        failed = unreachable([*open_addresses, closed], timeout=2.0)
        assert failed == {closed: "Connection refused"}
        # nothing was sent: each listener got a connection that ended without a byte
        for listener in listeners:
            connection, _ = listener.accept()
            connection.settimeout(5)
            assert connection.recv(1) == b""
            connection.close()
    finally:
        for listener in listeners:
            listener.close()

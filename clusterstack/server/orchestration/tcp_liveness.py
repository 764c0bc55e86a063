"""Does a machine accept connections? Many at once, from one thread, without sending a byte.

A node of a failover cluster whose machine has stopped refuses connections on its own address, or lets them time
out; one that runs accepts them. Checking every node of every followed cluster this way costs a non-blocking
connect per node and one select: no request, no TLS handshake, no query, no log line.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
from collections.abc import Iterable

Address = tuple[str, int]


def unreachable(addresses: Iterable[Address], timeout: float) -> dict[Address, str]:
    """Connect to every address at once; answer those that did not accept within `timeout`, with why."""
    failed: dict[Address, str] = {}
    pending: dict[socket.socket, Address] = {}
    selector = selectors.DefaultSelector()
    try:
        for address in set(addresses):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex(address)
            if code == 0:
                sock.close()
            elif code in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                pending[sock] = address
                selector.register(sock, selectors.EVENT_WRITE)
            else:
                failed[address] = _reason(code)
                sock.close()
        deadline = time.monotonic() + timeout
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                address = pending.pop(sock)
                selector.unregister(sock)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    failed[address] = _reason(code)
                sock.close()
        for sock, address in pending.items():
            failed[address] = "connection timed out"
            sock.close()
    finally:
        selector.close()
    return failed


def _reason(code: int) -> str:
    return os.strerror(code)

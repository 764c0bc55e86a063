"""What the benchmarks share to run servers on this machine: free loopback ports, and waiting for one to answer.

(Not a benchmark itself: scripts/test runs only benchmarks/bench_*.py.)
"""

from __future__ import annotations

import random
import socket
import subprocess
import time

import httpx


def free_port_block(count: int = 1) -> int:
    """A base port with `count` consecutive free loopback ports (a simulator and its nodes), from a random start
    below Linux's ephemeral range (32768-60999), where an outgoing connection could take a port between this check
    and the server's bind."""
    for _ in range(500):
        base = random.randint(20000, 32700 - count)
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no block of {count} free ports on 127.0.0.1")


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
        return True
    except httpx.TransportError:
        return False


def wait_until_answers(url: str, timeout: float = 120, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait for `url` to answer HTTP at all; fail early when `process` (the server behind it) has exited."""
    deadline = time.monotonic() + timeout
    while not answers(url):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: its process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.1)

"""Each node answers on its own address while its machine runs: a crashed node refuses connections.

A deliberately small HTTP/1.1 responder (GET only, JSON, one request per connection): what the management
server's pinger needs to tell a living node from a dead one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any


class NodeEndpoint:
    def __init__(self, host: str, port: int, describe: Callable[[], dict[str, Any]]) -> None:
        self.host = host
        self.port = port
        self._describe = describe
        self._server: asyncio.AbstractServer | None = None

    @property
    def address(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._answer, self.host, self.port, reuse_address=True)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method = request.split(b" ", 1)[0]
            if method != b"GET":
                status, body = "405 Method Not Allowed", {"error": "bad_request", "message": "GET only"}
            else:
                status, body = "200 OK", self._describe()
            payload = json.dumps(body).encode()
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                         "Connection: close\r\n\r\n".encode() + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

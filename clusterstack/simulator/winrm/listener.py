"""A WinRM listener on one address: HTTP/1.1 (keep-alive, h11) on the HTTPS port and, when asked, the HTTP port;
POST /wsman only.

Each TCP connection has its own security context (http_auth.ConnectionAuth): the NTLM handshake authenticates
the connection, and over plain HTTP the SOAP envelopes travel sealed with that context (message_encryption). A
request that is not authenticated, or whose logon fails, answers 401 and reaches nothing. Closing the listener is
the machine going down: the listening sockets and every open connection close, and its shells are gone.

Usage (on the event loop that owns the simulated cluster)::

    service = WSManService("HYPERVCLLOUD13", "HYPERVCLLOUD13", host_factory)
    listener = WinRMListener("127.81.0.11", service, AccountStore(), https_port=5986, tls=cert.server_context(),
                             http_port=5985)
    await listener.open()   # https://127.81.0.11:5986/wsman and http://127.81.0.11:5985/wsman
    await listener.close()
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl

import h11

from clusterstack.simulator.winrm.accounts import AccountStore
from clusterstack.simulator.winrm.http_auth import ConnectionAuth
from clusterstack.simulator.winrm.message_encryption import EncryptionError, decrypt, encrypt, is_encrypted
from clusterstack.simulator.winrm.wsman import WSManService

log = logging.getLogger("clusterstack.simulator.winrm")

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
MAX_BODY = 4 * 1024 * 1024

Answer = tuple[int, list[tuple[str, str]], bytes]


class WinRMListener:
    def __init__(self, host: str, service: WSManService, accounts: AccountStore, *, https_port: int | None = 5986,
                 tls: ssl.SSLContext | None = None, http_port: int | None = None,
                 allow_unencrypted: bool = False) -> None:
        if https_port is not None and tls is None:
            raise ValueError("an HTTPS listener needs a TLS context")
        self.host = host
        self.service = service
        self.accounts = accounts
        self.https_port = https_port
        self.http_port = http_port
        self.tls = tls
        self.allow_unencrypted = allow_unencrypted  # WinRM's AllowUnencrypted: plain SOAP over HTTP
        self._servers: list[asyncio.AbstractServer] = []
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._lock: asyncio.Lock | None = None  # open and close one at a time (the simulator syncs concurrently)

    @property
    def listening(self) -> bool:
        return bool(self._servers)

    def url(self, secure: bool = True) -> str | None:
        port = self.https_port if secure else self.http_port
        if port is None:
            return None
        return f"{'https' if secure else 'http'}://{self.host}:{port}/wsman"

    def _guard(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def open(self) -> None:
        async with self._guard():
            if not self._servers:
                await self._open()

    async def close(self) -> None:
        async with self._guard():
            await self._close()

    async def _open(self) -> None:
        try:
            if self.https_port is not None:
                self._servers.append(await asyncio.start_server(
                    lambda r, w: self._serve(r, w, secure=True), self.host, self.https_port, ssl=self.tls,
                    ssl_handshake_timeout=15, reuse_address=True))
            if self.http_port is not None:
                self._servers.append(await asyncio.start_server(
                    lambda r, w: self._serve(r, w, secure=False), self.host, self.http_port, reuse_address=True))
        except OSError:
            await self._close()
            raise

    async def _close(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for task, writer in list(self._connections.items()):
            writer.transport.abort()
            task.cancel()
        for server in servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._connections.clear()
        self.service.close()

    # ---- one connection ---------------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, secure: bool) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        peer = writer.get_extra_info("peername")
        client_ip = str(peer[0]) if peer else ""
        connection = h11.Connection(h11.SERVER)
        auth = ConnectionAuth(self.accounts)
        try:
            while True:
                request = await self._next(connection, reader)
                if not isinstance(request, h11.Request):
                    return
                body = bytearray()
                while True:
                    event = await self._next(connection, reader)
                    if isinstance(event, h11.Data):
                        body += event.data
                        if len(body) > MAX_BODY:
                            await self._send(connection, writer, (413, [("Connection", "close")], b""))
                            return
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    else:
                        return
                answer = await self._answer(request, bytes(body), auth, secure, client_ip)
                await self._send(connection, writer, answer)
                if connection.our_state is h11.MUST_CLOSE or connection.their_state is h11.MUST_CLOSE:
                    return
                connection.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, ssl.SSLError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.pop(task, None)
            if not writer.is_closing():
                writer.transport.abort()

    @staticmethod
    async def _next(connection: h11.Connection, reader: asyncio.StreamReader) -> object:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(65536))
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            return event

    @staticmethod
    async def _send(connection: h11.Connection, writer: asyncio.StreamWriter, answer: Answer) -> None:
        status, headers, payload = answer
        all_headers = [("Server", "Microsoft-HTTPAPI/2.0"), *headers, ("Content-Length", str(len(payload)))]
        writer.write(connection.send(h11.Response(status_code=status, headers=all_headers)) or b"")
        if payload:
            writer.write(connection.send(h11.Data(data=payload)) or b"")
        writer.write(connection.send(h11.EndOfMessage()) or b"")
        await writer.drain()

    async def _answer(self, request: h11.Request, body: bytes, auth: ConnectionAuth, secure: bool,
                      client_ip: str) -> Answer:
        path = request.target.split(b"?", 1)[0].decode("latin-1")
        if path.lower() != "/wsman":
            return 404, [], b""
        if request.method != b"POST":
            return 405, [("Allow", "POST")], b""
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.headers}
        unauthorized: Answer = (401, [("WWW-Authenticate", "Negotiate")], b"")

        final_token: list[tuple[str, str]] = []
        authorization = headers.get("authorization")
        if authorization:
            step = auth.step(authorization)
            if step.failed:
                return unauthorized
            token = base64.b64encode(step.token).decode() if step.token else ""
            if not step.complete:
                return 401, [("WWW-Authenticate", f"{step.scheme} {token}".strip())], b""
            if token:
                final_token = [("WWW-Authenticate", f"{step.scheme} {token}")]
        elif not auth.authenticated:
            return unauthorized
        assert auth.principal is not None

        if not body:
            return 200, final_token, b""
        content_type = headers.get("content-type", "")
        encrypted = is_encrypted(content_type)
        if encrypted:
            try:
                envelope = decrypt(auth.context, body, content_type)
            except EncryptionError as exc:
                log.info("WinRM request refused: %s", exc)
                auth.reset()
                return unauthorized
        elif not secure and not self.allow_unencrypted:
            # WinRM's default: unencrypted traffic over HTTP is refused.
            return unauthorized
        else:
            envelope = body
        scheme = "https" if secure else "http"
        port = self.https_port if secure else self.http_port
        status, response = await self.service.handle(envelope, auth.principal, client_ip,
                                                     f"{scheme}://{self.host}:{port}/wsman")
        if encrypted:
            response_type, payload = encrypt(auth.context, response)
        else:
            response_type, payload = SOAP_CONTENT_TYPE, response
        return status, [*final_token, ("Content-Type", response_type)], payload

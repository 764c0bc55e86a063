"""One PowerShell remoting connection to one endpoint (a node, or the cluster's network name).

A connection holds a WinRM session and a runspace pool, opened on first use and again after a failure (a node
that crashed and came back). Calls on one connection are serialised by its lock: PSRP runs one pipeline at a
time per runspace here, and interleaved WinRM requests on one HTTP session would tangle the NTLM context.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from pypsrp.exceptions import AuthenticationError, WinRMError, WinRMTransportError, WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.serializer import TaggedValue
from pypsrp.wsman import WSMan
from requests.adapters import HTTPAdapter

from clusterstack.hypervisor.base import (
    AccessDenied,
    AuthenticationFailed,
    CertificateRejected,
    ClusterUnreachable,
    Credentials,
    DriverError,
    DriverOptions,
    OperationTimeout,
)
from clusterstack.hypervisor.hyperv.commands import Pipeline
from clusterstack.hypervisor.hyperv.errors import driver_error

log = logging.getLogger("clusterstack.hypervisor.hyperv")

PSRP_INVOCATION_FAILED = 5  # PSInvocationState.Failed
SHELL_NOT_FOUND = 2150858843  # WS-Management: the shell (runspace pool) is gone on the server


class _ShellGone(Exception):
    """The server no longer has our shell: open a new one and run again."""


@dataclass(frozen=True)
class Endpoint:
    """Where WinRM answers: https://host:5986/wsman (or http://host:5985/wsman when the operator says so)."""

    host: str
    port: int
    tls: bool
    path: str = "wsman"

    @classmethod
    def parse(cls, address: str) -> Endpoint:
        parts = urlsplit(address if "://" in address else f"https://{address}")
        scheme = parts.scheme.lower()
        if scheme not in ("https", "winrm", "http"):
            raise DriverError(f"'{address}' is not a WinRM address: use https://host:5986")
        if not parts.hostname:
            raise DriverError(f"'{address}' names no host")
        tls = scheme == "https"
        return cls(parts.hostname, parts.port or (5986 if tls else 5985), tls,
                   (parts.path or "/wsman").strip("/") or "wsman")

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/{self.path}"

    def with_host(self, host: str) -> Endpoint:
        return Endpoint(host, self.port, self.tls, self.path)


@dataclass
class Output:
    objects: list[Any]
    errors: list[Any]  # non-terminating error records


class _PinnedCertificate(HTTPAdapter):
    """Accept exactly one certificate, by the SHA-256 of its DER (urllib3 checks it during the handshake)."""

    def __init__(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint.replace(":", "").lower()
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._fingerprint
        kwargs["cert_reqs"] = "CERT_NONE"
        super().init_poolmanager(*args, **kwargs)


class Connection:
    def __init__(self, endpoint: Endpoint, credentials: Credentials, options: DriverOptions) -> None:
        self.endpoint = endpoint
        self._credentials = credentials
        self._options = options
        self._lock = threading.Lock()
        self._wsman: WSMan | None = None
        self._pool: RunspacePool | None = None

    def __repr__(self) -> str:
        return f"Connection({self.endpoint.url})"

    # ---- opening --------------------------------------------------------------------------------------------

    def _cert_validation(self) -> bool | str:
        if not self.endpoint.tls or self._options.pinned_sha256:
            return False
        if not self._options.cert_validation:
            return False
        return self._options.ca_file or True

    def _open(self) -> RunspacePool:
        if self._pool is not None:
            return self._pool
        timeout = max(1, int(self._options.timeout))
        wsman = WSMan(self.endpoint.host, port=self.endpoint.port, path=self.endpoint.path, ssl=self.endpoint.tls,
                      username=self._credentials.username, password=self._credentials.password,
                      auth=self._credentials.auth, cert_validation=self._cert_validation(),
                      encryption="auto" if self.endpoint.tls else "always",
                      connection_timeout=timeout, read_timeout=timeout + 10, operation_timeout=timeout,
                      reconnection_retries=0)
        if self.endpoint.tls and self._options.pinned_sha256:
            session = wsman.transport._build_session()
            session.mount("https://", _PinnedCertificate(self._options.pinned_sha256))
            wsman.transport.session = session
        pool = RunspacePool(wsman)
        try:
            pool.open()
        except BaseException:
            wsman.close()
            raise
        self._wsman, self._pool = wsman, pool
        return pool

    def close(self) -> None:
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        pool, wsman, self._pool, self._wsman = self._pool, self._wsman, None, None
        if pool is not None:
            try:
                pool.close()
            except Exception:
                log.debug("closing the runspace pool on %s failed", self.endpoint.url, exc_info=True)
        if wsman is not None:
            try:
                wsman.close()
            except Exception:
                log.debug("closing the WinRM session on %s failed", self.endpoint.url, exc_info=True)

    # ---- running --------------------------------------------------------------------------------------------

    def run(self, pipeline: Pipeline) -> Output:
        """Run the pipeline; a terminating error raises its DriverError, non-terminating ones are returned. A
        session the node no longer knows (its WinRM service or the node itself restarted) is opened anew once."""
        try:
            return self._run(pipeline)
        except _ShellGone:
            pass
        try:
            return self._run(pipeline)
        except _ShellGone:
            raise ClusterUnreachable(f"{self.endpoint.url} dropped a new session at once") from None

    def _run(self, pipeline: Pipeline) -> Output:
        with self._lock:
            try:
                pool = self._open()
                ps = PowerShell(pool)
                first = True
                for statement in pipeline.statements:
                    if not first:
                        ps.add_statement()
                    first = False
                    for cmdlet in statement:
                        ps.add_cmdlet(cmdlet.name)
                        for name, value in cmdlet.parameters:
                            if value is True:
                                ps.add_parameter(name)
                            else:
                                ps.add_parameter(name, _typed(value))
                objects = ps.invoke()
            except DriverError:
                raise
            except WSManFaultError as exc:
                self._discard()
                if exc.code == SHELL_NOT_FOUND:
                    raise _ShellGone() from None
                raise self._transport_error(exc) from None
            except BaseException as exc:
                self._discard()
                raise self._transport_error(exc) from None
            errors = list(ps.streams.error)
            if ps.state == PSRP_INVOCATION_FAILED and errors:
                raise driver_error(errors[-1], pipeline.describe(), self.endpoint.host)
            return Output(list(objects or []), errors)

    def _transport_error(self, exc: BaseException) -> DriverError:
        where = self.endpoint.url
        if isinstance(exc, AuthenticationError):
            return AuthenticationFailed(f"{where} refused the credentials of {self._credentials.username}: check "
                                        "the user name, the password and that the account may use WinRM")
        if isinstance(exc, WinRMTransportError):
            if exc.code == 401:
                return AuthenticationFailed(f"{where} refused the credentials of {self._credentials.username}")
            if exc.code == 403:
                return AccessDenied(f"{where}: access denied for {self._credentials.username}")
            return ClusterUnreachable(f"{where} answered HTTP {exc.code}: is the WinRM listener configured?")
        if isinstance(exc, WSManFaultError):
            return DriverError(f"{where}: WS-Management fault {exc.code}: {exc.reason}")
        if isinstance(exc, requests.exceptions.SSLError) and "CERTIFICATE_VERIFY_FAILED" not in str(exc).upper() \
                and "fingerprint" not in str(exc).lower():
            return ClusterUnreachable(f"{where} closed the connection during the TLS handshake ({_short(exc)})")
        if isinstance(exc, requests.exceptions.SSLError):
            return CertificateRejected(f"{where} presented a certificate that is not trusted ({_short(exc)}); give "
                                       "the CA bundle that signed it, or pin it")
        if isinstance(exc, requests.exceptions.Timeout):
            return OperationTimeout(f"{where} did not answer within {self._options.timeout:g} s")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return ClusterUnreachable(f"{where} does not answer: {_short(exc)}")
        if isinstance(exc, WinRMError):
            return DriverError(f"{where}: {exc}")
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise exc
        log.exception("PowerShell remoting to %s failed unexpectedly", where)
        return DriverError(f"{where}: {type(exc).__name__}: {exc}")


INT32 = range(-(2**31), 2**31)


def _typed(value: Any) -> Any:
    """A parameter value with the .NET type it must travel as: an integer past Int32 as Int64 (pypsrp sends a
    Python int as Int32), a dict as a Hashtable; lists element by element."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value not in INT32:
        return TaggedValue("I64", value)
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    return value


def _short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Caused by ", "Connection refused", "certificate verify failed", "timed out"):
        if marker in text and marker != "Caused by ":
            return marker
    return text if len(text) < 200 else text[:200] + "..."


class ConnectionPool:
    """Up to `size` connections to one endpoint, so that a long read (a full report of a big cluster) does not
    hold up a job's short one. A call takes an idle connection, opens one more while under `size`, or waits."""

    def __init__(self, endpoint: Endpoint, credentials: Credentials, options: DriverOptions, size: int = 3) -> None:
        self.endpoint = endpoint
        self._credentials = credentials
        self._options = options
        self._size = max(1, size)
        self._idle: list[Connection] = []
        self._open = 0
        self._ready = threading.Condition()

    def run(self, pipeline: Pipeline) -> Output:
        connection = self._take()
        try:
            return connection.run(pipeline)
        finally:
            with self._ready:
                self._idle.append(connection)
                self._ready.notify()

    def _take(self) -> Connection:
        with self._ready:
            while not self._idle and self._open >= self._size:
                self._ready.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        return Connection(self.endpoint, self._credentials, self._options)

    def close(self) -> None:
        with self._ready:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

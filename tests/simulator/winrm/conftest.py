"""A WinRM listener on its own event loop thread, with a small PowerShellHost of the tests' own."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from psrpcore.types import PSCustomObject, PSInt64, PSUInt

from clusterstack.simulator.winrm.accounts import Account, AccountStore
from clusterstack.simulator.winrm.certificate import ServerCertificate, generate_certificate
from clusterstack.simulator.winrm.commands import (
    CmdletFailure,
    CommandInvocation,
    ErrorRecordInfo,
    PipelineResult,
)
from clusterstack.simulator.winrm.listener import WinRMListener
from clusterstack.simulator.winrm.wsman import WSManService

USER = "CLUSTERSTACK\\Administrator"
PASSWORD = "Password1!"


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class FakeHost:
    endpoint: str
    username: str
    runs: list[Sequence[Sequence[CommandInvocation]]] = field(default_factory=list)

    async def run(self, statements: Sequence[Sequence[CommandInvocation]]) -> PipelineResult:
        self.runs.append(statements)
        result = PipelineResult()
        for statement in statements:
            for command in statement:
                name = command.name.lower()
                if name == "get-thing":
                    names = command.parameters.get("Name") or ["alpha", "beta"]
                    for index, thing in enumerate(names if isinstance(names, list) else [names]):
                        owner = PSCustomObject(Name=f"node{index}")
                        owner.PSObject.to_string = f"node{index}"
                        result.output.append(PSCustomObject(
                            Name=thing, Size=PSInt64(1 << 40), Priority=PSUInt(2000), Owner=owner,
                            Tags=["a", "b"], Endpoint=self.endpoint, User=self.username,
                            Switch=command.parameters.get("Force", False), Arguments=list(command.arguments)))
                elif name == "get-partly":
                    result.output.append("found")
                    result.errors.append(ErrorRecordInfo(
                        message="Hyper-V was unable to find a virtual machine with name \"ghost\".", category=13,
                        fully_qualified_error_id="InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM",
                        exception_type="Microsoft.HyperV.PowerShell.VirtualizationException", target="ghost"))
                elif name == "get-clustergroup":
                    raise CmdletFailure(ErrorRecordInfo(
                        message="The cluster group 'ghost' was not found.", category=13,
                        fully_qualified_error_id=(
                            "Get-ClusterGroup,Microsoft.FailoverClusters.PowerShell.GetClusterGroupCommand"),
                        exception_type="Microsoft.FailoverClusters.PowerShell.ClusterCmdletException",
                        target="ghost"))
                elif name == "wait-forever":
                    await asyncio.sleep(3600)
                else:
                    raise CmdletFailure(ErrorRecordInfo(
                        message=f"The term '{command.name}' is not recognized", category=13,
                        fully_qualified_error_id="CommandNotFoundException",
                        exception_type="System.Management.Automation.CommandNotFoundException",
                        target=command.name))
        return result


@dataclass
class FakeFactory:
    hosts: list[FakeHost] = field(default_factory=list)

    def __call__(self, endpoint: str, username: str) -> FakeHost:
        host = FakeHost(endpoint, username)
        self.hosts.append(host)
        return host


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@dataclass
class Endpoint:
    loop: LoopThread
    listener: WinRMListener
    factory: FakeFactory
    certificate: ServerCertificate
    address: str

    @property
    def https_port(self) -> int:
        assert self.listener.https_port is not None
        return self.listener.https_port

    @property
    def http_port(self) -> int:
        assert self.listener.http_port is not None
        return self.listener.http_port

    def wsman(self, *, secure: bool = True, password: str = PASSWORD, **options: Any) -> Any:
        from pypsrp.wsman import WSMan

        options.setdefault("auth", "ntlm")
        options.setdefault("operation_timeout", 20)
        if secure:
            options.setdefault("cert_validation", str(self.certificate.ca_file))
        return WSMan(self.address, port=self.https_port if secure else self.http_port, ssl=secure,
                     username=USER, password=password, no_proxy=True, **options)


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@pytest.fixture
def endpoint(loop_thread: LoopThread, tmp_path: Path) -> Iterator[Endpoint]:
    address = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}.11"
    certificate = generate_certificate(tmp_path / "tls", "CI1", ["CI1", "HYPERVCLLOUD13"], [address])
    factory = FakeFactory()
    accounts = AccountStore([Account("CLUSTERSTACK", "Administrator", PASSWORD)])

    async def start() -> WinRMListener:
        service = WSManService("HYPERVCLLOUD13", "HYPERVCLLOUD13", factory)
        listener = WinRMListener(address, service, accounts, https_port=free_port(address),
                                 tls=certificate.server_context(), http_port=free_port(address))
        await listener.open()
        return listener

    listener = loop_thread.run(start())
    yield Endpoint(loop_thread, listener, factory, certificate, address)
    loop_thread.run(listener.close())

"""The WinRM endpoints of a simulated cluster: the cluster's network name and each node, one address each.

The cluster name answers on ``<prefix>.10`` while the cluster has quorum; node *i* (0-based index) on
``<prefix>.<11+i>`` while its machine runs, as the simulator's JSON node endpoints do. All of them present one
server certificate (the cluster's and nodes' names and addresses, localhost, 127.0.0.1) signed by a CA the
simulator generates; its PEM file is ``ca_file``.
"""

from __future__ import annotations

import ipaddress
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterstack.simulator.winrm.accounts import DEFAULT_ACCOUNTS, Account, AccountStore, install_accounts
from clusterstack.simulator.winrm.certificate import generate_certificate
from clusterstack.simulator.winrm.commands import (
    CmdletFailure,
    CommandInvocation,
    PipelineResult,
    PowerShellHost,
    PowerShellHostFactory,
)
from clusterstack.simulator.winrm.listener import WinRMListener
from clusterstack.simulator.winrm.serialization import command_not_found
from clusterstack.simulator.winrm.wsman import WSManService

log = logging.getLogger("clusterstack.simulator.winrm")

CLUSTER_OCTET = 10
FIRST_NODE_OCTET = 11


@dataclass
class WinRMConfig:
    """How a simulated cluster answers WinRM."""

    prefix: str  # three octets of the loopback range, e.g. "127.81.0"
    https_port: int = 5986
    http_port: int | None = None  # plain HTTP (with WinRM message encryption) when set, e.g. 5985
    accounts: Sequence[Account] = DEFAULT_ACCOUNTS
    host_factory: PowerShellHostFactory | None = None  # default: clusterstack.simulator.winrm.cmdlets.host_factory
    directory: Path | None = None  # where the CA and the server certificate are written (a temporary directory)
    tls_names: Sequence[str] = field(default_factory=tuple)  # more DNS names for the certificate

    def __post_init__(self) -> None:
        octets = self.prefix.split(".")
        if len(octets) != 3 or not all(o.isdigit() and 0 <= int(o) <= 255 for o in octets):
            raise ValueError(f"the WinRM prefix must be three octets such as 127.81.0, not {self.prefix!r}")
        if not ipaddress.ip_address(f"{self.prefix}.1").is_loopback:
            raise ValueError(f"the WinRM prefix {self.prefix} is not in the loopback range 127.0.0.0/8")

    def address(self, octet: int) -> str:
        return f"{self.prefix}.{octet}"


class _NoCmdletsHost:
    """The host when no cmdlets are installed: every command is one PowerShell does not know."""

    async def run(self, statements: Sequence[Sequence[CommandInvocation]]) -> PipelineResult:
        name = statements[0][0].name if statements and statements[0] else ""
        raise CmdletFailure(command_not_found(name))


def default_host_factory(sim: Any) -> PowerShellHostFactory:
    """The simulated cmdlets' factory (clusterstack.simulator.winrm.cmdlets.host_factory(sim)), imported when
    needed; without it every command is unknown."""
    try:
        from clusterstack.simulator.winrm.cmdlets import host_factory  # type: ignore[attr-defined]
    except ImportError:
        log.warning("clusterstack.simulator.winrm.cmdlets.host_factory is missing: WinRM sessions know no cmdlet")

        def no_cmdlets(endpoint: str, username: str) -> PowerShellHost:
            return _NoCmdletsHost()

        return no_cmdlets
    factory: PowerShellHostFactory = host_factory(sim)
    return factory


class WinRMEndpoints:
    def __init__(self, sim: Any, config: WinRMConfig) -> None:
        self.sim = sim
        self.config = config
        cluster = sim.cluster
        nodes = sorted(cluster.nodes.values(), key=lambda n: n.index)
        self.cluster_name: str = cluster.name
        self.accounts = AccountStore(config.accounts)
        install_accounts(self.accounts)
        directory = config.directory or Path(tempfile.mkdtemp(prefix="clusterstack-winrm-tls-"))
        addresses = [config.address(CLUSTER_OCTET), *(config.address(FIRST_NODE_OCTET + n.index) for n in nodes)]
        self.certificate = generate_certificate(directory, cluster.name,
                                                [cluster.name, *(n.name for n in nodes), *config.tls_names],
                                                addresses)
        tls = self.certificate.server_context()
        factory = config.host_factory or default_host_factory(sim)

        def listener(name: str, octet: int) -> WinRMListener:
            return WinRMListener(config.address(octet), WSManService(name, name, factory), self.accounts,
                                 https_port=config.https_port, tls=tls, http_port=config.http_port)

        self.cluster = listener(cluster.name, CLUSTER_OCTET)
        self.nodes = {n.name: listener(n.name, FIRST_NODE_OCTET + n.index) for n in nodes}

    @property
    def ca_file(self) -> Path:
        return self.certificate.ca_file

    async def sync(self) -> None:
        """Open the endpoints whose machine runs (the cluster name: while it has quorum and a member's machine runs
        to host it: the cluster's IP address lives on a node, and goes with its machine at once), close the
        others."""
        cluster = self.sim.cluster
        hosted = any(n.alive and n.member for n in cluster.nodes.values())
        await self._follow(self.cluster, bool(cluster.cluster_up) and hosted, self.cluster_name)
        for name, endpoint in self.nodes.items():
            await self._follow(endpoint, bool(cluster.nodes[name].alive), name)

    @staticmethod
    async def _follow(endpoint: WinRMListener, up: bool, name: str) -> None:
        if up and not endpoint.listening:
            try:
                await endpoint.open()
            except OSError as exc:
                log.error("%s cannot answer WinRM on %s: %s", name, endpoint.url(), exc)
        elif not up and endpoint.listening:
            await endpoint.close()

    async def close(self) -> None:
        await self.cluster.close()
        for endpoint in self.nodes.values():
            await endpoint.close()

    def addresses(self) -> dict[str, Any]:
        secure = self.config.https_port is not None

        def url(endpoint: WinRMListener) -> str | None:
            return endpoint.url(secure=secure)

        result: dict[str, Any] = {
            "cluster": url(self.cluster),
            "nodes": {name: url(endpoint) for name, endpoint in self.nodes.items()},
            "ca_file": str(self.ca_file),
        }
        if self.config.http_port is not None:
            result["http"] = {"cluster": self.cluster.url(secure=False),
                              "nodes": {n: e.url(secure=False) for n, e in self.nodes.items()}}
        return result

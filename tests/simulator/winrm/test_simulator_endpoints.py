"""A served simulator answers WinRM on the cluster's and the nodes' own loopback addresses, as they run."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from tests.simulator.winrm.conftest import PASSWORD, USER, FakeFactory


def _run(url: str, ca_file: str | None = None) -> list[Any]:
    parsed = urlparse(url)
    secure = parsed.scheme == "https"
    options: dict[str, Any] = {"cert_validation": ca_file} if secure else {}
    with WSMan(parsed.hostname or "", port=parsed.port, ssl=secure, username=USER, password=PASSWORD, auth="ntlm",
               no_proxy=True, **options) as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Thing")
        return list(ps.invoke())


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


def test_the_cluster_and_each_node_answer_on_their_own_address(simulator_factory: Any, factory: FakeFactory) -> None:
    live = simulator_factory(speed=10.0, winrm=True, winrm_host_factory=factory)
    addresses = live.winrm_addresses()
    nodes = [n.name for n in live.spec.nodes]
    prefix = live.sim.winrm.config.prefix

    assert addresses["cluster"] == f"https://{prefix}.10:{live.sim.winrm.config.https_port}/wsman"
    assert list(addresses["nodes"]) == nodes
    assert [urlparse(u).hostname for u in addresses["nodes"].values()] == [
        f"{prefix}.{11 + i}" for i in range(len(nodes))]
    assert addresses["ca_pem"] == Path(addresses["ca_file"]).read_text()
    assert addresses["ca_pem"].startswith("-----BEGIN CERTIFICATE-----")

    assert len(_run(addresses["cluster"], addresses["ca_file"])) == 2
    for url in addresses["nodes"].values():
        assert len(_run(url, addresses["ca_file"])) == 2
    assert len(_run(addresses["http"]["nodes"][nodes[0]])) == 2
    assert [h.endpoint for h in factory.hosts] == [live.spec.name, *nodes, nodes[0]]


def test_a_crashed_node_refuses_connections_and_answers_again_when_it_starts(simulator_factory: Any,
                                                                            factory: FakeFactory) -> None:
    live = simulator_factory(speed=10.0, winrm=True, winrm_host_factory=factory)
    addresses = live.winrm_addresses()
    first, second = (n.name for n in live.spec.nodes[:2])

    live.fault("node-down", node=first)
    with pytest.raises(requests.exceptions.ConnectionError):
        _run(addresses["nodes"][first], addresses["ca_file"])
    with pytest.raises(requests.exceptions.ConnectionError):
        _run(addresses["http"]["nodes"][first])
    assert len(_run(addresses["nodes"][second], addresses["ca_file"])) == 2

    live.fault("node-up", node=first)
    assert len(_run(addresses["nodes"][first], addresses["ca_file"])) == 2


def test_a_simulator_without_winrm_says_so(simulator: Any) -> None:
    import httpx

    response = httpx.get(f"{simulator.url}/winrm", timeout=30)
    assert response.status_code == 404
    assert simulator.sim.winrm_addresses() is None

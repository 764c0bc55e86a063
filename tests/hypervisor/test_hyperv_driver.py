"""What only the PowerShell-remoting driver has: accounts, certificates, node fallback, plain HTTP, secrets."""

from __future__ import annotations

import hashlib
import logging
import ssl
from typing import Any
from urllib.parse import urlsplit

import pytest

from clusterstack.hypervisor.base import (
    AuthenticationFailed,
    CertificateRejected,
    ClusterUnreachable,
    Credentials,
    DriverOptions,
    VmSpec,
)
from clusterstack.hypervisor.hyperv import HyperVDriver

from .conftest import SIM_PASSWORD, SIM_USER, winrm_options


@pytest.fixture
def sim(simulator_factory: Any) -> Any:
    return simulator_factory(speed=10.0, winrm=True)


def _driver(sim: Any, address: str | None = None, **options: Any) -> HyperVDriver:
    addresses = sim.sim.winrm_addresses()
    return HyperVDriver(address or addresses["cluster"], Credentials(SIM_USER, SIM_PASSWORD),
                        winrm_options(sim, **options))


def test_a_wrong_password_is_an_authentication_error_and_makes_nothing(sim: Any) -> None:
    addresses = sim.sim.winrm_addresses()
    wrong = HyperVDriver(addresses["cluster"], Credentials(SIM_USER, "not-the-password"), winrm_options(sim))
    with pytest.raises(AuthenticationFailed) as refused:
        wrong.create_vm(VmSpec(name="i-2-3-VM", cpus=1, memory_mb=256, priority=2000))
    assert "not-the-password" not in str(refused.value) and SIM_USER in str(refused.value)
    assert sim.report()["roles"] == []
    with pytest.raises(AuthenticationFailed):
        HyperVDriver(addresses["cluster"], None, winrm_options(sim))


def test_an_untrusted_certificate_is_refused_unless_pinned_or_validation_is_off(sim: Any) -> None:
    addresses = sim.sim.winrm_addresses()
    untrusted = HyperVDriver(addresses["cluster"], Credentials(SIM_USER, SIM_PASSWORD),
                             DriverOptions(timeout=10.0))  # the system's CAs do not know the simulator's
    with pytest.raises(CertificateRejected, match="not trusted"):
        untrusted.report()
    parts = urlsplit(addresses["cluster"])
    pem = ssl.get_server_certificate((parts.hostname, parts.port))
    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
    pinned = HyperVDriver(addresses["cluster"], Credentials(SIM_USER, SIM_PASSWORD),
                          DriverOptions(timeout=10.0, pinned_sha256=fingerprint))
    assert pinned.report().name == "CI1"
    wrong_pin = HyperVDriver(addresses["cluster"], Credentials(SIM_USER, SIM_PASSWORD),
                             DriverOptions(timeout=10.0, pinned_sha256="00" * 32))
    with pytest.raises(CertificateRejected):
        wrong_pin.report()
    unchecked = HyperVDriver(addresses["cluster"], Credentials(SIM_USER, SIM_PASSWORD),
                             DriverOptions(timeout=10.0, cert_validation=False))
    assert unchecked.report().name == "CI1"


def test_when_the_cluster_address_does_not_answer_a_node_does(sim: Any) -> None:
    addresses = sim.sim.winrm_addresses()
    dead = urlsplit(addresses["cluster"])
    nowhere = f"https://{dead.hostname[:-3]}.99:{dead.port}/wsman"  # an address of the prefix nothing listens on
    nodes = tuple(sorted(addresses["nodes"].items()))
    driver = _driver(sim, nowhere, node_addresses=nodes)
    assert driver.report().name == "CI1"
    sim.fault("node-down", node="HYPERVCLLOUD13")
    report = driver.report()  # HYPERVCLLOUD13 refuses now: HYPERVCLLOUD17 answers for the cluster
    assert report.name == "CI1"
    sim.fault("node-down", node="HYPERVCLLOUD17")
    with pytest.raises(ClusterUnreachable, match="nor does any node"):
        driver.report()


def test_plain_http_when_the_operator_asks_for_it(sim: Any) -> None:
    http = sim.sim.winrm_addresses()["http"]["cluster"]
    address = "winrm://" + http.split("://", 1)[1]
    driver = HyperVDriver(address, Credentials(SIM_USER, SIM_PASSWORD), DriverOptions(timeout=10.0))
    report = driver.report()
    assert report.name == "CI1" and len(report.nodes) == 2


def test_the_password_never_shows(sim: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    driver = _driver(sim)
    driver.report()
    assert SIM_PASSWORD not in repr(driver) and SIM_PASSWORD not in repr(Credentials(SIM_USER, SIM_PASSWORD))
    wrong = HyperVDriver(sim.sim.winrm_addresses()["cluster"], Credentials(SIM_USER, "Sekrit-42!"),
                         winrm_options(sim))
    with pytest.raises(AuthenticationFailed):
        wrong.report()
    assert SIM_PASSWORD not in caplog.text and "Sekrit-42!" not in caplog.text


def test_a_create_that_died_half_way_is_adopted_not_made_twice(sim: Any) -> None:
    """An earlier attempt (its management server killed) left the VHD and the VM but no role."""
    from clusterstack.hypervisor.base import VhdSpec
    from clusterstack.hypervisor.hyperv.commands import Cmdlet

    driver = _driver(sim)
    path = "C:\\ClusterStorage\\Volume1\\i-2-20-VM\\ROOT.vhdx"
    driver._do(Cmdlet.of("New-VHD", Path=path, SizeBytes=2 * 1024**3, Dynamic=True, ComputerName="HYPERVCLLOUD17"))
    driver._do(Cmdlet.of("New-VM", Name="i-2-20-VM", MemoryStartupBytes=256 * 1024**2, Generation=2,
                         Path="C:\\ClusterStorage\\Volume1\\i-2-20-VM", VHDPath=path, ComputerName="HYPERVCLLOUD17"))
    role = driver.create_vm(VmSpec(name="i-2-20-VM", cpus=1, memory_mb=256, priority=2000, node="HYPERVCLLOUD13",
                                   vhds=(VhdSpec(path, 2 * 1024**3),), start=False))
    assert (role.name, role.owner_node, [v.path for v in role.vhds]) == ("i-2-20-VM", "HYPERVCLLOUD17", [path])
    assert [r["name"] for r in sim.report()["roles"]] == ["i-2-20-VM"]

"""Drivers to run the contract suite with: the simulator's JSON driver and the PowerShell-remoting driver, each
against its own simulated failover cluster (the seed's CI1 at 10x speed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clusterstack.hypervisor.base import Credentials, DriverOptions, FailoverClusterDriver
from clusterstack.hypervisor.registry import open_driver

SIM_USER = "CLUSTERSTACK\\Administrator"
SIM_PASSWORD = "Password1!"


@dataclass
class DriverUnderTest:
    kind: str
    driver: FailoverClusterDriver
    sim: Any  # tests/conftest.py LiveSimulator
    address: str
    options: DriverOptions
    credentials: Credentials | None

    def reopen(self, **changes: Any) -> FailoverClusterDriver:
        """Another driver on the same cluster (other credentials or options)."""
        credentials = changes.pop("credentials", self.credentials)
        address = changes.pop("address", self.address)
        options = DriverOptions(**{**self.options.__dict__, **changes})
        return open_driver(address, credentials, options)


def winrm_options(sim: Any, **changes: Any) -> DriverOptions:
    addresses = sim.sim.winrm_addresses()
    return DriverOptions(**{"timeout": 20.0, "ca_file": addresses["ca_file"], "poll_interval": 0.05, **changes})


@pytest.fixture(params=["simulator", "winrm"])
def under_test(request: pytest.FixtureRequest, simulator_factory: Any) -> Iterator[DriverUnderTest]:
    if request.param == "simulator":
        sim = simulator_factory(speed=10.0)
        options = DriverOptions(timeout=20.0)
        made = DriverUnderTest("simulator", open_driver(sim.url, None, options), sim, sim.url, options, None)
    else:
        sim = simulator_factory(speed=10.0, winrm=True)
        address = sim.sim.winrm_addresses()["cluster"]
        options = winrm_options(sim)
        credentials = Credentials(SIM_USER, SIM_PASSWORD)
        made = DriverUnderTest("winrm", open_driver(address, credentials, options), sim, address, options, credentials)
    yield made
    made.driver.close()

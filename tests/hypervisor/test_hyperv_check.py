"""`clusterstack hyperv check`: what an operator runs before addCluster."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from clusterstack.cli import main

from .conftest import SIM_PASSWORD, SIM_USER


def _check(sim: Any, password: str, *extra: str) -> Any:
    addresses = sim.sim.winrm_addresses()
    return CliRunner().invoke(main, ["hyperv", "check", addresses["cluster"], "--username", SIM_USER, *extra],
                              env={"CLUSTERSTACK_WINRM_PASSWORD": password, "COLUMNS": "200"})


def test_check_prints_the_cluster_and_says_it_can_be_managed(simulator_factory: Any) -> None:
    sim = simulator_factory(speed=10.0, winrm=True)
    result = _check(sim, SIM_PASSWORD, "--ca-file", sim.sim.winrm_addresses()["ca_file"])
    assert result.exit_code == 0, result.output
    for words in ("failover cluster CI1", "HYPERVCLLOUD13", "HYPERVCLLOUD17", "ClusterDisk1",
                  "C:\\ClusterStorage\\Volume1", "Failover-Clustering is installed", "Hyper-V is installed",
                  "can manage this failover cluster"):
        assert words in result.output, words


def test_check_names_what_is_wrong(simulator_factory: Any) -> None:
    sim = simulator_factory(speed=10.0, winrm=True)
    untrusted = _check(sim, SIM_PASSWORD)
    assert untrusted.exit_code == 1 and "not trusted" in untrusted.output and "--ca-file" in untrusted.output
    refused = _check(sim, "wrong", "--ca-file", sim.sim.winrm_addresses()["ca_file"])
    assert refused.exit_code == 1 and "Authentication failed" in refused.output and "wrong" not in refused.output
    sim.fault("node-down", node="HYPERVCLLOUD13")
    sim.fault("node-down", node="HYPERVCLLOUD17")
    nobody = _check(sim, SIM_PASSWORD, "--ca-file", sim.sim.winrm_addresses()["ca_file"])
    assert nobody.exit_code == 1 and "listener" in nobody.output and "5986" in nobody.output

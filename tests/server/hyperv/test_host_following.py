"""Hosts follow their failover-cluster nodes, and maintenance is the cluster's drain (against the simulator)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from clusterstack.demo import ApiClient, set_up_seed_cloud
from clusterstack.hypervisor.base import VmSpec
from clusterstack.hypervisor.simulator import SimulatorDriver

from .seed_cloud import cluster_target, wait_until


@pytest.fixture
def cloud(live_server: Any, simulator: Any) -> tuple[ApiClient, Any, dict[str, str]]:
    key, secret = live_server.admin_keys()
    api = ApiClient(live_server.endpoint, key, secret)
    ids = set_up_seed_cloud(api, cluster_target(simulator))
    return api, simulator, ids


def _host(api: ApiClient, name: str) -> dict[str, Any]:
    return next(h for h in api("listHosts")["host"] if h["name"] == name)


def test_the_seed_cloud_is_built_through_the_api(cloud: tuple[ApiClient, Any, dict[str, str]]) -> None:
    api, simulator, ids = cloud
    assert {h["name"] for h in api("listHosts")["host"]} == {"HYPERVCLLOUD13", "HYPERVCLLOUD17"}
    wait_until(lambda: all(h["state"] == "Up" for h in api("listHosts")["host"]))
    [pool] = api("listStoragePools")["storagepool"]
    assert pool["name"] == "PS1" and pool["type"] == "PreSetup" and pool["scope"] == "CLUSTER"
    assert pool["disksizetotal"] == 100 * 1024**3
    # addCluster twice for one failover cluster is refused and says which cluster holds it
    with pytest.raises(Exception, match="already cluster CI1"):
        api("addCluster", clustername="CI2", clustertype="CloudManaged", hypervisor="Hyper-V", zoneid=ids["zone"],
            podid=ids["pod"], url=simulator.url)
    with pytest.raises(Exception, match="HYPERVCLLOUD13, HYPERVCLLOUD17"):
        api("addHost", zoneid=ids["zone"], podid=ids["pod"], clusterid=ids["cluster"], hypervisor="Hyper-V",
            url="http://HYPERVCLLOUD99", username="a", password="b")
    # the error names the cluster once when the failover cluster and the CloudStack cluster share a name (issue 15)
    with pytest.raises(Exception, match=r"not a Cluster Shared Volume of failover cluster CI1; its CSVs are"):
        api("createStoragePool", name="PS9", zoneid=ids["zone"], podid=ids["pod"], clusterid=ids["cluster"],
            scope="CLUSTER", hypervisor="Hyper-V", url="PreSetup://CI1/C:\\ClusterStorage\\Volume9")
    assert len(api("listClusters")["cluster"]) == 1 and len(api("listStoragePools")["storagepool"]) == 1


def test_a_crashed_node_turns_its_host_alert_then_down_then_up(cloud: tuple[ApiClient, Any, dict[str, str]]) -> None:
    api, simulator, _ = cloud
    wait_until(lambda: _host(api, "HYPERVCLLOUD17")["state"] == "Up")
    simulator.fault("node-down", node="HYPERVCLLOUD17")
    wait_until(lambda: _host(api, "HYPERVCLLOUD17")["state"] in ("Alert", "Down"))
    wait_until(lambda: _host(api, "HYPERVCLLOUD17")["state"] == "Down")
    subjects = [a["subject"] for a in api("listAlerts").get("alert", [])]
    assert any(s.startswith("Host is down, name: HYPERVCLLOUD17") for s in subjects)
    assert _host(api, "HYPERVCLLOUD13")["state"] == "Up"
    simulator.fault("node-up", node="HYPERVCLLOUD17")
    wait_until(lambda: _host(api, "HYPERVCLLOUD17")["state"] == "Up")


def test_quorum_loss_puts_hosts_in_alert_and_is_reported(cloud: tuple[ApiClient, Any, dict[str, str]]) -> None:
    api, simulator, _ = cloud
    simulator.fault("disk-fail", disk="ClusterDisk2")  # the witness
    simulator.fault("node-down", node="HYPERVCLLOUD17")
    simulator.fault("node-down", node="HYPERVCLLOUD13")
    wait_until(lambda: simulator.report()["quorum"]["state"] == "Lost")
    wait_until(lambda: all(h["state"] in ("Alert", "Down") for h in api("listHosts")["host"]))
    simulator.fault("node-up", node="HYPERVCLLOUD13")
    simulator.fault("node-up", node="HYPERVCLLOUD17")
    wait_until(lambda: simulator.report()["quorum"]["state"] == "Up")
    wait_until(lambda: all(h["state"] == "Up" for h in api("listHosts")["host"]))


def test_maintenance_drains_the_node_and_cancel_resumes_it(cloud: tuple[ApiClient, Any, dict[str, str]]) -> None:
    api, simulator, _ = cloud
    driver = SimulatorDriver(simulator.url)
    driver.create_vm(VmSpec(name="i-2-9-VM", cpus=1, memory_mb=512, priority=2000, node="HYPERVCLLOUD17"))
    wait_until(lambda: driver.report().role("i-2-9-VM").vm_state == "Running")
    host = _host(api, "HYPERVCLLOUD17")
    wait_until(lambda: _host(api, "HYPERVCLLOUD17")["state"] == "Up")
    answer = api("prepareHostForMaintenance", id=host["id"])
    assert answer["host"]["resourcestate"] == "Maintenance"
    report = driver.report()
    assert report.node("HYPERVCLLOUD17").state == "Paused"
    assert report.role("i-2-9-VM").owner_node == "HYPERVCLLOUD13"
    with pytest.raises(Exception, match="already in Maintenance"):
        api("prepareHostForMaintenance", id=host["id"])
    answer = api("cancelHostMaintenance", id=host["id"])
    assert answer["host"]["resourcestate"] == "Enabled"
    assert driver.report().node("HYPERVCLLOUD17").state == "Up"
    types = {e["type"] for e in api("listEvents", listall=True).get("event", [])}
    assert {"MAINT.PREPARE", "MAINT.CANCEL"} <= types
    response = httpx.get(live_endpoint(api), params={"command": "cancelHostMaintenance", "response": "json"})
    assert response.status_code == 401


def live_endpoint(api: ApiClient) -> str:
    return api.endpoint

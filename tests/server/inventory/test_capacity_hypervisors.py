"""listCapacity and listHypervisors over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from .conftest import GIB, Cloud, refused


def _by_type(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in entries}


def test_capacity_per_zone_pod_and_cluster(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    ci1 = cloud.cluster(pod, "CI1")
    ci2 = cloud.cluster(pod, "CI2")
    cloud.host(ci1, "HYPERVCLLOUD13", cpus=8, speed=2000, memory=64 * GIB,
               cpu_allocated=4000, memory_allocated=16 * GIB)
    cloud.host(ci1, "HYPERVCLLOUD17", cpus=8, speed=2000, memory=64 * GIB)
    cloud.host(ci2, "HYPERVCLLOUD21", cpus=4, speed=2000, memory=32 * GIB, memory_allocated=8 * GIB)
    cloud.host(ci2, "HYPERVCLLOUD22", cpus=4, speed=2000, memory=32 * GIB, resource_state="Maintenance")
    pool = cloud.csv_pool(zone, pod, ci1, "PS1", capacitybytes=100 * GIB)
    cloud.cs.updateStoragePool(id=pool["id"], capacitybytes=200 * GIB)

    whole = _by_type(cloud.cs.listCapacity(zoneid=zone["id"])["capacity"])
    assert [e["type"] for e in cloud.cs.listCapacity(zoneid=zone["id"])["capacity"]] == [0, 1, 2, 3]
    memory = whole["MEMORY"]
    assert (memory["capacitytotal"], memory["capacityused"]) == (160 * GIB, 24 * GIB)  # maintenance host left out
    assert memory["percentused"] == "15"
    assert (whole["CPU"]["capacitytotal"], whole["CPU"]["capacityused"]) == (40000, 4000)
    assert whole["CPU"]["percentused"] == "10"
    assert whole["STORAGE"]["capacitytotal"] == 200 * GIB and whole["STORAGE"]["capacityused"] == 0
    assert whole["MEMORY"]["zonename"] == "HVCluster"

    cluster_two = _by_type(cloud.cs.listCapacity(clusterid=ci2["id"])["capacity"])
    assert cluster_two["MEMORY"]["capacitytotal"] == 32 * GIB
    assert cluster_two["MEMORY"]["clustername"] == "CI2"
    assert cluster_two["STORAGE"]["capacitytotal"] == 0

    only_cpu = cloud.cs.listCapacity(podid=pod["id"], type=1)["capacity"]
    assert len(only_cpu) == 1 and only_cpu[0]["podname"] == "P1" and only_cpu[0]["capacitytotal"] == 40000

    shown = cloud.cs.listClusters(id=ci1["id"], showcapacities=True)["cluster"][0]["capacity"]
    assert _by_type(shown)["MEMORY"]["capacitytotal"] == 128 * GIB
    zone_shown = cloud.cs.listZones(id=zone["id"], showcapacities=True)["zone"][0]["capacity"]
    assert _by_type(zone_shown)["CPU"]["capacityused"] == 4000

    sorted_usage = cloud.cs.listCapacity(sortby="usage")["capacity"]
    assert [float(e["percentused"]) for e in sorted_usage] == sorted(
        (float(e["percentused"]) for e in sorted_usage), reverse=True)


def test_capacity_refusals(sqlite_cloud: Cloud) -> None:
    assert "type" in refused(sqlite_cloud.cs.listCapacity, type=42).text
    assert refused(sqlite_cloud.cs.listCapacity, type="cpu").errorcode == 431
    assert refused(sqlite_cloud.cs.listCapacity, clusterid="x").errorcode == 431
    assert refused(sqlite_cloud.user_client().listCapacity).errorcode == 432


def test_list_hypervisors(cloud: Cloud) -> None:
    assert cloud.cs.listHypervisors()["hypervisor"] == [{"name": "Hyperv"}]
    zone = cloud.zone()
    assert cloud.cs.listHypervisors(zoneid=zone["id"]) == {}  # no cluster in the zone yet
    cloud.cluster(cloud.pod(zone))
    assert cloud.cs.listHypervisors(zoneid=zone["id"])["hypervisor"] == [{"name": "Hyperv"}]
    assert refused(cloud.cs.listHypervisors, zoneid="bad").errorcode == 431
    assert cloud.user_client().listHypervisors()["hypervisor"] == [{"name": "Hyperv"}]

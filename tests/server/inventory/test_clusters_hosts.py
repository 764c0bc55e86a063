"""Clusters and hosts over HTTP with the real `cs` client, on SQLite and PostgreSQL.

Clusters and hosts are seeded through the models as addCluster/addHost will create them."""

from __future__ import annotations

import uuid

from .conftest import GIB, Cloud, refused


def test_cluster_list_update_delete(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    cluster = cloud.cluster(pod, "CI1")
    other = cloud.cluster(pod, "CI2")
    assert cluster["hypervisortype"] == "Hyperv"
    assert cluster["clustertype"] == "CloudManaged"
    assert (cluster["allocationstate"], cluster["managedstate"]) == ("Enabled", "Managed")
    assert (cluster["podname"], cluster["zonename"]) == ("P1", "HVCluster")
    assert cluster["resourcedetails"]["failoverClusterName"] == "CI1"

    assert [c["name"] for c in cloud.cs.listClusters(zoneid=zone["id"], hypervisor="Hyper-V")["cluster"]] == [
        "CI1", "CI2"]
    assert cloud.cs.listClusters(keyword="2")["cluster"][0]["id"] == other["id"]

    updated = cloud.cs.updateCluster(id=cluster["id"], clustername="CI1-prod", allocationstate="Disabled")
    assert (updated["cluster"]["name"], updated["cluster"]["allocationstate"]) == ("CI1-prod", "Disabled")
    assert cloud.cs.listClusters(allocationstate="Disabled")["cluster"][0]["id"] == cluster["id"]

    assert cloud.cs.deleteCluster(id=other["id"])["success"] is True
    assert cloud.cs.listClusters()["count"] == 1
    types = sorted(e["type"] for e in cloud.events(resourcetype="Cluster"))
    assert types == ["CLUSTER.DELETE", "CLUSTER.UPDATE"]


def test_cluster_bad_input_and_in_use(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    cluster = cloud.cluster(pod, "CI1")
    cloud.cluster(pod, "CI2")
    cloud.host(cluster, "HYPERVCLLOUD13")
    before = cloud.cs.listClusters()
    events_before = len(cloud.events())

    assert "missing parameter id" in refused(cloud.cs.updateCluster, clustername="x").text
    bad_hypervisor = refused(cloud.cs.updateCluster, id=cluster["id"], hypervisor="KVM")
    assert bad_hypervisor.errorcode == 431 and "hypervisor" in bad_hypervisor.text
    clash = refused(cloud.cs.updateCluster, id=cluster["id"], clustername="ci2")
    assert clash.errorcode == 431 and "already exists" in clash.text
    assert refused(cloud.cs.listClusters, podid="zzz").errorcode == 431
    in_use = refused(cloud.cs.deleteCluster, id=cluster["id"])
    assert in_use.errorcode == 536 and "1 host (HYPERVCLLOUD13)" in in_use.text

    assert cloud.cs.listClusters() == before
    assert len(cloud.events()) == events_before


def test_hosts_list_update_and_states(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    cluster = cloud.cluster(pod, "CI1")
    h13 = cloud.host(cluster, "HYPERVCLLOUD13", cpus=16, speed=2000, memory=128 * GIB,
                     cpu_allocated=8000, memory_allocated=32 * GIB)
    h17 = cloud.host(cluster, "HYPERVCLLOUD17", status="Down")

    assert (h13["state"], h13["resourcestate"], h13["hypervisor"]) == ("Up", "Enabled", "Hyperv")
    assert (h13["cpunumber"], h13["cpuspeed"], h13["memorytotal"]) == (16, 2000, 128 * GIB)
    assert h13["cpuallocated"] == "25%" and h13["memoryallocated"] == 32 * GIB
    assert (h13["cpuwithoverprovisioning"], h13["memoryallocatedpercentage"]) == ("32000", "25%")
    assert (h13["clustername"], h13["podname"], h13["zonename"]) == ("CI1", "P1", "HVCluster")
    assert h13["type"] == "Routing"

    assert [h["id"] for h in cloud.cs.listHosts(state="Down")["host"]] == [h17["id"]]
    assert cloud.cs.listHosts(clusterid=cluster["id"])["count"] == 2
    assert cloud.cs.listHosts(keyword="lloud13")["host"][0]["id"] == h13["id"]

    disabled = cloud.cs.updateHost(id=h13["id"], allocationstate="Disable", hosttags="gpu,ssd,gpu")["host"]
    assert disabled["resourcestate"] == "Disabled" and disabled["hosttags"] == "gpu,ssd"
    assert cloud.cs.listHosts(resourcestate="Disabled")["host"][0]["id"] == h13["id"]
    enabled = cloud.cs.updateHost(id=h13["id"], allocationstate="Enable")["host"]
    assert enabled["resourcestate"] == "Enabled"
    events = cloud.events(type="HOST.UPDATE")
    assert len(events) == 2 and all(e["resourceid"] == h13["id"] for e in events)


def test_host_bad_input_changes_nothing(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    cluster = cloud.cluster(pod)
    host = cloud.host(cluster, "HYPERVCLLOUD13")
    in_maintenance = cloud.host(cluster, "HYPERVCLLOUD17", resource_state="Maintenance")
    before = cloud.cs.listHosts()
    events_before = len(cloud.events())

    bad = refused(cloud.cs.updateHost, id=host["id"], allocationstate="Enabled")  # the API says Enable
    assert bad.errorcode == 431 and "Enable, Disable" in bad.text
    assert cloud.cs.listHosts(state="Sleeping") == {}  # CloudStack compares the state: nothing matches
    assert cloud.cs.listHosts(resourcestate="Gone") == {}
    maintenance = refused(cloud.cs.updateHost, id=in_maintenance["id"], allocationstate="Enable")
    assert maintenance.errorcode == 431 and "Maintenance" in maintenance.text
    unknown = str(uuid.uuid4())
    assert unknown in refused(cloud.cs.updateHost, id=unknown, hosttags="x").text
    not_in_maintenance = refused(cloud.cs.deleteHost, id=host["id"])
    assert not_in_maintenance.errorcode == 536 and "maintenance" in not_in_maintenance.text

    assert cloud.cs.listHosts() == before
    assert len(cloud.events()) == events_before

    assert cloud.cs.deleteHost(id=in_maintenance["id"])["success"] is True
    assert cloud.cs.listHosts()["count"] == 1


def test_users_may_not_see_or_change_hosts(sqlite_cloud: Cloud) -> None:
    zone = sqlite_cloud.zone()
    cluster = sqlite_cloud.cluster(sqlite_cloud.pod(zone))
    host = sqlite_cloud.host(cluster, "HYPERVCLLOUD13")
    user = sqlite_cloud.user_client()
    assert refused(user.listHosts).errorcode == 432
    assert refused(user.updateHost, id=host["id"], allocationstate="Disable").errorcode == 432
    assert refused(user.listClusters).errorcode == 432
    assert refused(user.deleteCluster, id=cluster["id"]).errorcode == 432
    assert sqlite_cloud.cs.listHosts()["host"][0]["resourcestate"] == "Enabled"


def test_cluster_holding_finds_the_cluster_of_a_failover_cluster(sqlite_cloud: Cloud) -> None:
    from clusterstack.server.api.commands.clusters import cluster_holding

    pod = sqlite_cloud.pod(sqlite_cloud.zone())
    held = sqlite_cloud.cluster(pod, "CI1")
    with sqlite_cloud.server.state.database.session() as db:
        found = cluster_holding(db, "ci1.blr.cloudstack.org")
        assert found is not None and found.uuid == held["id"]
        assert cluster_holding(db, "CI2") is None
    sqlite_cloud.cs.deleteCluster(id=held["id"])
    with sqlite_cloud.server.state.database.session() as db:
        assert cluster_holding(db, "CI1") is None

"""Primary storage over HTTP with the real `cs` client, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clusterstack.server.api.commands.storage_pools import pool_credentials
from clusterstack.server.db.models.infrastructure import StoragePool

from .conftest import GIB, Cloud, refused


def _topology(cloud: Cloud) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    return zone, pod, cloud.cluster(pod, "CI1")


def test_presetup_csv_pool_lifecycle(cloud: Cloud) -> None:
    zone, pod, cluster = _topology(cloud)
    pool = cloud.csv_pool(zone, pod, cluster, "PS1", tags="csv,fast", capacitybytes=100 * GIB)
    assert (pool["type"], pool["scope"], pool["state"]) == ("PreSetup", "CLUSTER", "Up")
    assert pool["path"] == "C:\\ClusterStorage\\Volume1"
    assert pool["ipaddress"] == "CI1"
    assert (pool["clustername"], pool["podname"], pool["zonename"]) == ("CI1", "P1", "HVCluster")
    assert (pool["disksizetotal"], pool["disksizeused"], pool["disksizeallocated"]) == (100 * GIB, 0, 0)
    assert pool["tags"] == "csv,fast" and pool["hypervisor"] == "Hyperv"

    # the same volume written with forward slashes and a trailing separator is the same volume
    again = refused(cloud.cs.createStoragePool, name="PS1-again", zoneid=zone["id"], podid=pod["id"],
                    clusterid=cluster["id"], url="PreSetup://CI1/C:/ClusterStorage/Volume1/")
    assert again.errorcode == 431 and "already exists" in again.text and "PS1" in again.text

    listed = cloud.cs.listStoragePools(clusterid=cluster["id"])
    assert [p["id"] for p in listed["storagepool"]] == [pool["id"]]
    assert cloud.cs.listStoragePools(path="c:\\clusterstorage\\volume1")["count"] == 1
    assert cloud.cs.listStoragePools(keyword="PS")["count"] == 1

    updated = cloud.cs.updateStoragePool(id=pool["id"], tags="csv", capacitybytes=200 * GIB)["storagepool"]
    assert (updated["tags"], updated["disksizetotal"]) == ("csv", 200 * GIB)
    disabled = cloud.cs.updateStoragePool(id=pool["id"], enabled=False)["storagepool"]
    assert disabled["state"] == "Disabled"
    assert cloud.cs.listStoragePools(status="Disabled")["storagepool"][0]["id"] == pool["id"]
    assert cloud.cs.updateStoragePool(id=pool["id"], enabled=True)["storagepool"]["state"] == "Up"

    assert cloud.cs.deleteStoragePool(id=pool["id"])["success"] is True
    assert cloud.cs.listStoragePools() == {}
    types = [e["type"] for e in reversed(cloud.events(resourcetype="StoragePool"))]
    assert types == ["CREATE.PS", "UPDATE.PS", "DISABLE.PS", "ENABLE.PS", "DELETE.PS"]


def test_smb_pool_keeps_credentials_out_of_answers(cloud: Cloud) -> None:
    zone, pod, cluster = _topology(cloud)
    pool = cloud.cs.createStoragePool(
        name="SMB1", zoneid=zone["id"], scope="zone", hypervisor="Hyper-V", url="cifs://10.1.0.5/primary",
        details=[{"user": "Administrator", "password": "Sup3r-secret", "domain": "BLR"}],
    )["storagepool"]
    assert (pool["type"], pool["scope"], pool["path"], pool["ipaddress"]) == ("SMB", "ZONE", "/primary", "10.1.0.5")
    assert "podid" not in pool and "clusterid" not in pool
    listed = str(cloud.cs.listStoragePools(id=pool["id"]))
    events = str(cloud.events())
    assert "Sup3r-secret" not in listed and "Sup3r-secret" not in events

    in_url = cloud.cs.createStoragePool(
        name="SMB2", zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"],
        url="cifs://fileserver/share/vms?user=svc&password=Also-secret",
    )["storagepool"]
    assert (in_url["scope"], in_url["path"]) == ("CLUSTER", "/share/vms")
    assert "Also-secret" not in str(cloud.cs.listStoragePools())

    # stored encrypted with the server's secret.key, readable by the layer that mounts the share
    cloud.cs.updateStoragePool(id=pool["id"], details=[{"password": "Rotated-secret"}])
    with cloud.server.state.database.session() as db:
        row = db.scalar(select(StoragePool).where(StoragePool.uuid == pool["id"]))
        assert row.details is not None and "secret" not in row.details and "Administrator" not in row.details
        assert pool_credentials(cloud.server.state, row) == {
            "user": "Administrator", "password": "Rotated-secret", "domain": "BLR"}
    assert "Rotated-secret" not in str(cloud.events())

    # a zone-wide pool is found from any host in the zone
    host = cloud.host(cluster, "HYPERVCLLOUD13")
    assert {p["name"] for p in cloud.cs.listStoragePools(hostid=host["id"])["storagepool"]} == {"SMB1", "SMB2"}


def test_storage_pool_bad_input_is_refused_and_changes_nothing(cloud: Cloud) -> None:
    zone, pod, cluster = _topology(cloud)
    other_pod = cloud.pod(zone, "P2", gateway="10.2.0.1", startip="10.2.0.10", endip="10.2.0.20")
    pool = cloud.csv_pool(zone, pod, cluster, "PS1")
    before = cloud.cs.listStoragePools()
    events_before = len(cloud.events())
    csv = "PreSetup://CI1/C:\\ClusterStorage\\Volume2"
    where = {"zoneid": zone["id"], "podid": pod["id"], "clusterid": cluster["id"]}

    def create(**params: Any) -> Any:
        return refused(cloud.cs.createStoragePool, **params)

    assert "missing parameter url" in create(name="PS2", **where).text
    assert "missing parameter zoneid" in create(name="PS2", url=csv).text
    no_cluster = create(name="PS2", url=csv, zoneid=zone["id"], podid=pod["id"], scope="cluster")
    assert no_cluster.errorcode == 431 and "cluster id can't be null, if scope is cluster" in no_cluster.text
    no_pod = create(name="PS2", url=csv, zoneid=zone["id"], clusterid=cluster["id"])
    assert "Cluster id requires pod id" in no_pod.text
    wrong_pod = create(name="PS2", url=csv, zoneid=zone["id"], podid=other_pod["id"], clusterid=cluster["id"])
    assert "does not belong to pod P2" in wrong_pod.text
    bad_scope = create(name="PS2", url=csv, scope="host", **where)
    assert bad_scope.errorcode == 431 and "CLUSTER, ZONE" in bad_scope.text
    no_hypervisor = create(name="PS2", url="cifs://srv/share?user=a&password=b", zoneid=zone["id"], scope="zone")
    assert "Hypervisor type is required to create zone wide primary storage" in no_hypervisor.text
    zone_csv = create(name="PS2", url=csv, zoneid=zone["id"], scope="zone", hypervisor="Hyper-V")
    assert "scope CLUSTER" in zone_csv.text
    nfs = create(name="PS2", url="nfs://10.0.0.1/export", **where)
    assert nfs.errorcode == 431 and "unsupported protocol nfs" in nfs.text
    relative = create(name="PS2", url="PreSetup://CI1/ClusterStorage/Volume2", **where)
    assert "absolute Windows path" in relative.text
    no_password = create(name="PS2", url="cifs://srv/share", details=[{"user": "a"}], **where)
    assert "password" in no_password.text
    assert create(name="PS2", url=csv, zoneid=zone["id"], podid=pod["id"], clusterid="nope").errorcode == 431
    shrink = refused(cloud.cs.updateStoragePool, id=pool["id"], capacitybytes=-1)
    assert shrink.errorcode == 431 and "capacitybytes" in shrink.text

    assert cloud.cs.listStoragePools() == before
    assert len(cloud.events()) == events_before


def test_cluster_with_storage_cannot_be_deleted(cloud: Cloud) -> None:
    zone, pod, cluster = _topology(cloud)
    cloud.csv_pool(zone, pod, cluster, "PS1")
    failure = refused(cloud.cs.deleteCluster, id=cluster["id"])
    assert failure.errorcode == 536 and "1 primary storage pool (PS1)" in failure.text
    assert cloud.cs.listClusters()["count"] == 1


def test_users_may_not_manage_primary_storage(sqlite_cloud: Cloud) -> None:
    zone, pod, cluster = _topology(sqlite_cloud)
    pool = sqlite_cloud.csv_pool(zone, pod, cluster)
    user = sqlite_cloud.user_client()
    assert refused(user.listStoragePools).errorcode == 432
    assert refused(user.deleteStoragePool, id=pool["id"]).errorcode == 432
    assert sqlite_cloud.cs.listStoragePools()["count"] == 1

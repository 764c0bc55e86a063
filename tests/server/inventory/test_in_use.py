"""Inventory that instances, volumes or offerings use cannot be deleted: 536 naming what uses it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clusterstack.server.db.models.catalog import ServiceOffering
from clusterstack.server.db.models.identity import Account, User
from clusterstack.server.db.models.infrastructure import Host, StoragePool
from clusterstack.server.db.models.instances import VMInstance, Volume

from .conftest import GIB, Cloud, refused


def _place_instance(cloud: Cloud, host: dict[str, Any], pool: dict[str, Any], offering: dict[str, Any]) -> None:
    """An instance on `host` with its ROOT volume on `pool`, as a deployment will leave them."""
    with cloud.server.state.database.session() as db:
        admin = db.scalar(select(User).where(User.username == "admin"))
        account = db.get(Account, admin.account_id)
        host_row = db.scalar(select(Host).where(Host.uuid == host["id"]))
        pool_row = db.scalar(select(StoragePool).where(StoragePool.uuid == pool["id"]))
        offering_row = db.scalar(select(ServiceOffering).where(ServiceOffering.uuid == offering["id"]))
        vm = VMInstance(name="web-1", service_offering_id=offering_row.id, zone_id=host_row.zone_id,
                        pod_id=host_row.pod_id, cluster_id=host_row.cluster_id, host_id=host_row.id,
                        last_host_id=host_row.id, account_id=account.id, domain_id=account.domain_id,
                        cpu=1, speed=500, ram_size=512, state="Running")
        db.add(vm)
        db.flush()
        db.add(Volume(name="ROOT-1", volume_type="ROOT", size=20 * GIB, pool_id=pool_row.id, instance_id=vm.id,
                      zone_id=host_row.zone_id, account_id=account.id, domain_id=account.domain_id))


def test_hosts_pools_and_zones_in_use_are_kept(cloud: Cloud) -> None:
    zone = cloud.zone()
    pod = cloud.pod(zone)
    cluster = cloud.cluster(pod, "CI1")
    h13 = cloud.host(cluster, "HYPERVCLLOUD13")
    h17 = cloud.host(cluster, "HYPERVCLLOUD17")
    pool = cloud.csv_pool(zone, pod, cluster, "PS1")
    offering = cloud.cs.createServiceOffering(name="HA Offering", displaytext="HA Offering", cpunumber=1,
                                              cpuspeed=500, memory=512, offerha=True)["serviceoffering"]
    _place_instance(cloud, h17, pool, offering)

    host_in_use = refused(cloud.cs.deleteHost, id=h17["id"], forced=True)
    assert (host_in_use.errorcode, host_in_use.cserrorcode) == (536, 4375)
    assert "1 instance (web-1)" in host_in_use.text
    pool_in_use = refused(cloud.cs.deleteStoragePool, id=pool["id"])
    assert pool_in_use.errorcode == 536 and "1 volume (ROOT-1)" in pool_in_use.text
    zone_in_use = refused(cloud.cs.deleteZone, id=zone["id"])
    assert zone_in_use.errorcode == 536
    for what in ("1 pod (P1)", "1 cluster (CI1)", "2 hosts (HYPERVCLLOUD13, HYPERVCLLOUD17)",
                 "1 primary storage pool (PS1)", "1 instance (web-1)", "1 volume (ROOT-1)"):
        assert what in zone_in_use.text

    # the instance's last host is history, not use: HYPERVCLLOUD13 goes once it is in maintenance
    with cloud.server.state.database.session() as db:
        vm = db.scalar(select(VMInstance).where(VMInstance.name == "web-1"))
        vm.last_host_id = db.scalar(select(Host.id).where(Host.uuid == h13["id"]))
    assert cloud.cs.deleteHost(id=h13["id"], forced=True)["success"] is True
    assert [h["name"] for h in cloud.cs.listHosts()["host"]] == ["HYPERVCLLOUD17"]
    assert cloud.cs.listStoragePools()["count"] == 1 and cloud.cs.listZones()["count"] == 1

"""Migration 0003: databases created before clusterstack answered CloudStack's hypervisor name hold "Hyper-V";
after `db upgrade` they hold "Hyperv" (CloudStack's HypervisorType name), so listings answer and filter it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clusterstack.server.db.engine import Database
from clusterstack.server.db.models.infrastructure import Cluster, Pod, StoragePool, Zone
from clusterstack.server.db.schema import upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def old_db_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"fresh_{request.param}_url")


def test_stored_hyper_v_becomes_hyperv(old_db_url: str) -> None:
    database = Database(old_db_url)
    try:
        upgrade(database, "0002")
        with database.session() as db:  # rows as clusterstack wrote them before 0003
            zone = Zone(name="Z", network_type="Advanced", dns1="8.8.8.8", internal_dns1="10.0.0.1", zone_token="t")
            db.add(zone)
            db.flush()
            pod = Pod(name="P", zone_id=zone.id, gateway="10.1.0.1", netmask="255.255.0.0", start_ip="10.1.0.10",
                      end_ip="10.1.0.20")
            db.add(pod)
            db.flush()
            db.add(Cluster(name="C", zone_id=zone.id, pod_id=pod.id, hypervisor_type="Hyper-V"))
            db.add(StoragePool(name="SMB", zone_id=zone.id, scope="ZONE", pool_type="SMB", hypervisor="Hyper-V",
                               host_address="srv", path="/share", url="cifs://srv/share"))
            db.add(StoragePool(name="Untyped", zone_id=zone.id, scope="ZONE", pool_type="SMB", hypervisor=None,
                               host_address="srv", path="/other", url="cifs://srv/other"))
        upgrade(database)
        with database.session() as db:
            assert list(db.scalars(select(Cluster.hypervisor_type))) == ["Hyperv"]
            pools = dict(db.execute(select(StoragePool.name, StoragePool.hypervisor)).all())
            assert pools == {"SMB": "Hyperv", "Untyped": None}
    finally:
        database.dispose()

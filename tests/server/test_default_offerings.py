"""A new installation has the offerings a fresh CloudStack has (ConfigurationServerImpl.persistDefaultValues):
service offerings Small Instance and Medium Instance, disk offerings Small, Medium, Large and Custom. They are
made by `db upgrade` (migration 0004), so a server that was never run as the demo has them too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clusterstack.server.db.engine import Database
from clusterstack.server.db.models.catalog import DiskOffering, ServiceOffering
from clusterstack.server.db.schema import upgrade

GIB = 1024**3


def test_a_new_installation_lists_cloudstacks_default_offerings(live_server: Any) -> None:
    client = live_server.cs()
    offerings = {o["name"]: o for o in client.listServiceOfferings()["serviceoffering"]}
    assert {name: (o["cpunumber"], o["memory"], o["cpuspeed"], o["offerha"], o["storagetype"],
                   o["provisioningtype"]) for name, o in offerings.items()} == {
        "Small Instance": (1, 512, 500, False, "shared", "thin"),
        "Medium Instance": (1, 1024, 1000, False, "shared", "thin"),
    }
    disks = {d["name"]: (d["displaytext"], d["disksize"], d["iscustomized"])
             for d in client.listDiskOfferings()["diskoffering"]}
    assert disks == {"Small": ("Small Disk, 5 GB", 5, False), "Medium": ("Medium Disk, 20 GB", 20, False),
                     "Large": ("Large Disk, 100 GB", 100, False), "Custom": ("Custom Disk", 0, True)}


def test_db_upgrade_makes_them_once(fresh_sqlite_url: str) -> None:
    database = Database(fresh_sqlite_url)
    try:
        upgrade(database)
        upgrade(database)  # a second server on the same database adds nothing
        with database.session() as db:
            assert sorted(db.scalars(select(ServiceOffering.name))) == ["Medium Instance", "Small Instance"]
            sizes = {name: size for name, size in db.execute(select(DiskOffering.name, DiskOffering.disk_size))}
        assert sizes == {"Small": 5 * GIB, "Medium": 20 * GIB, "Large": 100 * GIB, "Custom": 0}
    finally:
        database.dispose()

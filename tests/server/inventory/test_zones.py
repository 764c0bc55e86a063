"""Zones over HTTP with the real `cs` client, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from .conftest import ZONE_ARGS, Cloud, refused


def test_zone_lifecycle_writes_events(cloud: Cloud) -> None:
    zone = cloud.zone("HVCluster", dns2="8.8.4.4", guestcidraddress="10.1.1.0/24", domain="cloud.example")
    assert zone["networktype"] == "Advanced"
    assert zone["allocationstate"] == "Disabled"  # CloudStack creates zones disabled
    assert (zone["dns1"], zone["dns2"], zone["internaldns1"]) == ("8.8.8.8", "8.8.4.4", "10.0.0.1")
    assert zone["guestcidraddress"] == "10.1.1.0/24"
    assert zone["domain"] == "cloud.example"

    listed = cloud.cs.listZones(id=zone["id"])
    assert listed["count"] == 1 and listed["zone"][0]["name"] == "HVCluster"

    updated = cloud.cs.updateZone(id=zone["id"], name="HVCluster2", allocationstate="Enabled", dns2="1.1.1.1")
    assert updated["zone"]["name"] == "HVCluster2"
    assert updated["zone"]["allocationstate"] == "Enabled"
    assert cloud.cs.listZones(name="HVCluster2")["zone"][0]["dns2"] == "1.1.1.1"

    assert cloud.cs.deleteZone(id=zone["id"])["success"] is True
    assert cloud.cs.listZones(id=zone["id"]) == {}

    types = [e["type"] for e in cloud.events(resourcetype="Zone", resourceid=zone["id"])]
    assert sorted(types) == ["ZONE.CREATE", "ZONE.DELETE", "ZONE.EDIT"]


def test_zone_bad_input_is_refused_and_changes_nothing(cloud: Cloud) -> None:
    zone = cloud.zone("HVCluster")
    before = cloud.cs.listZones()
    events_before = len(cloud.events())

    missing = refused(cloud.cs.createZone, name="Z2", networktype="Basic", dns1="8.8.8.8")
    assert (missing.errorcode, missing.cserrorcode) == (431, 4350)
    assert "missing parameter internaldns1" in missing.text

    bad_enum = refused(cloud.cs.createZone, name="Z2", **{**ZONE_ARGS, "networktype": "Hybrid"})
    assert bad_enum.errorcode == 431 and "networktype" in bad_enum.text and "Basic, Advanced" in bad_enum.text

    bad_ip = refused(cloud.cs.createZone, name="Z2", **{**ZONE_ARGS, "dns1": "8.8.8"})
    assert bad_ip.errorcode == 431 and "DNS1" in bad_ip.text

    duplicate = refused(cloud.cs.createZone, name="hvcluster", **ZONE_ARGS)
    assert duplicate.errorcode == 431 and "already exists" in duplicate.text

    bad_uuid = refused(cloud.cs.updateZone, id="not-a-uuid", name="X")
    assert bad_uuid.errorcode == 431 and "id" in bad_uuid.text

    unknown = str(uuid.uuid4())
    not_found = refused(cloud.cs.deleteZone, id=unknown)
    assert not_found.errorcode == 431 and unknown in not_found.text

    bad_state = refused(cloud.cs.updateZone, id=zone["id"], allocationstate="Sleeping")
    assert bad_state.errorcode == 431 and "allocationstate" in bad_state.text

    bad_cidr = refused(cloud.cs.updateZone, id=zone["id"], name="Renamed", guestcidraddress="10.1.1.0/33")
    assert bad_cidr.errorcode == 431 and "cidr" in bad_cidr.text

    assert cloud.cs.listZones() == before
    assert len(cloud.events()) == events_before


def test_zone_with_pods_cannot_be_deleted(cloud: Cloud) -> None:
    zone = cloud.zone()
    cloud.pod(zone, "P1")
    failure = refused(cloud.cs.deleteZone, id=zone["id"])
    assert (failure.errorcode, failure.cserrorcode) == (536, 4375)
    assert "1 pod (P1)" in failure.text
    assert cloud.cs.listZones(id=zone["id"])["count"] == 1


def test_zone_keyword_filter_and_paging(cloud: Cloud) -> None:
    for name in ("Bangalore-1", "Bangalore-2", "Chennai-1"):
        cloud.zone(name)
    found = cloud.cs.listZones(keyword="bangalore")
    assert sorted(z["name"] for z in found["zone"]) == ["Bangalore-1", "Bangalore-2"]
    assert cloud.cs.listZones(keyword="nowhere") == {}
    page = cloud.cs.listZones(page=2, pagesize=2)
    assert page["count"] == 3 and len(page["zone"]) == 1
    assert cloud.cs.listZones(networktype="Basic") == {}


def test_users_see_only_enabled_zones_and_may_not_manage_them(cloud: Cloud) -> None:
    enabled = cloud.zone("Open", allocationstate="Enabled")
    cloud.zone("Closed")
    user = cloud.user_client()

    visible = user.listZones()
    assert [z["id"] for z in visible["zone"]] == [enabled["id"]]
    assert "internaldns1" not in visible["zone"][0]  # internal addresses are for administrators

    failure = refused(user.createZone, name="Mine", **ZONE_ARGS)
    assert failure.errorcode == 432
    assert refused(user.deleteZone, id=enabled["id"]).errorcode == 432
    assert cloud.cs.listZones()["count"] == 2

"""Service and disk offerings over HTTP with the real `cs` client."""

from __future__ import annotations

from .conftest import HA_OFFERING, Catalog, refused


def test_the_seed_ha_offering_round_trip(catalog: Catalog) -> None:
    made = catalog.cs.createServiceOffering(**HA_OFFERING)["serviceoffering"]
    assert (made["name"], made["displaytext"], made["cpunumber"], made["cpuspeed"], made["memory"]) == (
        "HA Offering", "HA Offering", 1, 500, 512)
    assert (made["storagetype"], made["provisioningtype"], made["offerha"]) == ("shared", "thin", True)
    assert made["created"].endswith("+0000")

    small = catalog.cs.createServiceOffering(name="Small Instance", cpunumber=1, cpuspeed=500, memory=512,
                                             hosttags="gpu, ,fast")["serviceoffering"]
    assert small["offerha"] is False and small["displaytext"] == "Small Instance"
    assert small["hosttags"] == "gpu,fast"

    listed = catalog.cs.listServiceOfferings()
    assert listed["count"] == 2
    assert [o["name"] for o in listed["serviceoffering"]] == ["HA Offering", "Small Instance"]
    assert catalog.cs.listServiceOfferings(id=made["id"])["serviceoffering"][0] == made
    assert catalog.cs.listServiceOfferings(keyword="ha off")["count"] == 1
    paged = catalog.cs.listServiceOfferings(page=2, pagesize=1)
    assert paged["count"] == 2 and [o["name"] for o in paged["serviceoffering"]] == ["Small Instance"]

    updated = catalog.cs.updateServiceOffering(id=made["id"], displaytext="HA, medium priority",
                                               hosttags="hyperv")["serviceoffering"]
    assert updated["displaytext"] == "HA, medium priority" and updated["hosttags"] == "hyperv"
    assert updated["offerha"] is True and updated["memory"] == 512

    assert catalog.cs.deleteServiceOffering(id=small["id"])["success"] is True
    assert [o["name"] for o in catalog.cs.listServiceOfferings()["serviceoffering"]] == ["HA Offering"]
    assert refused(catalog.cs.deleteServiceOffering, id=small["id"]).errorcode == 431

    kinds = {e["type"] for e in catalog.cs.listEvents(listall=True)["event"]}
    assert {"SERVICE.OFFERING.CREATE", "SERVICE.OFFERING.EDIT", "SERVICE.OFFERING.DELETE"} <= kinds


def test_offering_refusals_name_the_parameter_and_change_nothing(sqlite_catalog: Catalog) -> None:
    api = sqlite_catalog.cs
    missing = refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=500)
    assert (missing.errorcode, missing.cserrorcode) == (431, 4350)
    assert "memory" in missing.text
    assert "cpunumber" in refused(api.createServiceOffering, name="x", cpunumber=0, cpuspeed=1, memory=512).text
    assert "memory" in refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=1, memory=16).text
    assert "storagetype" in refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=1, memory=512,
                                    storagetype="nvme").text
    assert "provisioningtype" in refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=1,
                                         memory=512, provisioningtype="thick").text
    assert "offerha" in refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=1, memory=512,
                                offerha="maybe").text
    assert "cpuspeed" in refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed="fast",
                                 memory=512).text
    assert "domainid" in refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=1, memory=512,
                                 domainid="00000000-0000-0000-0000-000000000000").text
    assert api.listServiceOfferings() == {}
    assert "id" in refused(api.updateServiceOffering, id="not-a-uuid").text
    assert refused(api.createDiskOffering, name="d").text == "Disksize is required for a non-customized disk offering"
    assert api.listDiskOfferings() == {}


def test_users_list_offerings_but_may_not_manage_them(sqlite_catalog: Catalog) -> None:
    api = sqlite_catalog.cs
    api.createServiceOffering(**HA_OFFERING)
    sales = sqlite_catalog.domain("Sales")
    api.createServiceOffering(name="Sales only", cpunumber=2, cpuspeed=1000, memory=2048, domainid=sales["id"])
    root_user = sqlite_catalog.client(sqlite_catalog.account())
    sales_user = sqlite_catalog.client(sqlite_catalog.account(sales))
    assert [o["name"] for o in root_user.listServiceOfferings()["serviceoffering"]] == ["HA Offering"]
    assert [o["name"] for o in sales_user.listServiceOfferings()["serviceoffering"]] == ["HA Offering",
                                                                                         "Sales only"]
    assert refused(root_user.createServiceOffering, **HA_OFFERING).errorcode == 432
    assert api.listServiceOfferings()["count"] == 2


def test_disk_offerings_round_trip(catalog: Catalog) -> None:
    small = catalog.cs.createDiskOffering(name="Small", displaytext="Small Disk, 5 GB", disksize=5)["diskoffering"]
    assert (small["disksize"], small["iscustomized"], small["storagetype"], small["provisioningtype"]) == (
        5, False, "shared", "thin")
    custom = catalog.cs.createDiskOffering(name="Custom", customized=True, provisioningtype="fat",
                                           tags="ssd")["diskoffering"]
    assert custom["iscustomized"] is True and custom["disksize"] == 0 and custom["tags"] == "ssd"
    assert catalog.cs.listDiskOfferings()["count"] == 2
    assert catalog.cs.listDiskOfferings(name="Custom")["diskoffering"][0]["id"] == custom["id"]
    renamed = catalog.cs.updateDiskOffering(id=small["id"], name="Small (5 GB)")["diskoffering"]
    assert renamed["name"] == "Small (5 GB)" and renamed["disksize"] == 5
    assert catalog.cs.deleteDiskOffering(id=custom["id"])["success"] is True
    assert [d["name"] for d in catalog.cs.listDiskOfferings()["diskoffering"]] == ["Small (5 GB)"]
    assert "disksize" in refused(catalog.cs.createDiskOffering, name="d", disksize="big").text
    assert catalog.cs.listDiskOfferings()["count"] == 1

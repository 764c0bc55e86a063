"""listVirtualMachines and listVolumes over seeded instances: fields, paging, filters and scoping."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import GIB, HA_OFFERING, Catalog, refused


@pytest.fixture
def fleet(catalog: Catalog) -> dict[str, Any]:
    """Two accounts in ROOT and one in domain Sales; an HA offering, a template, instances on both hosts."""
    where = catalog.placement()
    offering = catalog.cs.createServiceOffering(**HA_OFFERING)["serviceoffering"]
    plain = catalog.cs.createServiceOffering(name="Small Instance", cpunumber=2, cpuspeed=1000,
                                             memory=1024)["serviceoffering"]
    template = catalog.template(where["zone"], ispublic=True)
    alice = catalog.account()
    bob = catalog.account()
    sales = catalog.domain("Sales")
    carol = catalog.account(sales)
    ids = {
        "alice": catalog.seed_vms(7, account=alice, offering=offering, template=template, where=where,
                                  name_prefix="havm"),
        "alice_stopped": catalog.seed_vms(2, account=alice, offering=plain, template=template, where=where,
                                          state="Stopped", name_prefix="cold"),
        "bob": catalog.seed_vms(3, account=bob, offering=offering, template=template, where=where, host_index=1,
                                name_prefix="bobvm"),
        "carol": catalog.seed_vms(1, account=carol, offering=plain, template=template, where=where,
                                  name_prefix="carolvm"),
        "destroyed": catalog.seed_vms(1, account=alice, offering=plain, template=template, where=where,
                                      state="Destroyed", name_prefix="gone"),
    }
    return {"where": where, "offering": offering, "template": template, "alice": alice, "bob": bob,
            "carol": carol, "sales": sales, "ids": ids}


def test_fields_paging_and_filters(catalog: Catalog, fleet: dict[str, Any]) -> None:
    api = catalog.cs
    everything = api.listVirtualMachines(listall=True)
    assert everything["count"] == 14
    first = next(vm for vm in everything["virtualmachine"] if vm["id"] == fleet["ids"]["alice"][0])
    alice = fleet["alice"]
    host = fleet["where"]["hosts"][0]
    assert (first["name"], first["displayname"], first["state"], first["haenable"]) == ("havm0", "havm0",
                                                                                     "Running", True)
    assert re.fullmatch(r"i-\d+-\d+-VM", first["instancename"])
    assert (first["hostid"], first["hostname"]) == (host["id"], "HYPERVCLLOUD13")
    assert (first["zoneid"], first["zonename"]) == (fleet["where"]["zone"]["id"], "HVCluster")
    assert (first["serviceofferingid"], first["serviceofferingname"]) == (fleet["offering"]["id"], "HA Offering")
    assert (first["templateid"], first["templatename"]) == (fleet["template"]["id"], "WS2019")
    assert (first["cpunumber"], first["cpuspeed"], first["memory"]) == (1, 500, 512)
    assert (first["account"], first["domain"], first["domainid"]) == (alice["name"], "ROOT", catalog.root_id)
    assert first["osdisplayname"] == "Windows Server 2019 (64-bit)" and first["hypervisor"] == "Hyperv"
    assert first["created"] == "2017-05-11T14:00:00+0000"
    assert first["nic"] == [] and first["clustername"] == "CI1"

    page_one = api.listVirtualMachines(listall=True, page=1, pagesize=5)
    page_three = api.listVirtualMachines(listall=True, page=3, pagesize=5)
    assert page_one["count"] == page_three["count"] == 14
    assert len(page_one["virtualmachine"]) == 5 and len(page_three["virtualmachine"]) == 4
    pages = [vm["id"] for p in (1, 2, 3) for vm in
             api.listVirtualMachines(listall=True, page=p, pagesize=5)["virtualmachine"]]
    assert sorted(pages) == sorted(vm["id"] for vm in everything["virtualmachine"]) and len(set(pages)) == 14

    assert api.listVirtualMachines(listall=True, state="Stopped")["count"] == 2
    assert api.listVirtualMachines(listall=True, state="running")["count"] == 11
    assert api.listVirtualMachines(listall=True, state="Present")["count"] == 13
    assert api.listVirtualMachines(listall=True, hostid=fleet["where"]["hosts"][1]["id"])["count"] == 3
    assert api.listVirtualMachines(listall=True, clusterid=fleet["where"]["cluster"]["id"])["count"] == 14
    assert api.listVirtualMachines(listall=True, zoneid=fleet["where"]["zone"]["id"])["count"] == 14
    assert api.listVirtualMachines(listall=True, name="bobvm1")["virtualmachine"][0]["id"] == fleet["ids"]["bob"][1]
    assert api.listVirtualMachines(listall=True, keyword="bobvm")["count"] == 3
    assert api.listVirtualMachines(listall=True, keyword="%") == {}  # LIKE wildcards are taken literally
    two = fleet["ids"]["bob"][:2]
    assert sorted(vm["id"] for vm in api.listVirtualMachines(ids=",".join(two), listall=True)[
        "virtualmachine"]) == sorted(two)
    assert api.listVirtualMachines(id=fleet["ids"]["carol"][0], listall=True)["count"] == 1
    assert api.listVirtualMachines(listall=True, haenable=True)["count"] == 10
    assert api.listVirtualMachines(listall=True, domainid=fleet["sales"]["id"])["count"] == 1
    assert api.listVirtualMachines(account=alice["name"], domainid=catalog.root_id)["count"] == 10
    assert api.listVirtualMachines() == {}  # without listall the admin sees its own account's: none

    volumes = api.listVolumes(listall=True)
    assert volumes["count"] == 14
    root = api.listVolumes(virtualmachineid=fleet["ids"]["alice"][0], listall=True)["volume"][0]
    assert (root["type"], root["state"], root["size"], root["deviceid"]) == ("ROOT", "Ready", 20 * GIB, 0)
    assert root["vmname"] == "havm0" and root["path"].startswith("C:\\ClusterStorage\\Volume1\\")
    assert root["serviceofferingname"] == "HA Offering"


def test_users_see_only_their_own_account(catalog: Catalog, fleet: dict[str, Any]) -> None:
    alice = catalog.client(fleet["alice"])
    mine = alice.listVirtualMachines()
    assert mine["count"] == 9  # her destroyed instance is hidden from her
    assert {vm["account"] for vm in mine["virtualmachine"]} == {fleet["alice"]["name"]}
    assert all("hostid" not in vm and "instancename" not in vm for vm in mine["virtualmachine"])
    assert alice.listVirtualMachines(listall=True)["count"] == 9
    assert alice.listVirtualMachines(id=fleet["ids"]["bob"][0]) == {}
    assert refused(alice.listVirtualMachines, account=fleet["bob"]["name"]).errorcode == 531
    assert refused(alice.listVirtualMachines, hostid=fleet["where"]["hosts"][0]["id"]).errorcode == 431
    assert alice.listVolumes()["count"] == 9
    assert all("path" not in v for v in alice.listVolumes()["volume"])
    carol = catalog.client(fleet["carol"])
    assert [(vm["name"], vm["domainpath"]) for vm in carol.listVirtualMachines()["virtualmachine"]] == [
        ("carolvm0", "ROOT/Sales")]

    sales_admin = catalog.client(catalog.account(fleet["sales"], accounttype=2))
    assert sales_admin.listVirtualMachines() == {}  # its own account has none
    assert [vm["name"] for vm in sales_admin.listVirtualMachines(listall=True)["virtualmachine"]] == ["carolvm0"]
    assert refused(sales_admin.listVirtualMachines, domainid=catalog.root_id).errorcode == 531


def test_list_apis_describes_the_instance_fields(sqlite_catalog: Catalog) -> None:
    [api] = sqlite_catalog.cs.listApis(name="listVirtualMachines")["api"]
    fields = {field["name"] for field in api["response"]}
    assert {"id", "name", "displayname", "instancename", "hostname", "hostid", "haenable", "state", "zonename",
            "serviceofferingname", "templatename", "cpunumber", "memory", "account", "domain", "created"} <= fields
    params = {param["name"]: param for param in api["params"]}
    assert {"id", "ids", "name", "state", "zoneid", "hostid", "clusterid", "keyword", "page", "pagesize",
            "listall", "account", "domainid"} <= set(params)
    assert api["isasync"] is False and not any(param["required"] for param in params.values())


def test_list_refusals(sqlite_catalog: Catalog) -> None:
    api = sqlite_catalog.cs
    assert api.listVirtualMachines(state="Sleeping") == {}  # CloudStack compares the state: nothing matches
    assert "Page size" in refused(api.listVirtualMachines, pagesize=100000).text
    assert "hostid" in refused(api.listVirtualMachines, hostid="HYPERVCLLOUD13").text
    failure = refused(api.listVirtualMachines, zoneid="00000000-0000-0000-0000-000000000000")
    assert (failure.errorcode, failure.cserrorcode) == (431, 4350) and "zoneid" in failure.text
    assert api.listVolumes(type="SWAP") == {}

"""HA instances end to end through the API, with the real `cs` client, against the simulated cluster CI1."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from .seed_cloud import build_seed, wait_until


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    return build_seed(live_server, simulator)


def _deploy(seed: dict[str, Any], name: str, offering: str, host: str, **extra: Any) -> dict[str, Any]:
    answer = seed["cs"].deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"][offering],
                                             templateid=seed["template"], hostid=seed["hosts"][host], name=name,
                                             displayname=name, **extra)
    return answer["virtualmachine"]


def _roles(seed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in seed["sim"].report()["roles"]}


def test_the_seed_story(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    ha1 = _deploy(seed, "HAVM1", "HA Offering", "HYPERVCLLOUD17")
    ha2 = _deploy(seed, "HAVM2", "HA Offering", "HYPERVCLLOUD17")
    plain = _deploy(seed, "sowmyavm1", "Small Instance", "HYPERVCLLOUD13")
    for vm in (ha1, ha2, plain):
        assert vm["state"] == "Running"
        assert vm["instancename"].startswith("i-") and vm["instancename"].endswith("-VM")
        assert vm["zonename"] == "HVCluster"
    assert ha1["haenable"] is True and plain["haenable"] is False
    assert ha1["hostname"] == "HYPERVCLLOUD17" and plain["hostname"] == "HYPERVCLLOUD13"
    roles = _roles(seed)
    assert [roles[v["instancename"]]["priority"] for v in (ha1, ha2, plain)] == [2000, 2000, 0]
    assert roles[ha1["instancename"]]["owner_node"] == "HYPERVCLLOUD17"

    [pool] = client.listStoragePools()["storagepool"]
    assert pool["disksizeallocated"] == 3 * 20 * 1024**3
    wait_until(lambda: client.listStoragePools()["storagepool"][0]["disksizeused"] == 3 * 20 * 1024**3)

    # the seed's failure: HYPERVCLLOUD17 crashes; the cluster restarts the HA VMs on HYPERVCLLOUD13
    seed["sim"].fault("node-down", node="HYPERVCLLOUD17")
    def followed() -> bool:
        vms = {v["name"]: v for v in client.listVirtualMachines(listall=True)["virtualmachine"]}
        return all(vms[n]["hostname"] == "HYPERVCLLOUD13" and vms[n]["state"] == "Running"
                   for n in ("HAVM1", "HAVM2"))
    wait_until(followed)
    wait_until(lambda: next(h for h in client.listHosts()["host"] if h["name"] == "HYPERVCLLOUD17")["state"] == "Down")
    migrations = [e for e in client.listEvents(listall=True, type="VM.MIGRATE")["event"]
                  if "Detected out of band VM migration" in e["description"]]
    assert len(migrations) == 2
    # it comes back; live-migrate one HA VM back to it
    seed["sim"].fault("node-up", node="HYPERVCLLOUD17")
    wait_until(lambda: next(h for h in client.listHosts()["host"] if h["name"] == "HYPERVCLLOUD17")["state"] == "Up")
    moved = client.migrateVirtualMachine(virtualmachineid=ha1["id"], hostid=seed["hosts"]["HYPERVCLLOUD17"])
    assert moved["virtualmachine"]["hostname"] == "HYPERVCLLOUD17"
    assert _roles(seed)[ha1["instancename"]]["owner_node"] == "HYPERVCLLOUD17"


def test_lifecycle_and_refusals(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    vm = _deploy(seed, "life", "HA Offering", "HYPERVCLLOUD13")
    name = vm["instancename"]
    stopped = client.stopVirtualMachine(id=vm["id"])["virtualmachine"]
    assert stopped["state"] == "Stopped" and _roles(seed)[name]["vm_state"] == "Off"
    assert client.startVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Running"
    assert client.rebootVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Running"
    updated = client.updateVirtualMachine(id=vm["id"], haenable=False, displayname="Life")["virtualmachine"]
    assert updated["haenable"] is False and updated["displayname"] == "Life"
    assert _roles(seed)[name]["priority"] == 0
    client.updateVirtualMachine(id=vm["id"], haenable=True)
    assert _roles(seed)[name]["priority"] == 2000

    before = client.listVirtualMachines(listall=True)["virtualmachine"]
    for bad in ({"zoneid": seed["zone"], "templateid": seed["template"]},  # no offering
                {"zoneid": seed["zone"], "serviceofferingid": "not-a-uuid", "templateid": seed["template"]}):
        with pytest.raises(CloudStackApiException) as refused:
            client.deployVirtualMachine(**bad)
        assert refused.value.error["errorcode"] == 431
    with pytest.raises(CloudStackApiException) as refused:
        client.startVirtualMachine(id=vm["id"])
    assert refused.value.error["errorcode"] == 431 and "Running" in refused.value.error["errortext"]
    assert client.listVirtualMachines(listall=True)["virtualmachine"] == before

    client.destroyVirtualMachine(id=vm["id"])
    assert name in _roles(seed) and _roles(seed)[name]["priority"] == 0
    assert client.recoverVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Stopped"
    client.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert name not in _roles(seed)
    assert all(v["id"] != vm["id"] for v in client.listVirtualMachines(listall=True).get("virtualmachine", []))


def test_new_work_is_refused_without_quorum(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    seed["sim"].fault("disk-fail", disk="ClusterDisk2")
    seed["sim"].fault("node-down", node="HYPERVCLLOUD17")
    seed["sim"].fault("node-down", node="HYPERVCLLOUD13")
    wait_until(lambda: seed["sim"].report()["quorum"]["state"] == "Lost")
    seed["sim"].fault("node-up", node="HYPERVCLLOUD13")  # alive, but one vote of a frozen two is not a majority
    with pytest.raises(CloudStackApiException) as refused:
        client.deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"]["HA Offering"],
                                    templateid=seed["template"], hostid=seed["hosts"]["HYPERVCLLOUD13"])
    assert refused.value.error["errorcode"] in (533, 534)
    assert "quorum" in refused.value.error["errortext"] or "Alert" in refused.value.error["errortext"]
    assert not client.listVirtualMachines(listall=True).get("virtualmachine")


def test_data_volumes_live_on_the_csv(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    vm = _deploy(seed, "withdata", "HA Offering", "HYPERVCLLOUD13")
    offering = client.createDiskOffering(name="Custom", displaytext="Custom", customized=True)["diskoffering"]
    volume = client.createVolume(name="data1", zoneid=seed["zone"], diskofferingid=offering["id"], size=5)["volume"]
    assert volume["state"] == "Allocated" and volume["type"] == "DATADISK"
    attached = client.attachVolume(id=volume["id"], virtualmachineid=vm["id"])["volume"]
    assert attached["virtualmachineid"] == vm["id"]
    role = _roles(seed)[vm["instancename"]]
    assert any(v["path"].endswith(".vhdx") and v["size_bytes"] == 5 * 1024**3 for v in role["vhds"])
    client.resizeVolume(id=volume["id"], size=8)
    role = _roles(seed)[vm["instancename"]]
    assert any(v["size_bytes"] == 8 * 1024**3 for v in role["vhds"])
    wait_until(lambda: client.listStoragePools()["storagepool"][0]["disksizeused"] == (20 + 8) * 1024**3)
    with pytest.raises(CloudStackApiException) as refused:
        client.deleteVolume(id=volume["id"])
    assert refused.value.error["errorcode"] == 431
    client.detachVolume(id=volume["id"])
    assert client.deleteVolume(id=volume["id"]) == {"success": True}
    wait_until(lambda: client.listStoragePools()["storagepool"][0]["disksizeused"] == 20 * 1024**3)
    with pytest.raises(CloudStackApiException) as refused:
        client.resizeVolume(id=volume["id"], size=9)
    assert refused.value.error["errorcode"] == 431

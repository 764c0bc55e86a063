"""rehearseFailoverClusterFailure and HA admission control (hyperv.ha.admission.failures) through the API, with
the real `cs` client against the simulated cluster CI1 (two nodes of 64 GB), over both drivers."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from .seed_cloud import build_seed, wait_until

N13, N17 = "HYPERVCLLOUD13", "HYPERVCLLOUD17"
BIG_MB = 40960  # two of these do not fit one 64 GB node


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    cloud = build_seed(live_server, simulator)
    client = cloud["cs"]
    for name, ha in (("Big HA", True), ("Big", False)):
        made = client.createServiceOffering(name=name, displaytext=name, storagetype="shared", cpunumber=1,
                                            cpuspeed=500, memory=BIG_MB, offerha=ha)["serviceoffering"]
        cloud["offerings"][name] = made["id"]
    return cloud


def _deploy(seed: dict[str, Any], name: str, offering: str, host: str) -> dict[str, Any]:
    return seed["cs"].deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"][offering],
                                           templateid=seed["template"], hostid=seed["hosts"][host], name=name,
                                           displayname=name)["virtualmachine"]


def _refused(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as info:
        call(**params)
    return info.value.error


def _followed(seed: dict[str, Any], count: int) -> None:
    """The server's follower has the cluster's roles (the rehearsal works from what it followed)."""
    client = seed["cs"]
    wait_until(lambda: len(client.listFailoverClusterRoles(clusterid=seed["cluster"]).get(
        "failoverclusterrole", [])) == count and all(
        vm["state"] == "Running" for vm in client.listVirtualMachines(listall=True).get("virtualmachine", [])))


def test_rehearsal_answers_every_role_and_changes_nothing(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    ha = _deploy(seed, "ha-1", "HA Offering", N17)
    plain = _deploy(seed, "plain-1", "Small Instance", N17)
    _deploy(seed, "ha-2", "HA Offering", N13)
    _followed(seed, 3)
    answer = client.rehearseFailoverClusterFailure(clusterid=seed["cluster"], nodes=N17.lower())
    rehearsal = answer["failoverclusterrehearsal"]
    assert (rehearsal["clusterid"], rehearsal["name"], rehearsal["profile"]) == (seed["cluster"], "CI1", "2016")
    assert rehearsal["failednodes"] == [N17] and rehearsal["quorumafter"]["hasquorum"] is True
    assert rehearsal["survives"] is True and rehearsal["unaffectedcount"] == 1
    roles = {r["virtualmachinename"]: r for r in rehearsal["role"]}
    assert set(roles) == {"ha-1", "plain-1"}
    assert roles["ha-1"]["ownernodebefore"] == N17 and roles["ha-1"]["ownernode"] == N13
    assert roles["ha-1"]["status"] == "Online" and roles["ha-1"]["restartorder"] == 1
    assert roles["ha-1"]["onlineafterseconds"] == 11.0  # 10 missed heartbeats (2016), then a 1 s start
    assert roles["ha-1"]["virtualmachineid"] == ha["id"]
    assert (roles["plain-1"]["ownernode"], roles["plain-1"]["reason"], roles["plain-1"]["staysdown"]) == \
        (N13, "NoAutoStart", True)
    assert rehearsal["stranded"] == [plain["instancename"]] and rehearsal["restartorder"] == [ha["instancename"]]
    nodes = {n["name"]: n for n in rehearsal["node"]}
    assert nodes[N17]["failed"] is True and nodes[N13]["memoryused"] == 2 * 512
    assert nodes[N13]["hostid"] == seed["hosts"][N13]
    every = client.rehearseFailoverClusterFailure(clusterid=seed["cluster"], nodes=seed["hosts"][N17],
                                                  listall=True)["failoverclusterrehearsal"]
    assert len(every["role"]) == 3 and every["failednodes"] == [N17]
    assert all(r["affected"] for r in rehearsal["role"]) and sum(not r["affected"] for r in every["role"]) == 1
    with_disk = client.rehearseFailoverClusterFailure(clusterid=seed["cluster"], nodes=N17,
                                                      disks="ClusterDisk1")["failoverclusterrehearsal"]
    assert with_disk["faileddisks"] == ["ClusterDisk1"] and with_disk["survives"] is False
    assert {r["virtualmachinename"]: r["reason"] for r in with_disk["role"]} == {
        "ha-1": "DiskFailed", "ha-2": "DiskFailed", "plain-1": "NoAutoStart"}
    # nothing changed: the cluster still runs both nodes and every instance where it was
    nodes_now = client.listFailoverClusterNodes(clusterid=seed["cluster"])["failoverclusternode"]
    assert {n["name"]: n["status"] for n in nodes_now} == {N13: "Up", N17: "Up"}
    assert client.listVirtualMachines(id=ha["id"])["virtualmachine"][0]["hostname"] == N17


def test_rehearsal_refuses_bad_input(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    call = client.rehearseFailoverClusterFailure
    assert "HYPERVCLLOUD99" in _refused(call, clusterid=seed["cluster"], nodes="HYPERVCLLOUD99")["errortext"]
    assert _refused(call, clusterid=seed["cluster"], nodes=f"{N13},{N17}")["errorcode"] == 431
    assert _refused(call, clusterid=seed["cluster"], nodes=N13, disks="NoSuchDisk")["errorcode"] == 431
    assert _refused(call, clusterid=seed["cluster"])["errorcode"] == 431
    assert _refused(call, clusterid=seed["cluster"], nodes="00000000-0000-0000-0000-000000000000")["errorcode"] == 431


def test_admission_refuses_exactly_what_a_node_loss_would_strand(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    big = _deploy(seed, "big-1", "Big HA", N13)
    _followed(seed, 1)
    room = client.listClusters(id=seed["cluster"])["cluster"][0]
    assert (room["haadmissionfailures"], room["hafailurestolerated"], room["hasurvivesfailures"]) == (0, 1, True)
    assert room["haheadroommb"] == 65536 - BIG_MB and "harolesatrisk" not in room
    client.updateConfiguration(name="hyperv.ha.admission.failures", value="1")
    # a second big HA instance: losing either node would leave one of the two without a place
    refusal = _refused(_deploy, seed=seed, name="big-2", offering="Big HA", host=N17)
    assert refusal["errorcode"] == 533, refusal
    assert "cluster CI1" in refusal["errortext"] and f"{BIG_MB} MB of HA memory short" in refusal["errortext"]
    # a small HA instance still fits beside the big one after either loss: admitted
    _deploy(seed, "small-ha", "HA Offering", N17)
    # a non-HA instance is not held to it, even when it takes the room the big HA instance would fail over to
    _deploy(seed, "big-plain", "Big", N17)
    _followed(seed, 3)
    wait_until(lambda: client.listClusters(id=seed["cluster"])["cluster"][0]["hasurvivesfailures"] is False)
    at_risk = client.listClusters(id=seed["cluster"])["cluster"][0]
    assert at_risk["haheadroommb"] == 0 and big["instancename"] in at_risk["harolesatrisk"]
    # now starting the big HA instance again is refused: losing its node would strand it
    client.stopVirtualMachine(id=big["id"])
    refusal = _refused(client.startVirtualMachine, id=big["id"])
    assert refusal["errorcode"] == 533
    assert client.listVirtualMachines(id=big["id"])["virtualmachine"][0]["state"] == "Stopped"
    client.updateConfiguration(name="hyperv.ha.admission.failures", value="0")
    assert client.startVirtualMachine(id=big["id"])["virtualmachine"]["state"] == "Running"


def test_enabling_ha_on_a_running_instance_is_held_to_it(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    client.updateConfiguration(name="hyperv.ha.admission.failures", value="1")
    first = _deploy(seed, "plain-a", "Big", N17)
    second = _deploy(seed, "plain-b", "Big", N13)  # non-HA: admitted though neither node could take both
    _followed(seed, 2)
    # HA on the first: losing its node, it fails over to... a node whose memory the second takes
    refusal = _refused(client.updateVirtualMachine, id=first["id"], haenable=True)
    assert refusal["errorcode"] == 533 and first["instancename"] in refusal["errortext"]
    assert client.listVirtualMachines(id=first["id"])["virtualmachine"][0]["haenable"] is False
    roles = {r["name"]: r for r in client.listFailoverClusterRoles(clusterid=seed["cluster"])["failoverclusterrole"]}
    assert roles[first["instancename"]]["priorityvalue"] == 0  # the cluster was not changed
    client.destroyVirtualMachine(id=second["id"], expunge=True)
    _followed(seed, 1)
    assert client.updateVirtualMachine(id=first["id"], haenable=True)["virtualmachine"]["haenable"] is True

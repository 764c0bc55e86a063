"""Failover Cluster Manager's views and actions through the API (listFailoverCluster*, moveFailoverClusterRole,
suspend/resumeFailoverClusterNode), with the real `cs` client against the simulated cluster CI1."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStackApiException
from sqlalchemy import select

from clusterstack.hypervisor.base import VmSpec
from clusterstack.hypervisor.simulator import SimulatorDriver

from .seed_cloud import build_seed, cluster_target, wait_until

N13, N17 = "HYPERVCLLOUD13", "HYPERVCLLOUD17"


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    return build_seed(live_server, simulator)


def _deploy(seed: dict[str, Any], name: str, offering: str, host: str) -> dict[str, Any]:
    return seed["cs"].deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"][offering],
                                           templateid=seed["template"], hostid=seed["hosts"][host], name=name,
                                           displayname=name)["virtualmachine"]


def _refused(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as info:
        call(**params)
    return info.value.error


def _roles(seed: dict[str, Any], **filters: Any) -> dict[str, dict[str, Any]]:
    answer = seed["cs"].listFailoverClusterRoles(clusterid=seed["cluster"], **filters)
    return {r["name"]: r for r in answer.get("failoverclusterrole", [])}


def _nodes(seed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in seed["cs"].listFailoverClusterNodes(clusterid=seed["cluster"])["failoverclusternode"]}


def _vm(seed: dict[str, Any], vm_id: str) -> dict[str, Any]:
    return seed["cs"].listVirtualMachines(id=vm_id, listall=True)["virtualmachine"][0]


def _host(seed: dict[str, Any], name: str) -> dict[str, Any]:
    return seed["cs"].listHosts(id=seed["hosts"][name])["host"][0]


def test_the_cluster_its_nodes_and_its_disks(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    _deploy(seed, "HAVM1", "HA Offering", N17)
    answer = client.listFailoverClusters()
    assert answer["count"] == 1
    [summary] = answer["failovercluster"]
    assert summary == client.listFailoverClusters(clusterid=seed["cluster"])["failovercluster"][0]
    assert (summary["clusterid"], summary["clustername"], summary["name"]) == (seed["cluster"], "CI1", "CI1")
    assert summary["address"] == cluster_target(seed["sim"]).url and summary["state"] == "Reachable"
    assert (summary["quorumstate"], summary["quorummodel"], summary["witness"]) == \
        ("Up", "Node and Disk Majority", "ClusterDisk2")
    assert summary["votesneeded"] <= summary["votes"]
    assert (summary["nodecount"], summary["nodesup"], summary["rolecount"], summary["rolesonline"]) == (2, 2, 1, 1)
    assert client.listFailoverClusters(keyword="ci")["count"] == 1
    assert client.listFailoverClusters(keyword="nothing-like-it") == {}

    nodes = _nodes(seed)
    assert set(nodes) == {N13, N17}
    for name, node in nodes.items():
        assert (node["status"], node["assignedvote"], node["currentvote"]) == ("Up", 1, 1)
        assert node["hostid"] == seed["hosts"][name] and node["hostname"] == name
        assert node["memorytotal"] == 65536 and node["cpunumber"] == 16 and node["clusterid"] == seed["cluster"]
    assert nodes[N17]["memoryused"] - nodes[N13]["memoryused"] == 512  # HAVM1 runs on HYPERVCLLOUD17
    page = client.listFailoverClusterNodes(clusterid=seed["cluster"], page=2, pagesize=1)
    assert page["count"] == 2 and [n["name"] for n in page["failoverclusternode"]] == [N17]
    assert client.listFailoverClusterNodes(clusterid=seed["cluster"], page=3, pagesize=1) == {"count": 2}
    assert [n["name"] for n in client.listFailoverClusterNodes(clusterid=seed["cluster"], name=N13.lower())
            ["failoverclusternode"]] == [N13]

    disks = {d["name"]: d for d in client.listFailoverClusterDisks(clusterid=seed["cluster"])["failoverclusterdisk"]}
    csv, witness = disks["ClusterDisk1"], disks["ClusterDisk2"]
    assert (csv["status"], csv["assignedto"], csv["ownernode"], csv["disknumber"]) == \
        ("Online", "Cluster Shared Volume", N13, 1)
    assert csv["path"] == "C:\\ClusterStorage\\Volume1" and csv["capacity"] == 100 * 1024**3
    assert csv["freespace"] == 80 * 1024**3  # the instance's 20 GB root disk is on it
    assert csv["storagename"] == "PS1" and csv["storageid"] == client.listStoragePools()["storagepool"][0]["id"]
    assert witness["assignedto"] == "Disk Witness in Quorum" and "path" not in witness
    assert "redirectednodes" not in csv
    page = client.listFailoverClusterDisks(clusterid=seed["cluster"], pagesize=1, page=1)
    assert page["count"] == 2 and len(page["failoverclusterdisk"]) == 1

    seed["sim"].fault("storage-path-lost", node=N17, disk="ClusterDisk1")
    [csv] = client.listFailoverClusterDisks(clusterid=seed["cluster"], keyword="volume1")["failoverclusterdisk"]
    assert csv["name"] == "ClusterDisk1" and csv["redirectednodes"] == [N17]
    [redirected] = client.listFailoverClusterEvents(clusterid=seed["cluster"], keyword="redirected",
                                                    level="Error")["failoverclusterevent"]
    assert (redirected["eventid"], redirected["node"]) == (5121, N17) and "role" not in redirected


def test_roles_show_their_instances_and_a_move_is_followed(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    ha = _deploy(seed, "HAVM1", "HA Offering", N17)
    plain = _deploy(seed, "sowmyavm1", "Small Instance", N13)
    SimulatorDriver(seed["sim"].url).create_vm(VmSpec(name="SQL-Cluster-Role", cpus=2, memory_mb=1024,
                                                      priority=3000, node=N13))
    roles = _roles(seed)
    assert set(roles) == {ha["instancename"], plain["instancename"], "SQL-Cluster-Role"}
    role = roles[ha["instancename"]]
    assert (role["status"], role["type"], role["ownernode"], role["vmstate"]) == \
        ("Online", "Virtual Machine", N17, "Running")
    assert (role["priority"], role["priorityvalue"], role["memory"], role["cpunumber"]) == ("Medium", 2000, 512, 1)
    assert (role["virtualmachineid"], role["virtualmachinename"], role["displayname"]) == (ha["id"], "HAVM1", "HAVM1")
    assert (roles[plain["instancename"]]["priority"], roles[plain["instancename"]]["priorityvalue"]) == \
        ("No Auto Start", 0)
    foreign = roles["SQL-Cluster-Role"]
    assert foreign["priority"] == "High" and "virtualmachineid" not in foreign
    assert list(_roles(seed, name=ha["instancename"])) == [ha["instancename"]]
    assert list(_roles(seed, keyword="sowmya")) == [plain["instancename"]]
    assert set(_roles(seed, keyword=N13)) == {plain["instancename"], "SQL-Cluster-Role"}
    assert set(_roles(seed, node=N13.lower())) == {plain["instancename"], "SQL-Cluster-Role"}
    page = client.listFailoverClusterRoles(clusterid=seed["cluster"], page=1, pagesize=2)
    assert page["count"] == 3 and len(page["failoverclusterrole"]) == 2

    moved = client.moveFailoverClusterRole(clusterid=seed["cluster"], name=ha["instancename"], node=N13)
    assert moved["failoverclusterrole"]["ownernode"] == N13
    assert moved["failoverclusterrole"]["vmstate"] == "Running"
    assert _roles(seed)[ha["instancename"]]["ownernode"] == N13
    assert _vm(seed, ha["id"])["hostname"] == N13  # the instance follows at once, not on the next sync
    migrations = client.listEvents(listall=True, type="VM.MIGRATE")["event"]
    assert any(ha["instancename"] in e["description"] and N13 in e["description"] for e in migrations)

    quick = client.moveFailoverClusterRole(clusterid=seed["cluster"], name=plain["instancename"], node=N17,
                                           migrationtype="quick")["failoverclusterrole"]
    assert (quick["ownernode"], quick["vmstate"], quick["status"]) == (N17, "Running", "Online")
    assert _vm(seed, plain["id"])["hostname"] == N17
    foreign = client.moveFailoverClusterRole(clusterid=seed["cluster"], name="SQL-Cluster-Role",
                                             node=N17)["failoverclusterrole"]
    assert foreign["ownernode"] == N17
    assert _nodes(seed)[N17]["memoryused"] == 512 + 1024


def test_suspend_drains_the_node_and_resume_fails_back(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    ha = _deploy(seed, "HAVM1", "HA Offering", N17)
    plain = _deploy(seed, "sowmyavm1", "Small Instance", N17)
    node = client.suspendFailoverClusterNode(clusterid=seed["cluster"], name=N17)["failoverclusternode"]
    assert (node["name"], node["status"], node["drainstatus"]) == (N17, "Paused", "Completed")
    roles = _roles(seed)
    assert roles[ha["instancename"]]["ownernode"] == N13 and roles[plain["instancename"]]["ownernode"] == N13
    wait_until(lambda: _vm(seed, ha["id"])["hostname"] == N13 and _vm(seed, plain["id"])["hostname"] == N13)
    assert _host(seed, N17)["resourcestate"] == "Maintenance"
    assert client.listFailoverClusters()["failovercluster"][0]["nodesup"] == 2  # paused is still a member
    error = _refused(client.suspendFailoverClusterNode, clusterid=seed["cluster"], name=N17)
    assert error["errorcode"] == 431 and "Paused" in error["errortext"]
    error = _refused(client.moveFailoverClusterRole, clusterid=seed["cluster"], name=ha["instancename"], node=N17)
    assert error["errorcode"] == 431 and "Paused" in error["errortext"]

    node = client.resumeFailoverClusterNode(clusterid=seed["cluster"], name=N17, failback=True)["failoverclusternode"]
    assert node["status"] == "Up"
    roles = _roles(seed)
    assert roles[ha["instancename"]]["ownernode"] == N17 and roles[plain["instancename"]]["ownernode"] == N17
    assert _host(seed, N17)["resourcestate"] == "Enabled"
    wait_until(lambda: _vm(seed, ha["id"])["hostname"] == N17)
    error = _refused(client.resumeFailoverClusterNode, clusterid=seed["cluster"], name=N17)
    assert error["errorcode"] == 431 and "not Paused" in error["errortext"]
    descriptions = [(e["type"], e["description"]) for e in client.listEvents(listall=True)["event"]]
    assert any(t == "MAINT.PREPARE" and "drained and paused" in d and N17 in d for t, d in descriptions)
    assert any(t == "MAINT.CANCEL" and "failback" in d and N17 in d for t, d in descriptions)

    # without failback the roles stay where the drain put them
    client.suspendFailoverClusterNode(clusterid=seed["cluster"], name=N17)
    client.resumeFailoverClusterNode(clusterid=seed["cluster"], name=N17)
    assert _roles(seed)[ha["instancename"]]["ownernode"] == N13


def test_events_newest_first_filtered_by_role(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    ha = _deploy(seed, "HAVM1", "HA Offering", N17)
    other = _deploy(seed, "HAVM2", "HA Offering", N17)
    client.moveFailoverClusterRole(clusterid=seed["cluster"], name=ha["instancename"], node=N13)
    everything = client.listFailoverClusterEvents(clusterid=seed["cluster"])
    entries = everything["failoverclusterevent"]
    assert everything["count"] == len(entries)
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert {e["role"] for e in entries if "role" in e} >= {ha["instancename"], other["instancename"]}
    first = entries[0]
    assert set(first) >= {"id", "created", "source", "eventid", "level", "node", "message", "clusterid"}
    assert first["created"].endswith("+0000")

    mine = client.listFailoverClusterEvents(clusterid=seed["cluster"], role=ha["instancename"])["failoverclusterevent"]
    assert mine and all(e["role"] == ha["instancename"] and ha["instancename"] in e["message"] for e in mine)
    assert {e["eventid"] for e in mine} >= {1641, 20413, 20415, 20418, 1201}  # moving, live migration, online
    received = next(e for e in mine if e["eventid"] == 20418)
    assert received["node"] == N13 and received["source"] == "Microsoft-Windows-Hyper-V-VMMS"
    assert received["level"] == "Information"
    by_vm = client.listFailoverClusterEvents(clusterid=seed["cluster"], virtualmachineid=ha["id"])
    assert by_vm["failoverclusterevent"] == mine
    assert len(mine) < len(entries)  # the other instance's entries are not there

    newer = client.listFailoverClusterEvents(clusterid=seed["cluster"], since=ids[3])["failoverclusterevent"]
    assert [e["id"] for e in newer] == ids[:3]
    live = client.listFailoverClusterEvents(clusterid=seed["cluster"], keyword="LIVE MIGRATION")
    assert live["failoverclusterevent"] and all("live migration" in e["message"] for e in live["failoverclusterevent"])
    assert client.listFailoverClusterEvents(clusterid=seed["cluster"], level="critical") == {}
    page = client.listFailoverClusterEvents(clusterid=seed["cluster"], page=2, pagesize=2)
    assert page["count"] == len(entries) and page["failoverclusterevent"] == entries[2:4]

    seed["sim"].fault("node-down", node=N17)
    wait_until(lambda: bool(client.listFailoverClusterEvents(clusterid=seed["cluster"], level="Critical")))
    [removed] = [e for e in client.listFailoverClusterEvents(clusterid=seed["cluster"], level="Critical")
                 ["failoverclusterevent"] if e["eventid"] == 1135]
    assert N17 in removed["message"] and "role" not in removed


def _bare_cluster(seed: dict[str, Any]) -> str:
    """A cluster row with no failover cluster behind it (as a cluster added by other means would be)."""
    from clusterstack.server.db.models.infrastructure import Cluster, Pod

    with seed["server"].state.database.session() as db:
        pod = db.scalar(select(Pod).where(Pod.uuid == seed["pod"]))
        cluster = Cluster(uuid=str(uuid.uuid4()), name="Bare", zone_id=pod.zone_id, pod_id=pod.id)
        db.add(cluster)
        db.commit()
        return cluster.uuid


def test_bad_input_is_refused_and_changes_nothing(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    ha = _deploy(seed, "HAVM1", "HA Offering", N17)
    name = ha["instancename"]
    before = _roles(seed)
    bare = _bare_cluster(seed)
    unknown = str(uuid.uuid4())
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (client.listFailoverClusterNodes, {"clusterid": unknown}, "clusterid"),
        (client.listFailoverClusterRoles, {"clusterid": bare}, "not a Hyper-V failover cluster"),
        (client.listFailoverClusters, {"clusterid": bare}, "clusterid"),
        (client.listFailoverClusterEvents, {"clusterid": seed["cluster"], "level": "Loud"}, "level"),
        (client.listFailoverClusterEvents, {"clusterid": seed["cluster"], "virtualmachineid": unknown},
         "virtualmachineid"),
        (client.moveFailoverClusterRole, {"clusterid": unknown, "name": name, "node": N13}, "clusterid"),
        (client.moveFailoverClusterRole, {"clusterid": bare, "name": name, "node": N13}, "clusterid"),
        (client.moveFailoverClusterRole, {"clusterid": seed["cluster"], "name": "i-9-99-VM", "node": N13},
         "name"),
        (client.moveFailoverClusterRole, {"clusterid": seed["cluster"], "name": name, "node": "HYPERVCLLOUD99"},
         "node"),
        (client.moveFailoverClusterRole, {"clusterid": seed["cluster"], "name": name, "node": N13,
                                          "migrationtype": "teleport"}, "migrationtype"),
        (client.moveFailoverClusterRole, {"clusterid": seed["cluster"], "name": name, "node": N17}, "already on"),
        (client.suspendFailoverClusterNode, {"clusterid": seed["cluster"], "name": "HYPERVCLLOUD99"}, "name"),
        (client.resumeFailoverClusterNode, {"clusterid": seed["cluster"], "name": N13}, "not Paused"),
        (client.resumeFailoverClusterNode, {"clusterid": seed["cluster"], "name": N13, "failback": "maybe"},
         "failback"),
    ]
    for call, params, said in cases:
        error = _refused(call, **params)
        assert error["errorcode"] == 431, (params, error)
        assert said in error["errortext"], (params, error)
    assert _roles(seed) == before
    assert {n["status"] for n in _nodes(seed).values()} == {"Up"}

    seed["sim"].fault("node-down", node=N13)
    wait_until(lambda: _nodes(seed)[N13]["status"] == "Down")
    error = _refused(client.moveFailoverClusterRole, clusterid=seed["cluster"], name=name, node=N13)
    assert error["errorcode"] == 431 and "Down" in error["errortext"] and "node" in error["errortext"]
    error = _refused(client.suspendFailoverClusterNode, clusterid=seed["cluster"], name=N13)
    assert error["errorcode"] == 431 and "Down" in error["errortext"]
    assert _roles(seed)[name]["ownernode"] == N17


def test_without_quorum_or_cluster_reads_answer_and_actions_are_refused(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    ha = _deploy(seed, "HAVM1", "HA Offering", N17)
    seed["sim"].fault("disk-fail", disk="ClusterDisk2")
    seed["sim"].fault("node-down", node=N17)
    seed["sim"].fault("node-down", node=N13)
    wait_until(lambda: seed["sim"].report()["quorum"]["state"] == "Lost")
    seed["sim"].fault("node-up", node=N13)
    summary = client.listFailoverClusters()["failovercluster"][0]
    assert summary["state"] == "Reachable" and summary["quorumstate"] == "Lost"
    assert _nodes(seed)[N17]["status"] == "Down"
    error = _refused(client.moveFailoverClusterRole, clusterid=seed["cluster"], name=ha["instancename"], node=N13)
    assert error["errorcode"] == 534 and "quorum" in error["errortext"]
    error = _refused(client.suspendFailoverClusterNode, clusterid=seed["cluster"], name=N13)
    assert error["errorcode"] == 534 and "quorum" in error["errortext"]

    seed["sim"].stop()
    summary = client.listFailoverClusters()["failovercluster"][0]
    assert (summary["state"], summary["name"], summary["clustername"]) == ("Unreachable", "CI1", "CI1")
    assert "quorumstate" not in summary and "does not answer" in summary["information"]
    error = _refused(client.listFailoverClusterNodes, clusterid=seed["cluster"])
    assert error["errorcode"] == 534 and "CI1" in error["errortext"]


def test_only_admins_see_the_commands(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    account = client.createAccount(accounttype=0, account="clerk", username="clerk", password="S3cret-pass!",
                                   email="clerk@example.org", firstname="c", lastname="k")["account"]
    keys = client.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    user = seed["server"].cs(keys["apikey"], keys["secretkey"])
    names = {a["name"] for a in user.listApis()["api"]}
    assert "listVirtualMachines" in names and not any("FailoverCluster" in n for n in names)
    for call, params in ((user.listFailoverClusters, {}),
                         (user.listFailoverClusterRoles, {"clusterid": seed["cluster"]}),
                         (user.suspendFailoverClusterNode, {"clusterid": seed["cluster"], "name": N17})):
        assert _refused(call, **params)["errorcode"] == 432
    assert _nodes(seed)[N17]["status"] == "Up"
    admin_names = {a["name"] for a in client.listApis()["api"]}
    assert {"listFailoverClusters", "listFailoverClusterNodes", "listFailoverClusterRoles", "listFailoverClusterDisks",
            "listFailoverClusterEvents", "moveFailoverClusterRole", "suspendFailoverClusterNode",
            "resumeFailoverClusterNode"} <= admin_names

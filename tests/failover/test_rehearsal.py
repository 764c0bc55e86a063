"""The rehearsal of a failure: each reason a role stays down, the order and time of restarts, quorum, memory left,
and the cluster rehearsed on is never changed."""

from __future__ import annotations

import pytest

from clusterstack.failover import NotFound, RoleSpec
from clusterstack.failover.rehearsal import rehearse
from clusterstack.failover.rehearsal_state import ClusterState, NodeState, RoleState, cluster_from_state

from .helpers import make_cluster


def fates(answer):  # type: ignore[no-untyped-def]
    return {r.name: r for r in answer.roles}


def test_high_first_then_medium_and_low_waits_for_memory() -> None:
    cluster = make_cluster(2, memory_mb=4096, roles=[
        RoleSpec("vm-high", memory_mb=2048, owner="N2", priority=3000),
        RoleSpec("vm-medium", memory_mb=1024, owner="N2", priority=2000),
        RoleSpec("vm-low", memory_mb=1024, owner="N2", priority=1000),
        RoleSpec("vm-here", memory_mb=1024, owner="N1", priority=2000),
    ])
    answer = rehearse(cluster, ["n2"])
    roles = fates(answer)
    assert [r.name for r in answer.restart_order()] == ["vm-high", "vm-medium"]
    assert (roles["vm-high"].owner, roles["vm-high"].online_after_seconds) == ("N1", 11.0)
    assert (roles["vm-low"].state, roles["vm-low"].reason) == ("Failed", "NotEnoughMemory")
    assert roles["vm-here"].affected is False and roles["vm-here"].owner == "N1"
    assert [r.name for r in answer.stranded(ha_only=True)] == ["vm-low"]
    [n1] = answer.survivors()
    assert (n1.name, n1.memory_used_mb, n1.memory_free_mb) == ("N1", 4096, 0)
    assert answer.quorum_after.has_quorum


def test_no_auto_start_no_possible_owner_and_threshold() -> None:
    cluster = make_cluster(3, roles=[
        RoleSpec("plain", owner="N3", priority=0),
        RoleSpec("pinned", owner="N3", possible_owners=["N3"]),
        RoleSpec("once", owner="N3", failover_threshold=0),
        RoleSpec("off", owner="N3", state="Off"),
    ])
    roles = fates(rehearse(cluster, ["N3"]))
    assert (roles["plain"].reason, roles["plain"].stays_down) == ("NoAutoStart", True)
    assert roles["plain"].owner in ("N1", "N2") and roles["plain"].vm_state == "Off"
    assert roles["pinned"].reason == "NoPossibleOwner"
    assert roles["once"].reason == "FailoverThreshold"
    assert (roles["off"].reason, roles["off"].stays_down) == ("WasOff", False)


def test_quorum_lost_keeps_everything_down() -> None:
    cluster = make_cluster(3, dynamic=False, roles=[RoleSpec("a", owner="N1"), RoleSpec("b", owner="N2")])
    answer = rehearse(cluster, ["N2", "N3"])
    assert not answer.quorum_after.has_quorum and answer.quorum_before.has_quorum
    assert {r.reason for r in answer.roles} == {"QuorumLost"}
    assert cluster.cluster_up and cluster.roles["a"].vm_state == "Running"  # the cluster itself is untouched


def test_disk_failure_and_anti_affinity_clash() -> None:
    cluster = make_cluster(2, roles=[
        RoleSpec("web-1", owner="N1", anti_affinity=["web"]), RoleSpec("web-2", owner="N2", anti_affinity=["web"]),
        RoleSpec("db", owner="N1", disk="ClusterDisk1"),
    ])
    roles = fates(rehearse(cluster, ["N2"], ["ClusterDisk1"]))
    assert (roles["web-2"].owner, roles["web-2"].anti_affinity_clash) == ("N1", True)
    assert roles["db"].reason == "DiskFailed"


def test_unknown_names_are_refused() -> None:
    cluster = make_cluster(2)
    with pytest.raises(NotFound):
        rehearse(cluster, ["N9"])
    with pytest.raises(NotFound):
        rehearse(cluster, ["N1"], ["NoSuchDisk"])


def test_a_reported_state_is_rehearsed_as_the_cluster_would() -> None:
    """Host memory beyond the roles (Hyper-V's own, VMs outside the cluster) counts; a Paused node takes nothing."""
    state = ClusterState("R", profile="2012R2", nodes=(
        NodeState("A", "Up", 8192, 7168), NodeState("B", "Up", 8192, 1024), NodeState("C", "Paused", 8192, 0)),
        roles=(RoleState("vm-1", "Online", "Running", "B", 2000, 1024),
               RoleState("vm-2", "Online", "Running", "A", 2000, 1024)))
    roles = fates(rehearse(cluster_from_state(state), ["B"]))
    assert (roles["vm-1"].owner, roles["vm-1"].reason, roles["vm-1"].online_after_seconds) == ("A", None, 6.0)
    state2 = ClusterState("R", nodes=(NodeState("A", "Up", 8192, 7680), NodeState("B", "Up", 8192, 1024),
                                      NodeState("C", "Up", 8192, 8000)),
                          roles=(RoleState("vm-1", "Online", "Running", "B", 2000, 1024),))
    assert fates(rehearse(cluster_from_state(state2), ["B"]))["vm-1"].reason == "NotEnoughMemory"

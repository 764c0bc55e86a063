"""WSFC rules, one test each, on the pure engine with virtual time."""

from __future__ import annotations

import pytest

from clusterstack.failover import ClusterError, InvalidState, NotEnoughMemory, NotFound, QuorumLost, RoleSpec
from clusterstack.failover import events as ev

from .helpers import ids, make_cluster, run_until


def vm(name: str, owner: str, priority: int = 2000, memory: int = 1024, **kw: object) -> RoleSpec:
    return RoleSpec(name, memory_mb=memory, cpus=1, disk="ClusterDisk1", owner=owner, priority=priority, **kw)


def test_crash_is_seen_after_the_heartbeat_threshold_and_roles_restart_elsewhere() -> None:
    c = make_cluster(3, roles=[vm("a", "N2"), vm("b", "N2", priority=0)])
    c.apply(ev.NodeCrash("N2"), 100)
    assert c.nodes["N2"].state == "Up"  # not noticed yet
    log = run_until(c, 109.9)
    assert 1135 not in ids(log)
    log = run_until(c, 200)
    assert ids(log).count(1135) == 1 and log[0].time == 110.0  # 1 s x 10 on 2016
    assert c.nodes["N2"].state == "Down"
    assert c.roles["a"].owner in ("N1", "N3") and c.roles["a"].vm_state == "Running"
    assert c.roles["b"].owner in ("N1", "N3") and c.roles["b"].vm_state == "Off"  # No Auto Start moves, stays off
    c.check_invariants()


def test_2012r2_detects_faster() -> None:
    c = make_cluster(3, profile="2012R2", roles=[vm("a", "N2")])
    c.apply(ev.NodeCrash("N2"), 0)
    log = run_until(c, 100)
    assert next(e.time for e in log if e.id == 1135) == 5.0


def test_dynamic_quorum_survives_sequential_failures_to_the_last_node() -> None:
    c = make_cluster(5)
    for i, node in enumerate(["N5", "N4", "N3", "N2"]):
        c.apply(ev.NodeCrash(node), 100 * (i + 1))
        run_until(c, 100 * (i + 1) + 50)
        assert c.cluster_up, f"quorum lost after {node}"
    assert c.quorum_state()["state"] == "Up"
    assert [n.current_vote for n in c.nodes.values()] == [1, 0, 0, 0, 0]


def test_losing_a_majority_at_once_stops_the_cluster() -> None:
    c = make_cluster(5, roles=[vm("a", "N1")])
    for node in ("N3", "N4", "N5"):
        c.apply(ev.NodeCrash(node), 100)
    log = run_until(c, 200)
    assert not c.cluster_up and 1177 in ids(log)
    assert c.roles["a"].vm_state == "Off" and c.roles["a"].state == "Offline"
    with pytest.raises(QuorumLost):
        c.apply(ev.StartRole("a"), 201)
    c.apply(ev.NodeStart("N3"), 300)
    log = run_until(c, 400)
    assert c.cluster_up and 1000 in ids(log)
    assert c.roles["a"].vm_state == "Running"
    c.check_invariants()


def test_static_quorum_is_lost_when_half_the_votes_are_gone() -> None:
    c = make_cluster(4, dynamic=False)
    c.apply(ev.NodeCrash("N4"), 10)
    run_until(c, 50)
    assert c.cluster_up
    c.apply(ev.NodeCrash("N3"), 60)
    run_until(c, 100)
    assert not c.cluster_up  # 2 of 4 static votes is not a majority


def test_dynamic_witness_votes_only_with_an_even_node_count() -> None:
    c = make_cluster(2, witness="disk")
    assert c.witness_vote == 1
    c.apply(ev.NodeCrash("N2"), 10)
    run_until(c, 50)
    assert c.cluster_up and c.witness_vote == 0


def test_without_witness_one_node_of_an_even_count_loses_its_vote() -> None:
    c = make_cluster(2, lower_quorum_priority_node="N1")
    assert [n.current_vote for n in c.nodes.values()] == [0, 1]


def test_partition_tie_goes_to_the_side_holding_the_witness() -> None:
    c = make_cluster(4, witness="disk", roles=[vm("a", "N4"), vm("b", "N1")])
    c.apply(ev.Partition(("N3", "N4")), 10)
    run_until(c, 30)
    assert c.cluster_up
    assert c.nodes["N1"].member and c.nodes["N2"].member  # N1 owns the witness disk
    # Isolated is for nodes that host VM roles; N3 hosts none
    assert c.nodes["N3"].state == "Down"
    assert c.nodes["N4"].state == "Isolated" and c.roles["a"].vm_state == "Unmonitored"
    run_until(c, 30 + 240)
    assert c.nodes["N4"].state == "Down" and c.roles["a"].owner in ("N1", "N2")
    c.check_invariants()


def test_heal_within_the_resiliency_period_keeps_vms_where_they_are() -> None:
    c = make_cluster(3, roles=[vm("a", "N3")])
    c.apply(ev.Partition(("N3",)), 10)
    run_until(c, 100)
    assert c.nodes["N3"].state == "Isolated"
    c.apply(ev.Heal(), 100)
    run_until(c, 400)
    assert c.nodes["N3"].state == "Up" and c.roles["a"].owner == "N3" and c.roles["a"].vm_state == "Running"


def test_2012r2_fails_over_a_cut_off_node_at_once() -> None:
    c = make_cluster(3, profile="2012R2", roles=[vm("a", "N3")])
    c.apply(ev.Partition(("N3",)), 10)
    run_until(c, 20)
    assert c.nodes["N3"].state == "Down" and c.roles["a"].owner != "N3"


def test_three_leaves_in_an_hour_quarantine_the_node() -> None:
    c = make_cluster(3)
    for t in (0, 600, 1200):
        c.apply(ev.Partition(("N3",)), t)
        run_until(c, t + 60)
        c.apply(ev.Heal(), t + 60)
        run_until(c, t + 120)
    assert c.nodes["N3"].state == "Quarantined"
    assert 1683 in ids(run_until(c, 1300)) or c.nodes["N3"].quarantined_until == pytest.approx(1210 + 7200)


def test_priority_order_under_memory_pressure() -> None:
    roles = [vm("low", "N2", 1000, 2500), vm("high", "N2", 3000, 2500), vm("med", "N2", 2000, 2500),
             vm("base", "N1", 2000, 3000)]
    c = make_cluster(2, witness="disk", memory_mb=8192, roles=roles)
    c.apply(ev.NodeCrash("N2"), 10)
    log = run_until(c, 100)
    assert c.roles["high"].vm_state == "Running" and c.roles["med"].vm_state == "Running"
    assert c.roles["low"].state == "Failed" and {1069, 1205} <= set(ids(log))
    c.apply(ev.StopRole("med"), 200)  # capacity frees: the failed role is retried
    run_until(c, 210)
    assert c.roles["low"].vm_state == "Running"
    c.check_invariants()


def test_preferred_owner_and_anti_affinity() -> None:
    roles = [vm("x", "N1", preferred_owners=["N3"]), vm("db1", "N2", anti_affinity=["sql"]),
             vm("db2", "N1", anti_affinity=["sql"])]
    c = make_cluster(3, roles=roles)
    c.apply(ev.NodeCrash("N1"), 10)
    run_until(c, 60)
    assert c.roles["x"].owner == "N3"
    assert c.roles["db2"].owner == "N3"  # not beside db1


def test_failover_threshold_leaves_the_role_failed() -> None:
    c = make_cluster(4, witness="disk", roles=[vm("a", "N1", failover_threshold=1)])
    c.apply(ev.NodeCrash("N1"), 10)
    run_until(c, 60)
    first = c.roles["a"].owner
    c.apply(ev.NodeCrash(first), 100)
    log = run_until(c, 200)
    assert c.roles["a"].state == "Failed" and 1254 in ids(log)


def test_live_migration_keeps_the_vm_running_and_logs_20418() -> None:
    c = make_cluster(2, witness="disk", roles=[vm("i-4-5-VM", "N2")])
    c.apply(ev.MoveRole("i-4-5-VM", "N1", "live"), 10)
    assert c.roles["i-4-5-VM"].vm_state == "Migrating"
    c.check_invariants()
    log = run_until(c, 60)
    received = [e for e in log if e.id == 20418]
    assert received and received[0].node == "N1" and "received from IP address" in received[0].message
    assert c.roles["i-4-5-VM"].owner == "N1" and c.roles["i-4-5-VM"].vm_state == "Running"


def test_drain_moves_roles_and_pauses_then_resume_with_failback() -> None:
    c = make_cluster(3, roles=[vm("h", "N1", 3000), vm("l", "N1", 1000), vm("n", "N1", 0, state="Off")])
    c.apply(ev.Drain("N1"), 10)
    run_until(c, 60)
    assert c.nodes["N1"].state == "Paused" and c.nodes["N1"].drain_status == "Completed"
    assert all(r.owner != "N1" for r in c.roles.values())
    c.apply(ev.Resume("N1", failback=True), 100)
    run_until(c, 160)
    assert c.roles["h"].owner == "N1"


def test_csv_coordinator_moves_and_redirected_access() -> None:
    c = make_cluster(3)
    assert c.disks["ClusterDisk1"].owner == "N1"
    c.apply(ev.StoragePathLost("N2", "ClusterDisk1"), 5)
    assert "N2" in c.disks["ClusterDisk1"].redirected
    c.apply(ev.NodeCrash("N1"), 10)
    run_until(c, 60)
    assert c.disks["ClusterDisk1"].owner == "N3"  # a node with a direct path
    c.apply(ev.StoragePathRestored("N2", "ClusterDisk1"), 70)
    assert not c.disks["ClusterDisk1"].redirected


def test_a_failed_disk_fails_its_roles() -> None:
    c = make_cluster(2, witness="disk", roles=[vm("a", "N1")])
    log = c.apply(ev.DiskFail("ClusterDisk1"), 10)
    assert c.roles["a"].state == "Failed" and {5120, 1069, 1205} <= set(ids(log))
    c.apply(ev.DiskRepair("ClusterDisk1"), 20)
    run_until(c, 30)
    assert c.roles["a"].vm_state == "Running"


def test_refused_operations_change_nothing() -> None:
    c = make_cluster(2, witness="disk", memory_mb=4096, roles=[vm("a", "N1", memory=3000), vm("b", "N2", memory=3000)])
    before = c.snapshot()
    with pytest.raises(NotEnoughMemory):
        c.apply(ev.MoveRole("a", "N2"), 1)
    with pytest.raises(NotFound):
        c.apply(ev.NodeCrash("N9"), 1)
    with pytest.raises(InvalidState):
        c.apply(ev.RemoveRole("a"), 1)
    with pytest.raises(ClusterError):
        c.apply(ev.AddRole(RoleSpec("big", memory_mb=10**6)), 1)
    assert c.snapshot() == before


def test_same_input_same_output() -> None:
    def story() -> list[dict[str, object]]:
        c = make_cluster(4, witness="disk", roles=[vm(f"r{i}", f"N{i % 4 + 1}", (3000, 2000, 1000, 0)[i % 4])
                                                   for i in range(20)])
        log = c.apply(ev.NodeCrash("N2"), 10) + run_until(c, 100)
        log += c.apply(ev.Partition(("N4",)), 120) + run_until(c, 600)
        return [e.to_dict() for e in log] + [c.snapshot()]

    assert story() == story()

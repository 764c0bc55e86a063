"""A failover cluster as someone outside it sees it (a report), made into an engine Cluster to rehearse on.

The management server and `clusterstack sim rehearse` know a cluster only from what it reports: nodes with their
state, votes and memory; roles with owner, state, priority, memory, preferred and possible owners, anti-affinity
class names and failover threshold; disks; the quorum. `cluster_from_state` builds the engine's Cluster from that,
so a failure is rehearsed by the very code the simulator runs. What a report cannot carry (timers in flight,
migrations half done) is absent: the built cluster is the reported one, at rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from clusterstack.failover.cluster import Cluster
from clusterstack.failover.model import (
    GROUP_FAILED,
    GROUP_OFFLINE,
    GROUP_ONLINE,
    NODE_DOWN,
    NODE_PAUSED,
    NODE_UP,
    VM_OFF,
    VM_RUNNING,
    VM_SAVED,
    VM_UNMONITORED,
    Role,
)
from clusterstack.failover.profiles import PROFILES
from clusterstack.failover.spec import ClusterSpec, DiskSpec, NodeSpec

GB = 1024**3
# a role's VM in one of these holds memory on its owner (a report's words: Starting, Stopping, Paused too)
RUNNING_VM_STATES = frozenset({"Running", "Starting", "Migrating", "Unmonitored", "Stopping", "Paused", "Pending"})
WITNESS_OF_QUORUM_MODEL = {"NodeMajority": "none", "NodeAndDiskMajority": "disk",
                           "NodeAndFileShareMajority": "file-share", "NodeAndCloudMajority": "cloud",
                           "CloudWitness": "cloud"}


@dataclass(frozen=True)
class NodeState:
    name: str
    state: str  # Up, Down, Paused, Joining, Isolated, Quarantined
    memory_mb: int
    memory_used_mb: int = 0
    assigned_vote: int = 1
    current_vote: int = 1
    cpus: int = 1


@dataclass(frozen=True)
class RoleState:
    name: str
    state: str  # Online, Offline, Failed, Pending, PartialOnline
    vm_state: str  # Running, Off, Saved, Starting, Migrating, Unmonitored, ...
    owner: str | None
    priority: int
    memory_mb: int
    cpus: int = 1
    disk: str | None = None
    preferred_owners: tuple[str, ...] = ()
    possible_owners: tuple[str, ...] = ()
    anti_affinity: tuple[str, ...] = ()
    failover_threshold: int | None = None  # None: the cluster's default (nodes - 1)
    failover_period_hours: float = 6.0
    recent_failovers: int = 0  # failovers the cluster counted within the period, when it tells


@dataclass(frozen=True)
class DiskState:
    name: str
    state: str = "Online"
    owner: str | None = None
    csv_path: str | None = None
    witness: bool = False
    capacity_bytes: int = 0


@dataclass(frozen=True)
class ClusterState:
    name: str
    nodes: tuple[NodeState, ...]
    roles: tuple[RoleState, ...] = ()
    disks: tuple[DiskState, ...] = ()
    profile: str = "2016"
    quorum_model: str = "NodeMajority"
    quorum_up: bool = True
    votes: int | None = None  # the quorum's votes as reported (None: derived from the nodes)
    dynamic_quorum: bool = True


def _known(name: str | None, nodes: dict[str, str]) -> str | None:
    return nodes.get(name.lower()) if name else None


def cluster_from_state(state: ClusterState) -> Cluster:
    """The engine's Cluster holding `state`: nodes, votes and quorum, disks, and every role where it is."""
    if not state.nodes:
        raise ValueError(f"cluster {state.name} reports no nodes")
    profile = state.profile if state.profile in PROFILES else "2016"
    witness = WITNESS_OF_QUORUM_MODEL.get(state.quorum_model, "none")
    witness_disk = next((d.name for d in state.disks if d.witness), None)
    disks = list(state.disks)
    if witness == "disk" and witness_disk is None:
        witness_disk = "Witness"  # a disk witness the report did not list: it counts as Online
        disks.append(DiskState(witness_disk, witness=True, capacity_bytes=GB))
    node_names = {n.name.lower(): n.name for n in state.nodes}
    spec = ClusterSpec(
        name=state.name, profile=profile, witness=witness, witness_disk=witness_disk,
        dynamic_quorum=state.dynamic_quorum,
        nodes=[NodeSpec(n.name, memory_mb=max(1, n.memory_mb), cpus=max(1, n.cpus),
                        vote=1 if n.assigned_vote else 0) for n in state.nodes],
        disks=[DiskSpec(d.name, capacity_gb=max(d.capacity_bytes, 1) / GB, csv=d.csv_path,
                        owner=_known(d.owner, node_names)) for d in disks],
    )
    cluster = Cluster.from_spec(spec, now=0.0)
    for reported in state.nodes:
        node = cluster.nodes[reported.name]
        if reported.state == NODE_PAUSED:
            node.paused, node.state = True, NODE_PAUSED
        elif reported.state != NODE_UP:
            node.member = False
            node.alive = reported.state in ("Isolated", "Joining")
            node.state = reported.state if reported.state in ("Isolated", "Joining", "Quarantined") else NODE_DOWN
    for disk in disks:
        if disk.state != "Online":
            cluster.disks[disk.name].state = "Failed" if disk.state == "Failed" else disk.state
    largest = max(n.memory_mb for n in cluster.nodes.values())
    for reported_role in state.roles:
        _place(cluster, reported_role, node_names, largest)
    for reported in state.nodes:  # what Hyper-V says is in use (host reserve, VMs outside the cluster) counts too
        node = cluster.nodes[reported.name]
        node.memory_used_mb = max(node.memory_used_mb, reported.memory_used_mb)
    members = [cluster.nodes[n.name] for n in state.nodes if cluster.nodes[n.name].member]
    for reported in state.nodes:
        cluster.nodes[reported.name].current_vote = reported.current_vote if cluster.dynamic_quorum \
            else cluster.nodes[reported.name].assigned_vote
    if state.votes is not None and state.quorum_up:
        member_votes = sum(n.current_vote for n in members)
        cluster.witness_vote = max(0, min(1, state.votes - member_votes)) if witness != "none" else 0
    if not state.quorum_up:
        cluster.cluster_up = False
        cluster.frozen_votes = {n.name: n.current_vote for n in cluster.nodes.values()}
        cluster.frozen_witness_vote = cluster.witness_vote
        for node in cluster.nodes.values():
            node.member = False
    return cluster


def _place(cluster: Cluster, reported: RoleState, node_names: dict[str, str], largest: int) -> None:
    role = Role(reported.name, max(1, min(reported.memory_mb, largest)), max(1, reported.cpus),
                reported.disk if reported.disk in cluster.disks else None, None, reported.priority,
                preferred_owners=[n for n in (_known(x, node_names) for x in reported.preferred_owners) if n],
                possible_owners=[n for n in (_known(x, node_names) for x in reported.possible_owners) if n],
                anti_affinity=list(reported.anti_affinity), failover_threshold=reported.failover_threshold,
                failover_period=reported.failover_period_hours * 3600)
    role.failovers = [cluster.now] * max(0, reported.recent_failovers)
    cluster.roles[role.name] = role
    owner = _known(reported.owner, node_names)
    cluster._assign_owner(role, owner)
    node = cluster.nodes[owner] if owner else None
    running = reported.vm_state in RUNNING_VM_STATES and node is not None and (node.alive or node.member)
    if running:
        isolated = node is not None and not node.member
        cluster._set_vm(role, VM_UNMONITORED if isolated else VM_RUNNING)
        role.state = GROUP_ONLINE
    else:
        role.vm_state = VM_SAVED if reported.vm_state == "Saved" else VM_OFF
        role.state = GROUP_FAILED if reported.state == "Failed" else GROUP_OFFLINE
        # a Failed role wants to run (the cluster retries it); so does one whose node died under it
        role.wanted_running = reported.state == "Failed" or (
            reported.vm_state in RUNNING_VM_STATES and reported.priority > 0)

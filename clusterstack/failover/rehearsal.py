"""Rehearse a failure: what the cluster will do when nodes (and disks) fail, answered before it happens.

    answer = rehearse(cluster, ["HYPERVCLLOUD17"])       # a Cluster (live, or built by cluster_from_state)
    answer.quorum_after.has_quorum, answer.stranded()     # who stays down, and why
    answer.to_dict()                                      # the JSON the API and the CLI show

The failure runs on a scratch copy through the engine's own events and timers (NodeCrash, DiskFail, then every
timer until the failover has settled), so the answer is what the simulator would do, by the same code. The
cluster given is never changed. "Settled" means: every timer due before the first hourly retry of a Failed role
(Profile.failed_retry after the failure) has fired, so detection, resiliency, restarts in priority order and
deferred starts are all in the answer; the hourly retries are not.

Why a role stays down is read from the engine's outcome: the cluster lost quorum; No Auto Start (priority 0); the
failover threshold was exceeded; its cluster disk failed; no surviving node is a possible owner; else no surviving
node had the memory. Anti-affinity (AntiAffinityClassNames) is a preference in WSFC, as in the engine: a role is
never kept down for it, but a role that had to restart beside a role of its class is marked `anti_affinity_clash`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from clusterstack.failover import events as ev
from clusterstack.failover.cluster import Cluster
from clusterstack.failover.model import (
    GROUP_FAILED,
    GROUP_PENDING,
    VM_CONSUMING,
    Disk,
    Node,
    Role,
)

ROLE_ONLINE_EVENT = 1201  # "The Cluster service successfully brought the clustered role '<role>' online."

# why a role stays down (the API's words)
QUORUM_LOST = "QuorumLost"
NO_AUTO_START = "NoAutoStart"
FAILOVER_THRESHOLD = "FailoverThreshold"
DISK_FAILED = "DiskFailed"
NO_POSSIBLE_OWNER = "NoPossibleOwner"
NOT_ENOUGH_MEMORY = "NotEnoughMemory"
WAS_OFF = "WasOff"
REASONS = (QUORUM_LOST, NO_AUTO_START, FAILOVER_THRESHOLD, DISK_FAILED, NO_POSSIBLE_OWNER, NOT_ENOUGH_MEMORY, WAS_OFF)


@dataclass(frozen=True)
class QuorumView:
    state: str  # Up, Lost
    votes: int
    votes_needed: int

    @property
    def has_quorum(self) -> bool:
        return self.state == "Up"


@dataclass(frozen=True)
class NodeAfter:
    name: str
    state: str
    failed: bool  # one of the nodes the rehearsal failed
    memory_mb: int
    memory_used_mb: int
    roles: int  # roles it owns afterwards
    running: int  # of which running

    @property
    def memory_free_mb(self) -> int:
        return max(0, self.memory_mb - self.memory_used_mb)


@dataclass(frozen=True)
class RoleFate:
    name: str
    priority: int
    memory_mb: int
    owner_before: str | None
    state_before: str
    running_before: bool
    owner: str | None  # owner node afterwards
    state: str  # group state afterwards: Online, Offline, Failed
    vm_state: str
    online_after_seconds: float | None  # when it is Online again, seconds after the failure (restarted roles)
    restart_order: int | None  # 1 = the first role brought online
    reason: str | None  # why it stays down (REASONS); None when it runs
    detail: str  # the engine's words (the role's information), or what happened
    anti_affinity_clash: bool
    affected: bool  # the failure changed its owner or its state

    @property
    def running(self) -> bool:
        return self.vm_state in VM_CONSUMING

    @property
    def stays_down(self) -> bool:
        """It ran (or wanted to) before the failure and does not run after it."""
        return self.reason is not None and self.reason != WAS_OFF


@dataclass(frozen=True)
class Rehearsal:
    cluster: str
    profile: str
    failed_nodes: tuple[str, ...]
    failed_disks: tuple[str, ...]
    quorum_before: QuorumView
    quorum_after: QuorumView
    nodes: tuple[NodeAfter, ...]
    roles: tuple[RoleFate, ...]  # every role by name (every_role), or those the failure could touch
    settled_after_seconds: float
    role_count: int = 0  # roles of the cluster, listed or not

    def stranded(self, *, ha_only: bool = False) -> list[RoleFate]:
        """Roles that ran (or wanted to) and stay down; with ha_only, not counting No Auto Start roles."""
        return [r for r in self.roles if r.stays_down and not (ha_only and r.priority == 0)]

    def restart_order(self) -> list[RoleFate]:
        return sorted((r for r in self.roles if r.restart_order is not None), key=lambda r: r.restart_order or 0)

    def survivors(self) -> list[NodeAfter]:
        """The nodes that can take roles afterwards (Up: neither failed, down nor paused)."""
        return [n for n in self.nodes if not n.failed and n.state == "Up"]

    @property
    def unaffected_count(self) -> int:
        return max(self.role_count, len(self.roles)) - sum(1 for r in self.roles if r.affected)

    def to_dict(self, *, affected_only: bool = False) -> dict[str, Any]:
        roles = [r for r in self.roles if r.affected] if affected_only else list(self.roles)
        return {
            "cluster": self.cluster,
            "profile": self.profile,
            "failed_nodes": list(self.failed_nodes),
            "failed_disks": list(self.failed_disks),
            "quorum_before": _quorum_dict(self.quorum_before),
            "quorum_after": _quorum_dict(self.quorum_after),
            "settled_after_seconds": self.settled_after_seconds,
            "nodes": [{"name": n.name, "state": n.state, "failed": n.failed, "memory_mb": n.memory_mb,
                       "memory_used_mb": n.memory_used_mb, "memory_free_mb": n.memory_free_mb, "roles": n.roles,
                       "running": n.running} for n in self.nodes],
            "restart_order": [r.name for r in self.restart_order()],
            "stranded": [r.name for r in self.stranded()],
            "roles": [_role_dict(r) for r in roles],
            "unaffected_roles": self.unaffected_count,
        }


def _quorum_dict(q: QuorumView) -> dict[str, Any]:
    return {"state": q.state, "has_quorum": q.has_quorum, "votes": q.votes, "votes_needed": q.votes_needed}


def _role_dict(r: RoleFate) -> dict[str, Any]:
    return {"name": r.name, "priority": r.priority, "memory_mb": r.memory_mb, "owner_before": r.owner_before,
            "state_before": r.state_before, "owner": r.owner, "state": r.state, "vm_state": r.vm_state,
            "online_after_seconds": r.online_after_seconds, "restart_order": r.restart_order, "reason": r.reason,
            "detail": r.detail, "anti_affinity_clash": r.anti_affinity_clash, "affected": r.affected}


# ---- the scratch copy ----------------------------------------------------------------------------------------

class _Scratch(Cluster):
    """A copy of a cluster sharing the roles a node failure cannot touch with the original (a 64-node cluster's
    8,000 roles are not copied to fail one node). The one engine step that changes every role, losing quorum,
    copies the shared roles first; every other step only changes roles the copy already owns (see _risky)."""

    _shared: set[str]

    def _own_every_role(self) -> None:
        for name in self._shared:
            self.roles[name] = _copy_role(self.roles[name])
        self._shared = set()

    def _lose_quorum(self) -> None:
        self._own_every_role()
        super()._lose_quorum()

    def _form(self, component: list[str]) -> None:
        self._own_every_role()
        super()._form(component)


def _copy_role(role: Role) -> Role:
    twin = copy.copy(role)
    twin.failovers = list(role.failovers)
    twin.vhds = dict(role.vhds)
    return twin


def _copy_node(node: Node) -> Node:
    twin = copy.copy(node)
    twin.roles = set(node.roles)
    twin.leaves = list(node.leaves)
    return twin


def _copy_disk(disk: Disk) -> Disk:
    twin = copy.copy(disk)
    twin.redirected = set(disk.redirected)
    twin.vhds = dict(disk.vhds)
    return twin


def _risky(cluster: Cluster, nodes: set[str], disks: set[str]) -> set[str]:
    """Roles the failure of `nodes` and `disks` can change while quorum holds: those of the failed nodes, on the
    failed disks, moving, waiting (Failed, Pending, wanting to run), or named by a timer in flight."""
    out: set[str] = set()
    for name in nodes:
        out.update(cluster.nodes[name].roles)
    out.update(cluster._migrating)
    for role in cluster.roles.values():
        if (role.state in (GROUP_FAILED, GROUP_PENDING) or role.wanted_running or role.migration_target is not None
                or (role.disk is not None and role.disk in disks)):
            out.add(role.name)
    for _, _, _, args in cluster._timers:
        for arg in args:
            for name in (arg if isinstance(arg, tuple) else (arg,)):
                if isinstance(name, str) and name in cluster.roles:
                    out.add(name)
    return out


def scratch_copy(cluster: Cluster, nodes: Iterable[str] = (), disks: Iterable[str] = ()) -> Cluster:
    """A copy of `cluster` that failing `nodes` and `disks` (and running its timers) can change without touching
    `cluster`. Cheaper than Cluster.copy() when few roles are at stake."""
    nodes, disks = set(nodes), set(disks)
    work = copy.copy(cluster)
    work.__class__ = _Scratch
    assert isinstance(work, _Scratch)
    work.nodes = {name: _copy_node(node) for name, node in cluster.nodes.items()}
    work._node_order = sorted(work.nodes.values(), key=lambda n: n.index)
    work.disks = {name: _copy_disk(disk) for name, disk in cluster.disks.items()}
    work._timers = list(cluster._timers)
    work._migrating = set(cluster._migrating)
    work.cut = set(cluster.cut)
    work.frozen_votes = dict(cluster.frozen_votes) if cluster.frozen_votes is not None else None
    work._out = []
    risky = _risky(cluster, nodes, disks)
    work.roles = dict(cluster.roles)
    for name in risky:
        work.roles[name] = _copy_role(cluster.roles[name])
    work._shared = set(cluster.roles) - risky
    return work


def own_role(work: Cluster, name: str) -> Role:
    """Role `name` of a scratch copy, made the copy's own so that it can be changed (what-if edits)."""
    if isinstance(work, _Scratch) and name in work._shared:
        work.roles[name] = _copy_role(work.roles[name])
        work._shared.discard(name)
    return work.roles[name]


# ---- the rehearsal ---------------------------------------------------------------------------------------------

def rehearse(cluster: Cluster, nodes: Sequence[str], disks: Sequence[str] = (), *,
             full_copy: bool = False, every_role: bool = True) -> Rehearsal:
    """Fail `nodes` (crash: power lost) and `disks` on a copy of `cluster` now, and answer what happens.

    Names are matched as the cluster does (node names without regard to case); an unknown one raises the engine's
    NotFound. `full_copy` rehearses on Cluster.copy() instead of the cheaper scratch copy (same answer; tests
    hold them to it). Without `every_role` the answer lists only the roles the failure could touch (the others
    keep their owner and state by construction; `role_count` counts them all), which is what a large cluster's
    admission check needs."""
    failed_nodes = tuple(dict.fromkeys(cluster._node_name(n) for n in nodes))
    failed_disks = tuple(dict.fromkeys(cluster._disk(d).name for d in disks))
    quorum_before = _quorum(cluster)
    work = cluster.copy() if full_copy else scratch_copy(cluster, failed_nodes, failed_disks)
    start = work.now
    online: dict[str, float] = {}
    order: list[str] = []
    entries = []
    for name in failed_nodes:
        entries += work.apply(ev.NodeCrash(name), start)
    for name in failed_disks:
        entries += work.apply(ev.DiskFail(name), start)
    horizon = start + work.profile.failed_retry
    settled = start
    while True:
        _note_online(entries, online, order)
        deadline = work.next_deadline()
        if deadline is None or deadline >= horizon:
            break
        settled = deadline
        entries = work.advance(deadline)
    position = {name: i for i, name in enumerate(order, start=1)}
    shared = work._shared if isinstance(work, _Scratch) and not every_role else set()
    listed = [name for name in work.roles if name not in shared]  # `cluster` is as it was: its roles say "before"
    return Rehearsal(
        cluster=work.name, profile=work.profile.name, failed_nodes=failed_nodes, failed_disks=failed_disks,
        quorum_before=quorum_before, quorum_after=_quorum(work),
        nodes=tuple(NodeAfter(n.name, n.state, n.name in failed_nodes, n.memory_mb, n.memory_used_mb, len(n.roles),
                              sum(1 for r in n.roles if work.roles[r].vm_state in VM_CONSUMING))
                    for n in work._ordered_nodes()),
        roles=tuple(_fate(work, name, _before(cluster.roles[name]), online, position, start, set(failed_nodes))
                    for name in sorted(listed)),
        role_count=len(work.roles),
        settled_after_seconds=settled - start,
    )


def _before(role: Role) -> tuple[str | None, str, bool, bool]:
    return role.owner, role.state, role.vm_state in VM_CONSUMING, role.wanted_running


def _quorum(cluster: Cluster) -> QuorumView:
    q = cluster.quorum_state()
    return QuorumView(q["state"], int(q["votes"]), int(q["votes_needed"]))


def _note_online(entries: list[Any], online: dict[str, float], order: list[str]) -> None:
    for entry in entries:
        if entry.id == ROLE_ONLINE_EVENT:
            message = entry.message
            name = message[message.index("'") + 1:message.rindex("'")]
            if name in online:
                order.remove(name)
            online[name] = entry.time
            order.append(name)


def _fate(work: Cluster, name: str, before: tuple[str | None, str, bool, bool], online: dict[str, float],
          position: dict[str, int], start: float, failed: set[str]) -> RoleFate:
    role = work.roles[name]
    owner_before, state_before, running_before, wanted_before = before
    running = role.vm_state in VM_CONSUMING
    reason: str | None = None
    detail = role.information
    if not running:
        reason = _why_down(work, role, running_before or wanted_before or state_before == GROUP_FAILED)
    restarted = name in online and running
    clash = restarted and role.owner is not None and work._anti_affinity_clash(role, work.nodes[role.owner])
    if running and not detail:
        detail = (f"Online on {role.owner} {online[name] - start:g} s after the failure" if restarted
                  else f"Runs on {role.owner}, not affected")
    affected = (role.owner != owner_before or role.state != state_before or running != running_before
                or owner_before in failed)
    return RoleFate(
        name=name, priority=role.priority, memory_mb=role.memory_mb, owner_before=owner_before,
        state_before=state_before, running_before=running_before, owner=role.owner, state=role.state,
        vm_state=role.vm_state, online_after_seconds=online[name] - start if restarted else None,
        restart_order=position[name] if restarted else None, reason=reason, detail=detail,
        anti_affinity_clash=clash, affected=affected)


def _why_down(work: Cluster, role: Role, wanted: bool) -> str:
    if not work.cluster_up:
        return QUORUM_LOST
    if not wanted and role.state != GROUP_FAILED:
        return WAS_OFF
    if role.priority == 0:
        return NO_AUTO_START
    if role.threshold_exceeded:
        return FAILOVER_THRESHOLD
    if role.disk is not None and work.disks[role.disk].state != "Online":
        return DISK_FAILED
    usable = [n for n in work._ordered_nodes() if n.usable]
    if role.possible_owners and not any(n.name in role.possible_owners for n in usable):
        return NO_POSSIBLE_OWNER
    return NOT_ENOUGH_MEMORY


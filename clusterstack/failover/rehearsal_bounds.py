"""When a loss of nodes certainly leaves every HA role a place, proved without running every restart.

Admission control asks, for every combination of k nodes, whether their loss would strand an HA role. Running the
whole failover for each combination costs one restart per role of the lost nodes; most combinations in a cluster
with room are plainly fine. `certainly_placed` proves that case from the engine's own rules, and answers None
(run the rehearsal) whenever the proof does not apply:

- quorum: decided by the engine itself, on a copy of the cluster without roles (votes, witness and membership do
  not depend on roles), so nothing of the quorum rules is restated here;
- restarts: the engine restarts the roles of the lost nodes one by one (High first), each on a usable node that
  is a possible owner and has the memory, deferring (never failing) a role when nodes with room only lack start
  slots. A role fails only when, at its turn, every usable possible owner has less free memory than it needs.
  Before its turn at most every other restarting role has been placed, so if the memory free on its usable
  possible owners, less the memory of every other restarting role, is more than (nodes x (its memory - 1)), some
  node still has room for it: it is placed. Anti-affinity and preferred owners only choose among such nodes.
- everything else that could keep a role down or change memory is excluded up front: a role over its failover
  threshold or with failovers counted, a role on a disk that is not Online, roles already Failed, Pending or
  waiting to run, moves or timers in flight, nodes that are neither Up, Paused nor Down.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from clusterstack.failover import events as ev
from clusterstack.failover.cluster import Cluster
from clusterstack.failover.model import GROUP_FAILED, GROUP_PENDING, NODE_DOWN, NODE_PAUSED, NODE_UP, VM_CONSUMING

_QUORUM_MEMO: dict[tuple[object, ...], bool] = {}
_QUORUM_MEMO_SIZE = 4096


def _membership(cluster: Cluster) -> tuple[object, ...]:
    """Everything quorum depends on (roles do not): the nodes' membership and votes, the witness, the timings."""
    return (cluster.profile, cluster.witness_kind, cluster.dynamic_quorum, cluster.lower_quorum_priority_node,
            cluster.cross_subnet, cluster.cluster_up, cluster.witness_vote, frozenset(cluster.cut),
            tuple((n.name, n.alive, n.member, n.state, n.paused, n.assigned_vote, n.current_vote, tuple(n.leaves),
                   n.quarantined_until) for n in cluster._ordered_nodes()),
            tuple((d.name, d.state, d.owner, d.witness) for d in cluster.disks.values()))


def quorum_survives(cluster: Cluster, lost: Sequence[str]) -> bool:
    """Whether the cluster keeps quorum once `lost` crash: the engine's membership rules, run on a copy without
    roles (cheap at any number of roles), remembered for clusters of the same membership."""
    key = (_membership(cluster), frozenset(lost), cluster.now)
    found = _QUORUM_MEMO.get(key)
    if found is None:
        found = _quorum_survives(cluster, lost)
        if len(_QUORUM_MEMO) >= _QUORUM_MEMO_SIZE:
            _QUORUM_MEMO.clear()
        _QUORUM_MEMO[key] = found
    return found


def _quorum_survives(cluster: Cluster, lost: Sequence[str]) -> bool:
    bare = copy.copy(cluster)
    bare.__class__ = Cluster  # a plain cluster, even when given a rehearsal's scratch copy
    bare.nodes = {name: copy.copy(node) for name, node in cluster.nodes.items()}
    for node in bare.nodes.values():
        node.roles = set()
        node.leaves = list(node.leaves)
    bare._node_order = sorted(bare.nodes.values(), key=lambda n: n.index)
    bare.disks = {name: copy.copy(disk) for name, disk in cluster.disks.items()}
    bare.roles = {}
    bare._timers = []
    bare._migrating = set()
    bare.cut = set(cluster.cut)
    bare.frozen_votes = dict(cluster.frozen_votes) if cluster.frozen_votes is not None else None
    bare._out = []
    start = bare.now
    for name in lost:
        bare.apply(ev.NodeCrash(name), start)
    horizon = start + bare.profile.failed_retry
    while (deadline := bare.next_deadline()) is not None and deadline < horizon:
        bare.advance(deadline)
    return bare.cluster_up


def _calm(cluster: Cluster) -> bool:
    """Nothing in flight and no role waiting: the cluster at rest, as a report describes it."""
    if cluster._timers or cluster._migrating or not cluster.cluster_up:
        return False
    if any(n.state not in (NODE_UP, NODE_PAUSED, NODE_DOWN) or (n.alive and not n.member and n.state != NODE_DOWN)
           for n in cluster.nodes.values()):
        return False
    return not any(r.state in (GROUP_FAILED, GROUP_PENDING) or r.wanted_running or r.threshold_exceeded
                   for r in cluster.roles.values())


class LossBounds:
    """`certainly_placed` for many losses of one cluster: what does not depend on the loss is read once."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.calm = _calm(cluster)
        self.free = {n.name: n.free_mb for n in cluster._ordered_nodes() if n.usable}
        self._quorum: dict[frozenset[str], bool] = {}

    def placed(self, lost: Sequence[str]) -> int | None:
        """The memory (MB) free on the usable survivors once the crash of `lost` has restarted every role of
        priority > 0 that ran on them, when that certainly happens (quorum kept, every such role placed); None
        when it is not proved (rehearse it)."""
        if not self.calm:
            return None
        cluster = self.cluster
        gone = {cluster._node_name(n) for n in lost}
        survivors = {name: free for name, free in self.free.items() if name not in gone}
        if not survivors:
            return None
        restarting = []
        for name in gone:
            for role_name in cluster.nodes[name].roles:
                role = cluster.roles[role_name]
                if role.vm_state not in VM_CONSUMING or role.priority == 0:
                    continue
                if role.failovers or role.failover_threshold is not None:
                    return None
                if role.disk is not None and cluster.disks[role.disk].state != "Online":
                    return None
                restarting.append(role)
        needed = sum(r.memory_mb for r in restarting)
        total = sum(survivors.values())
        count = len(survivors)
        for role in restarting:
            if role.possible_owners:
                owners = [survivors[n] for n in role.possible_owners if n in survivors]
                room, nodes = sum(owners), len(owners)
            else:
                room, nodes = total, count
            if nodes == 0 or room - (needed - role.memory_mb) <= nodes * (role.memory_mb - 1):
                return None
        key = frozenset(gone)
        if key not in self._quorum:
            self._quorum[key] = quorum_survives(cluster, sorted(gone))
        if not self._quorum[key]:
            return None
        return total - needed


def certainly_placed(cluster: Cluster, lost: Sequence[str]) -> int | None:
    """LossBounds(cluster).placed(lost), for one loss."""
    return LossBounds(cluster).placed(lost)

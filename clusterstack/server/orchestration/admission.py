"""HA admission control: refuse HA work that would leave an HA instance without a place when k nodes fail.

With `hyperv.ha.admission.failures` = k (1 or 2; 0 turns it off), deploying, starting, scaling an HA instance or
enabling HA on a running one is checked with the change in place: the failure of every combination of k of the
cluster's running nodes is rehearsed by the failover engine (failover.rehearsal) on the cluster's live state,
and the change is refused (533) when one of them would strand an HA role (a role of priority > 0 that ran and
would not run after the failover). No Auto Start roles (non-HA instances) are not held to it.

`headroom` answers listClusters' HA headroom: the memory HA instances could still add while surviving the loss of
any k nodes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clusterstack.failover.cluster import Cluster as Engine
from clusterstack.failover.model import GROUP_ONLINE, VM_RUNNING, Role
from clusterstack.failover.rehearsal import Rehearsal, RoleFate, own_role, rehearse, scratch_copy
from clusterstack.failover.rehearsal_bounds import LossBounds
from clusterstack.hypervisor.base import ClusterReport
from clusterstack.server import settings
from clusterstack.server.api.errors import ApiError, insufficient_capacity
from clusterstack.server.db.models.infrastructure import Cluster
from clusterstack.server.orchestration.rehearsal import engine_of, followed_report, live_report
from clusterstack.server.state import ServerState

ADMISSION_FAILURES = settings.define_setting(
    "hyperv.ha.admission.failures", 0, "Hyper-V",
    "HA admission control: the number of node failures (1 or 2) a cluster's HA instances must survive; deploying, "
    "starting or scaling an HA instance that would leave an HA instance without a place after the loss of that "
    "many nodes is refused (533). 0: off",
    choices=(0, 1, 2),
)


def failures_for(db: Session, cluster: Cluster) -> int:
    """k in force for the cluster (0 = off)."""
    return int(settings.get(db, ADMISSION_FAILURES))


@dataclass(frozen=True)
class Change:
    """The HA instance as it will be: its role `name` running with `memory_mb` at `priority`, on `node` (None:
    where the cluster starts it)."""

    name: str
    memory_mb: int
    priority: int
    node: str | None = None


@dataclass(frozen=True)
class Shortfall:
    failures: int
    lost: tuple[str, ...]  # the nodes whose loss strands HA roles
    stranded: tuple[RoleFate, ...]

    @property
    def memory_mb(self) -> int:
        return sum(r.memory_mb for r in self.stranded)


def failure_sets(engine: Engine, k: int) -> Iterator[tuple[str, ...]]:
    """Every combination of k of the nodes that run (failing a node that is down changes nothing)."""
    running = [n.name for n in engine._ordered_nodes() if n.usable]
    if k >= len(running):
        yield tuple(running)
        return
    yield from itertools.combinations(running, k)


def _stranded(answer: Rehearsal) -> tuple[RoleFate, ...]:
    return tuple(answer.stranded(ha_only=True))


def with_change(engine: Engine, change: Change) -> Engine | None:
    """A copy of `engine` where `change` is made (None when the cluster itself could not run it: it refuses the
    operation on its own, and admission has nothing to add)."""
    work = scratch_copy(engine)
    role = work.roles.get(change.name)
    if role is not None:
        role = own_role(work, change.name)
        if role.vm_state in ("Running", "Starting", "Migrating", "Unmonitored") and role.owner is not None:
            work._set_vm(role, "Off")
    else:
        largest = max(n.memory_mb for n in work.nodes.values())
        role = Role(change.name, min(max(1, change.memory_mb), largest), 1, None, None, change.priority)
        work.roles[role.name] = role
    role.memory_mb = max(1, change.memory_mb)
    role.priority = change.priority
    node = work.nodes.get(work._node_keys.get(change.node.lower(), "")) if change.node else None
    if node is None or not work._fits(role, node):
        node = work._choose_node(role, role.owner)
    if node is None:
        return None
    work._assign_owner(role, node.name)
    work._set_vm(role, VM_RUNNING)
    role.state = GROUP_ONLINE
    role.wanted_running = False
    return work


def worst_case(engine: Engine, k: int) -> Shortfall | None:
    """The first loss of k nodes that strands an HA role, or None when every such loss leaves them a place."""
    bounds = LossBounds(engine)
    for lost in failure_sets(engine, k):
        if bounds.placed(lost) is not None:
            continue
        stranded = _stranded(rehearse(engine, lost, every_role=False))
        if stranded:
            return Shortfall(k, lost, stranded)
    return None


def admit(server: ServerState, db: Session, cluster: Cluster, change: Change) -> None:
    """Refuse (533) `change` when, with it, losing some k nodes of the cluster would strand an HA role."""
    if change.priority <= 0:
        return
    k = failures_for(db, cluster)
    if k <= 0 or not cluster.failover_address:
        return
    report = live_report(server, cluster)
    if report.quorum.state != "Up":
        return  # no quorum: the work is refused anyway (534)
    work = with_change(engine_of(cluster.id, report), change)
    if work is None:
        return
    found = worst_case(work, k)
    if found is not None:
        raise refusal(cluster, report, change, found)


def refusal(cluster: Cluster, report: ClusterReport, change: Change, found: Shortfall) -> ApiError:
    names = ", ".join(f"{r.name} ({r.reason})" for r in found.stranded[:5])
    more = f" and {len(found.stranded) - 5} more" if len(found.stranded) > 5 else ""
    return insufficient_capacity(
        f"HA admission control (hyperv.ha.admission.failures={found.failures}) refuses {change.name}: cluster "
        f"{cluster.name} (failover cluster {report.name}) could not restart every HA instance after losing "
        f"{' and '.join(found.lost)}: {names}{more} would stay down; {found.memory_mb} MB of HA memory short")


# ---- headroom (listClusters) -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Headroom:
    failures: int  # the k it is computed for
    survives: bool  # no loss of k nodes strands an HA role
    memory_mb: int  # HA memory that could still be added while surviving the loss of any k nodes
    at_risk: tuple[str, ...]  # HA roles a loss of k nodes would strand (the first such loss)


_headroom_lock = threading.Lock()
_headroom_cache: dict[tuple[int, int], tuple[ClusterReport, Headroom]] = {}


def headroom(cluster_id: int, report: ClusterReport, k: int) -> Headroom:
    """Over every loss of k running nodes: the least memory left free on the survivors once the failover has placed
    every role (0 when a loss strands an HA role). Kept per report: listClusters asks often, reports change less."""
    key = (cluster_id, k)
    with _headroom_lock:
        hit = _headroom_cache.get(key)
    if hit is not None and (hit[0] is report or hit[0] == report):
        return hit[1]
    engine = engine_of(cluster_id, report)
    least: int | None = None
    at_risk: tuple[str, ...] = ()
    if report.quorum.state != "Up":
        answer = Headroom(k, False, 0, ())
    else:
        bounds = LossBounds(engine)
        for lost in failure_sets(engine, k):
            free = bounds.placed(lost)
            if free is None:
                result = rehearse(engine, lost, every_role=False)
                stranded = _stranded(result)
                if stranded:
                    at_risk = tuple(r.name for r in stranded)
                    least = 0
                    break
                free = sum(n.memory_free_mb for n in result.survivors())
            least = free if least is None else min(least, free)
        answer = Headroom(k, not at_risk, least or 0, at_risk)
    with _headroom_lock:
        _headroom_cache[key] = (report, answer)
    return answer


def admit_instance(server: ServerState, db: Session, cluster: Cluster, name: str, memory_mb: int, priority: int,
                   node: str | None = None) -> None:
    """The hook the instance lifecycle calls before it makes an HA instance run (deploy, start, scale, HA on)."""
    admit(server, db, cluster, Change(name, memory_mb, priority, node))


def headroom_fields(server: ServerState, db: Session, cluster: Cluster) -> dict[str, object]:
    """listClusters' HA fields for a cluster this server follows (none for one it does not: a listing never waits
    on a cluster): the setting in force, the k computed for, whether any loss of k nodes leaves every HA role a
    place, the HA headroom in MB, and the HA roles the first loss found to strand them would leave down."""
    if not cluster.failover_address:
        return {}
    report = followed_report(server, cluster.id)
    if report is None:
        return {}
    k = failures_for(db, cluster)
    room = headroom(cluster.id, report, k or 1)
    return {"haadmissionfailures": k, "hafailurestolerated": room.failures, "hasurvivesfailures": room.survives,
            "haheadroommb": room.memory_mb, "harolesatrisk": list(room.at_risk) or None}

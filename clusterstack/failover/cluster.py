"""The failover cluster: membership, votes and quorum, failover placement, moves, drains and CSVs.

Pure and deterministic: every change comes in as an event with the time it happens; timers (heartbeat
threshold, resiliency period, migrations, retries) are kept in a heap and fired by `advance(now)` in time
order. Nothing reads a clock, nothing is random, iteration follows node order and role names.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Iterable
from typing import Any

from clusterstack.failover import events as ev
from clusterstack.failover import log
from clusterstack.failover.errors import ClusterError, InvalidState, NotEnoughMemory, NotFound, QuorumLost
from clusterstack.failover.log import LogEntry
from clusterstack.failover.model import (
    GROUP_FAILED,
    GROUP_OFFLINE,
    GROUP_ONLINE,
    GROUP_PENDING,
    NODE_DOWN,
    NODE_ISOLATED,
    NODE_JOINING,
    NODE_PAUSED,
    NODE_QUARANTINED,
    NODE_UP,
    VM_CONSUMING,
    VM_MIGRATING,
    VM_OFF,
    VM_RUNNING,
    VM_SAVED,
    VM_STARTING,
    VM_UNMONITORED,
    Disk,
    Node,
    Role,
)
from clusterstack.failover.profiles import PROFILES, Profile
from clusterstack.failover.spec import ClusterSpec, RoleSpec, SpecError, validate_role

GB = 1024**3
QUORUM_MODELS = {"none": "NodeMajority", "disk": "NodeAndDiskMajority", "file-share": "NodeAndFileShareMajority",
                 "cloud": "NodeAndCloudMajority"}


class Cluster:
    """A Windows Server failover cluster running virtual-machine roles."""

    def __init__(self, spec: ClusterSpec, now: float = 0.0) -> None:
        spec.validate()
        self.name = spec.name
        self.profile: Profile = PROFILES[spec.profile]
        self.witness_kind = spec.witness
        self.dynamic_quorum = spec.dynamic_quorum
        self.lower_quorum_priority_node = spec.lower_quorum_priority_node
        self.cross_subnet = spec.cross_subnet
        self.now = now
        self.nodes: dict[str, Node] = {}
        for i, n in enumerate(spec.nodes):
            self.nodes[n.name] = Node(n.name, i, n.memory_mb, n.cpus, n.vote, n.vote)
        self._node_keys = {name.lower(): name for name in self.nodes}
        self._node_order = sorted(self.nodes.values(), key=lambda n: n.index)
        self.disks: dict[str, Disk] = {}
        first = spec.nodes[0].name
        for i, d in enumerate(spec.disks, start=1):
            owner = self._node_name(d.owner) if d.owner else first
            self.disks[d.name] = Disk(d.name, i, int(d.capacity_gb * GB), d.csv, owner,
                                      witness=spec.witness == "disk" and d.name == spec.witness_disk)
        self.witness_disk = spec.witness_disk if spec.witness == "disk" else None
        self.roles: dict[str, Role] = {}
        self._migrating: set[str] = set()  # roles with a move in flight
        self.cut: set[frozenset[str]] = set()  # pairs of nodes that cannot hear each other
        self.cluster_up = True
        self.frozen_votes: dict[str, int] | None = None  # current votes when quorum was lost
        self.frozen_witness_vote = 0
        self.witness_vote = 0
        self._timers: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self._seq = 0
        self._out: list[LogEntry] = []
        self._rebalance_votes()
        for role_spec in spec.roles:
            self._add_role(role_spec, initial=True)
        self._out.clear()

    @classmethod
    def from_spec(cls, spec: ClusterSpec, now: float = 0.0) -> Cluster:
        return cls(spec, now)

    def copy(self) -> Cluster:
        return copy.deepcopy(self)

    # ---- the public surface -----------------------------------------------------------------------------

    def apply(self, event: Any, now: float) -> list[LogEntry]:
        """Fire timers due by `now`, then apply `event` at `now`. Refused operations raise and change nothing."""
        entries = self.advance(now)
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is None:
            raise ClusterError(f"unknown event {type(event).__name__}")
        self._check(event)
        self.now = max(self.now, now)
        handler(event)
        entries.extend(self._drain_out())
        return entries

    def advance(self, now: float) -> list[LogEntry]:
        while self._timers and self._timers[0][0] <= now:
            at, _, kind, args = heapq.heappop(self._timers)
            self.now = max(self.now, at)
            getattr(self, f"_timer_{kind}")(*args)
        self.now = max(self.now, now)
        return self._drain_out()

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def quorum_state(self) -> dict[str, Any]:
        total = self._total_votes()
        return {
            "state": "Up" if self.cluster_up else "Lost",
            "model": QUORUM_MODELS[self.witness_kind],
            "votes": self._member_votes() if self.cluster_up else 0,
            "votes_needed": total // 2 + 1,
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "cluster": self.name,
            "quorum": self.quorum_state(),
            "nodes": [{"name": n.name, "state": n.state, "assigned_vote": n.assigned_vote,
                       "current_vote": n.current_vote} for n in self._ordered_nodes()],
            "roles": [{"name": r.name, "type": "Virtual Machine", "state": r.state, "vm_state": r.vm_state,
                       "owner_node": r.owner, "priority": r.priority} for r in self._ordered_roles()],
            "disks": [{"name": d.name, "state": d.state, "assigned_to": d.assigned_to, "owner_node": d.owner,
                       "disk_number": d.number, "capacity_bytes": d.capacity_bytes, "free_bytes": d.free_bytes,
                       "path": d.csv_path} for d in self.disks.values()],
        }

    # ---- helpers ------------------------------------------------------------------------------------------

    def _emit(self, entry: LogEntry) -> None:
        self._out.append(entry)

    def _drain_out(self) -> list[LogEntry]:
        out, self._out = self._out, []
        return out

    def _timer(self, at: float, kind: str, *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (at, self._seq, kind, args))

    def _node_name(self, name: str) -> str:
        found = self._node_keys.get(name.lower())
        if found is None:
            raise NotFound(f"node {name} is not a node of cluster {self.name}")
        return found

    def _node(self, name: str) -> Node:
        return self.nodes[self._node_name(name)]

    def _role(self, name: str) -> Role:
        role = self.roles.get(name)
        if role is None:
            raise NotFound(f"clustered role {name} does not exist in cluster {self.name}")
        return role

    def _disk(self, name: str) -> Disk:
        disk = self.disks.get(name)
        if disk is None:
            raise NotFound(f"cluster disk {name} does not exist in cluster {self.name}")
        return disk

    def _ordered_nodes(self) -> list[Node]:
        return self._node_order

    def _ordered_roles(self) -> list[Role]:
        return [self.roles[k] for k in sorted(self.roles)]

    def _reporter(self) -> str:
        members = [n for n in self._ordered_nodes() if n.member and n.alive]
        return members[0].name if members else self._ordered_nodes()[0].name

    def _require_quorum(self) -> None:
        if not self.cluster_up:
            raise QuorumLost(f"cluster {self.name} has lost quorum; the Cluster service is not running")

    # ---- validation before any change (refusals change nothing) ------------------------------------------

    def _check(self, event: Any) -> None:
        for attr in ("node", "a", "b"):
            value = getattr(event, attr, None)
            if isinstance(value, str):
                self._node_name(value)
        for attr in ("nodes", "from_nodes"):
            for value in getattr(event, attr, None) or ():
                self._node_name(value)
        disk = getattr(event, "disk", None)
        if isinstance(disk, str):
            self._disk(disk)
        checker = getattr(self, f"_check_{type(event).__name__}", None)
        if checker is not None:
            checker(event)

    def _check_MoveRole(self, e: ev.MoveRole) -> None:
        self._require_quorum()
        role = self._role(e.role)
        target = self._node(e.node)
        if e.type not in ("live", "quick"):
            raise ClusterError(f"migration type must be live or quick, not {e.type}")
        if role.vm_state == VM_MIGRATING:
            raise InvalidState(f"clustered role {role.name} is already migrating")
        self._require_reachable_owner(role)
        if not target.usable:
            raise InvalidState(f"node {target.name} is {target.state}; roles can move only to an Up node")
        if role.possible_owners and target.name not in role.possible_owners:
            raise InvalidState(f"node {target.name} is not a possible owner of {role.name}")
        if role.owner == target.name:
            raise InvalidState(f"clustered role {role.name} is already on {target.name}")
        if role.vm_state in VM_CONSUMING and target.free_mb < role.memory_mb:
            raise NotEnoughMemory(f"node {target.name} has {target.free_mb} MB free; {role.name} needs "
                                  f"{role.memory_mb} MB")

    def _require_reachable_owner(self, role: Role) -> None:
        """A running VM can be moved or stopped only through a node the cluster can reach."""
        owner = self.nodes.get(role.owner or "")
        if owner is not None and role.vm_state in VM_CONSUMING and not (owner.alive and owner.member):
            raise InvalidState(f"node {owner.name} ({owner.state}) does not respond; {role.name} is "
                               f"{role.vm_state} there and cannot be changed until it is back or fails over")

    def _check_Drain(self, e: ev.Drain) -> None:
        self._require_quorum()
        node = self._node(e.node)
        if not node.member or node.state not in (NODE_UP, NODE_PAUSED):
            raise InvalidState(f"node {node.name} is {node.state}; only an Up node can be drained")
        if not node.alive:
            raise InvalidState(f"node {node.name} does not respond")

    def _check_Resume(self, e: ev.Resume) -> None:
        self._require_quorum()
        node = self._node(e.node)
        if not node.paused:
            raise InvalidState(f"node {node.name} is not paused")
        if not (node.member and node.alive):
            raise InvalidState(f"node {node.name} is {node.state}; only a running member can be resumed")

    def _check_ClearQuarantine(self, e: ev.ClearQuarantine) -> None:
        node = self._node(e.node)
        if node.state != NODE_QUARANTINED:
            raise InvalidState(f"node {node.name} is {node.state}, not Quarantined; there is no quarantine to clear")

    def _check_AddRole(self, e: ev.AddRole) -> None:
        self._require_quorum()
        if e.role.name in self.roles:
            raise InvalidState(f"clustered role {e.role.name} already exists")
        try:
            validate_role(e.role, "role", set(self._node_keys), set(self.disks),
                          max(n.memory_mb for n in self.nodes.values()))
        except SpecError as exc:
            raise ClusterError(f"{exc.field_path.removeprefix('role.')}: {exc.message}") from None
        if e.role.disk and e.role.disk_gb and self.disks[e.role.disk].free_bytes < int(e.role.disk_gb * GB):
            raise InvalidState(f"cluster disk {e.role.disk} has not enough free space")
        if e.role.state == VM_RUNNING and self._choose_node(self._role_from_spec(e.role), e.role.owner) is None:
            raise NotEnoughMemory(f"no node of cluster {self.name} has {e.role.memory_mb} MB free for "
                                  f"{e.role.name}")

    def _check_RemoveRole(self, e: ev.RemoveRole) -> None:
        role = self._role(e.role)
        if role.vm_state in VM_CONSUMING:
            raise InvalidState(f"virtual machine {role.name} is {role.vm_state}; turn it off before removing it")

    def _check_StartRole(self, e: ev.StartRole) -> None:
        self._require_quorum()
        role = self._role(e.role)
        if role.vm_state in VM_CONSUMING:
            raise InvalidState(f"virtual machine {role.name} is already {role.vm_state}")
        if role.disk and self.disks[role.disk].state != "Online":
            raise InvalidState(f"cluster disk {role.disk} of {role.name} is {self.disks[role.disk].state}")
        if self._choose_node(role, role.owner) is None:
            raise NotEnoughMemory(f"no node of cluster {self.name} has {role.memory_mb} MB free to start "
                                  f"{role.name}")

    def _check_StopRole(self, e: ev.StopRole) -> None:
        self._require_quorum()
        role = self._role(e.role)
        if role.vm_state == VM_MIGRATING:
            raise InvalidState(f"virtual machine {role.name} is migrating")
        self._require_reachable_owner(role)

    def _check_RestartRole(self, e: ev.RestartRole) -> None:
        self._require_quorum()
        role = self._role(e.role)
        if role.vm_state != VM_RUNNING:
            raise InvalidState(f"virtual machine {role.name} is {role.vm_state}, not Running")
        self._require_reachable_owner(role)

    def _check_SetRolePriority(self, e: ev.SetRolePriority) -> None:
        self._require_quorum()
        self._role(e.role)
        if e.priority not in (3000, 2000, 1000, 0):
            raise ClusterError("priority must be 3000, 2000, 1000 or 0")

    def _check_UpdateRoleResources(self, e: ev.UpdateRoleResources) -> None:
        self._require_quorum()
        role = self._role(e.role)
        if role.vm_state in VM_CONSUMING:
            raise InvalidState(f"virtual machine {role.name} must be off to change its memory or processors")
        if e.memory_mb <= 0 or e.cpus <= 0:
            raise ClusterError("memory and processors must be positive")
        if e.memory_mb > max(n.memory_mb for n in self.nodes.values()):
            raise NotEnoughMemory(f"{e.memory_mb} MB is more than any node of {self.name} has")

    def _vhd_disk(self, path: str) -> Disk:
        for disk in self.disks.values():
            if path in disk.vhds:
                return disk
        raise NotFound(f"virtual hard disk {path} does not exist")

    def _check_CreateVhd(self, e: ev.CreateVhd) -> None:
        self._require_quorum()
        disk = self._disk(e.disk)
        if e.size_bytes <= 0:
            raise ClusterError("a virtual hard disk needs a positive size")
        if any(e.path in d.vhds for d in self.disks.values()):
            raise InvalidState(f"virtual hard disk {e.path} already exists")
        if disk.state != "Online":
            raise InvalidState(f"cluster disk {disk.name} is {disk.state}")
        if disk.free_bytes < e.size_bytes:
            raise InvalidState(f"cluster disk {disk.name} has {disk.free_bytes} bytes free; {e.size_bytes} needed")
        if e.role is not None:
            self._role(e.role)

    def _check_ResizeVhd(self, e: ev.ResizeVhd) -> None:
        self._require_quorum()
        disk = self._vhd_disk(e.path)
        grow = e.size_bytes - disk.vhds[e.path]
        if e.size_bytes <= 0 or grow < 0:
            raise InvalidState("a virtual hard disk can only grow")
        if disk.free_bytes < grow:
            raise InvalidState(f"cluster disk {disk.name} has {disk.free_bytes} bytes free; {grow} more needed")

    def _check_DeleteVhd(self, e: ev.DeleteVhd) -> None:
        self._vhd_disk(e.path)
        for role in self.roles.values():
            if e.path in role.vhds:
                raise InvalidState(f"virtual hard disk {e.path} is attached to {role.name}")

    def _check_AttachVhd(self, e: ev.AttachVhd) -> None:
        role = self._role(e.role)
        self._vhd_disk(e.path)
        if e.path in role.vhds:
            raise InvalidState(f"{e.path} is already attached to {role.name}")
        for other in self.roles.values():
            if e.path in other.vhds:
                raise InvalidState(f"{e.path} is attached to {other.name}")

    def _check_DetachVhd(self, e: ev.DetachVhd) -> None:
        role = self._role(e.role)
        if e.path not in role.vhds:
            raise NotFound(f"{e.path} is not attached to {role.name}")

    # ---- votes and quorum ---------------------------------------------------------------------------------

    def _witness_available(self, side: Iterable[str] | None = None) -> bool:
        if self.witness_kind == "none":
            return False
        if self.witness_disk is not None:
            disk = self.disks[self.witness_disk]
            if disk.state != "Online":
                return False
        return True

    def _witness_side(self, components: list[list[str]]) -> int | None:
        """Which side of a split wins the witness: the one owning the witness disk, else the first node's."""
        if self.witness_kind == "none" or not self._witness_available() or not components:
            return None
        if self.witness_disk is not None:
            owner = self.disks[self.witness_disk].owner
            for i, component in enumerate(components):
                if owner in component:
                    return i
        best = min(range(len(components)), key=lambda i: min(self.nodes[n].index for n in components[i]))
        return best

    def _rebalance_votes(self) -> None:
        """Dynamic quorum and dynamic witness: recompute current votes for the present membership."""
        members = [n for n in self._ordered_nodes() if n.member and n.alive]
        if not self.dynamic_quorum:
            for node in self.nodes.values():
                node.current_vote = node.assigned_vote
            self.witness_vote = 1 if self._witness_available() else 0
            return
        for node in self.nodes.values():
            node.current_vote = node.assigned_vote if (node.member and node.alive) else 0
        voters = [n for n in members if n.assigned_vote]
        if self.witness_kind != "none":
            self.witness_vote = 1 if (len(voters) % 2 == 0 and self._witness_available()) else 0
        else:
            self.witness_vote = 0
            if voters and len(voters) % 2 == 0:
                names = [n.name for n in voters]
                loser = (self._node_name(self.lower_quorum_priority_node)
                         if self.lower_quorum_priority_node and self._node_name(self.lower_quorum_priority_node)
                         in names else voters[-1].name)
                self.nodes[loser].current_vote = 0

    def _member_votes(self) -> int:
        votes = sum(n.current_vote for n in self.nodes.values() if n.member and n.alive)
        return votes + (self.witness_vote if self._witness_available() else 0)

    def _total_votes(self) -> int:
        if self.frozen_votes is not None and not self.cluster_up:
            return sum(self.frozen_votes.values()) + self.frozen_witness_vote
        return sum(n.current_vote for n in self.nodes.values()) + self.witness_vote

    # ---- membership ---------------------------------------------------------------------------------------

    def _components(self) -> list[list[str]]:
        """Groups of living, unquarantined nodes that can hear each other (node order within and between)."""
        candidates = [n.name for n in self._ordered_nodes()
                      if n.alive and n.state != NODE_QUARANTINED and n.state != NODE_JOINING]
        seen: set[str] = set()
        groups: list[list[str]] = []
        for start in candidates:
            if start in seen:
                continue
            group, stack = [], [start]
            seen.add(start)
            while stack:
                current = stack.pop()
                group.append(current)
                for other in candidates:
                    if other not in seen and frozenset((current, other)) not in self.cut:
                        seen.add(other)
                        stack.append(other)
            groups.append(sorted(group, key=lambda name: self.nodes[name].index))
        return groups

    def _schedule_membership(self, delay: float) -> None:
        self._timer(self.now + delay, "membership")

    def _timer_membership(self) -> None:
        components = self._components()
        if self.cluster_up:
            self._regroup(components)
        else:
            self._try_form(components)

    def _regroup(self, components: list[list[str]]) -> None:
        members = {n.name for n in self.nodes.values() if n.member}
        total = self._total_votes()
        witness_side = self._witness_side(components)
        winner: list[str] | None = None
        for i, component in enumerate(components):
            votes = sum(self.nodes[n].current_vote for n in component if n in members)
            if i == witness_side:
                votes += self.witness_vote
            if votes * 2 > total and any(n in members for n in component):
                winner = component
                break
        if winner is None:
            self._lose_quorum()
            return
        leaving = [self.nodes[n] for n in sorted(members, key=lambda n: self.nodes[n].index) if n not in winner]
        for node in leaving:
            self._leave(node)
        joining = [self.nodes[n] for n in winner if n not in members]
        for node in joining:
            self._join(node)
        if leaving or joining:
            self._rebalance_votes()
            self._move_coordinators()
        if leaving:
            self._fail_over_from([n for n in leaving if n.state != NODE_ISOLATED])
        if joining:
            self._retry_waiting_roles()

    def _leave(self, node: Node) -> None:
        """`node` drops out of active membership: crashed (Down) or cut off (Isolated, on 2016)."""
        node.member = False
        self._emit(log.node_removed(self.now, self._reporter(), node.name))
        self._cancel_migrations_with(node.name)
        node.leaves = [t for t in node.leaves if t > self.now - 3600] + [self.now]
        resiliency = self.profile.resiliency_period
        quarantine = self.profile.quarantine_threshold
        if quarantine is not None and len(node.leaves) >= quarantine:
            node.state = NODE_QUARANTINED
            node.quarantined_until = self.now + self.profile.quarantine_duration
            self._emit(log.node_quarantined(self.now, node.name, len(node.leaves), node.quarantined_until))
            self._timer(node.quarantined_until, "quarantine_over", node.name)
            self._stop_vms_on(node)
            return
        running_here = [self.roles[r] for r in sorted(node.roles) if self.roles[r].vm_state in VM_CONSUMING]
        if node.alive and resiliency is not None and running_here:
            node.state = NODE_ISOLATED
            node.isolation_token += 1
            for role in running_here:
                role.vm_state = VM_UNMONITORED
                role.information = f"Unmonitored: node {node.name} is isolated"
            self._emit(log.node_isolated(self.now, node.name, resiliency))
            self._timer(self.now + resiliency, "resiliency_over", node.name, node.isolation_token)
            return
        node.state = NODE_DOWN
        self._stop_vms_on(node)

    def _stop_vms_on(self, node: Node) -> None:
        """The VMs on a node that left are off (it crashed, or its isolation ended without rejoining)."""
        for name in sorted(node.roles):
            role = self.roles[name]
            if role.vm_state in VM_CONSUMING:
                role.wanted_running = True
                self._set_vm(role, VM_OFF)
                role.state = GROUP_OFFLINE

    def _join(self, node: Node) -> None:
        was_isolated = node.state == NODE_ISOLATED
        node.member = True
        node.state = NODE_PAUSED if node.paused else NODE_UP
        if was_isolated:
            for name in sorted(node.roles):
                role = self.roles[name]
                if role.vm_state == VM_UNMONITORED:
                    role.vm_state = VM_RUNNING
                    role.information = ""

    def _timer_resiliency_over(self, name: str, token: int) -> None:
        node = self.nodes[name]
        if node.state != NODE_ISOLATED or node.isolation_token != token or not self.cluster_up:
            return
        node.state = NODE_DOWN
        self._stop_vms_on(node)
        self._fail_over_from([node])

    def _timer_quarantine_over(self, name: str) -> None:
        node = self.nodes[name]
        if node.state != NODE_QUARANTINED or (node.quarantined_until or 0) > self.now:
            return
        self._end_quarantine(node)

    def _end_quarantine(self, node: Node) -> None:
        """Out of quarantine (its time is up, or it was cleared): a running machine joins, a dead one is Down."""
        name = node.name
        node.quarantined_until = None
        node.leaves.clear()
        node.state = NODE_JOINING if node.alive else NODE_DOWN
        if node.alive:
            self._timer(self.now + self.profile.join_seconds, "joined", name)

    def _timer_joined(self, name: str) -> None:
        node = self.nodes[name]
        if node.state == NODE_JOINING and node.alive:
            node.state = NODE_DOWN  # not a member until the membership check admits it
            self._timer_membership()

    def _lose_quorum(self) -> None:
        self.cluster_up = False
        self.frozen_votes = {n.name: n.current_vote for n in self.nodes.values()}
        self.frozen_witness_vote = self.witness_vote
        for node in self._ordered_nodes():
            if node.member and node.alive:
                self._emit(log.quorum_lost(self.now, node.name))
            node.member = False
            if node.state != NODE_QUARANTINED:
                node.state = NODE_DOWN
            self._cancel_migrations_with(node.name)
        for role in self._ordered_roles():
            if role.vm_state in VM_CONSUMING:
                role.wanted_running = True
                self._set_vm(role, VM_OFF)
            if role.state != GROUP_FAILED:
                role.state = GROUP_OFFLINE
            role.information = "The Cluster service is not running: quorum was lost"

    def _try_form(self, components: list[list[str]]) -> None:
        frozen = self.frozen_votes or {}
        total = sum(frozen.values()) + self.frozen_witness_vote
        witness_side = self._witness_side(components)
        for i, component in enumerate(components):
            votes = sum(frozen.get(n, 0) for n in component) + (self.frozen_witness_vote if i == witness_side else 0)
            if votes * 2 > total:
                self._form(component)
                return

    def _form(self, component: list[str]) -> None:
        self.cluster_up = True
        self.frozen_votes = None
        for node in self._ordered_nodes():
            if node.name in component:
                node.member = True
                node.state = NODE_PAUSED if node.paused else NODE_UP
        self._emit(log.quorum_formed(self.now, component[0], self.name))
        self._rebalance_votes()
        self._move_coordinators()
        for role in self._ordered_roles():
            role.information = ""
            owner = self.nodes.get(role.owner or "")
            if owner is None or not owner.member:
                self._assign_owner(role, self._choose_owner_only(role))
        self._restart_roles([r for r in self._ordered_roles() if r.wanted_running], failover=False)

    # ---- placement ----------------------------------------------------------------------------------------

    def _usable_nodes(self) -> list[Node]:
        return [n for n in self._ordered_nodes() if n.usable]

    def _allowed(self, role: Role, node: Node) -> bool:
        return not role.possible_owners or node.name in role.possible_owners

    def _anti_affinity_clash(self, role: Role, node: Node) -> bool:
        if not role.anti_affinity:
            return False
        wanted = set(role.anti_affinity)
        return any(self.roles[r].vm_state in VM_CONSUMING and wanted.intersection(self.roles[r].anti_affinity)
                   for r in node.roles if r != role.name)

    def _fits(self, role: Role, node: Node) -> bool:
        return (node.usable and self._allowed(role, node) and node.free_mb >= role.memory_mb
                and node.starts_in_flight < self.profile.max_starts_in_flight)

    def _choose_node(self, role: Role, hint: str | None = None, exclude: str | None = None,
                     usable: list[Node] | None = None) -> Node | None:
        """Where a role starts: its preferred owners first, else the Up node with the fewest roles that has the
        memory; anti-affinity honoured when any node allows it."""
        need, limit = role.memory_mb, self.profile.max_starts_in_flight
        possible = role.possible_owners
        candidates = [n for n in (usable if usable is not None else self._usable_nodes())
                      if n.name != exclude and n.memory_mb - n.memory_used_mb >= need
                      and n.starts_in_flight < limit and (not possible or n.name in possible)]
        if not candidates:
            return None
        ordered: list[str] = list(role.preferred_owners)
        if hint is not None and hint in self.nodes and hint not in ordered:
            ordered.insert(0, hint)
        for avoid_clash in (True, False):
            for name in ordered:
                node = self.nodes.get(name)
                if node in candidates and not (avoid_clash and self._anti_affinity_clash(role, node)):
                    return node
            pool = [n for n in candidates if not (avoid_clash and self._anti_affinity_clash(role, n))]
            if pool:
                return min(pool, key=lambda n: (len(n.roles), n.index))
        return None

    def _choose_owner_only(self, role: Role) -> str | None:
        """Where a role that will stay off lives: a preferred owner that is a member, else the emptiest member."""
        members = [n for n in self._ordered_nodes() if n.member and n.alive and self._allowed(role, n)]
        if not members:
            return None
        for name in role.preferred_owners:
            if any(n.name == name for n in members):
                return name
        return min(members, key=lambda n: (len(n.roles), n.index)).name

    def _assign_owner(self, role: Role, owner: str | None) -> None:
        if role.owner == owner:
            return
        if role.owner is not None and role.owner in self.nodes:
            old = self.nodes[role.owner]
            old.roles.discard(role.name)
            if role.vm_state in VM_CONSUMING:
                old.memory_used_mb -= role.memory_mb
        role.owner = owner
        if owner is not None:
            new = self.nodes[owner]
            new.roles.add(role.name)
            if role.vm_state in VM_CONSUMING:
                new.memory_used_mb += role.memory_mb

    def _set_vm(self, role: Role, vm_state: str) -> None:
        """Change a VM's state, keeping its owner's memory account right."""
        before = role.vm_state in VM_CONSUMING
        after = vm_state in VM_CONSUMING
        if role.owner is not None and before != after:
            self.nodes[role.owner].memory_used_mb += role.memory_mb if after else -role.memory_mb
        role.vm_state = vm_state

    def _fail_over_from(self, nodes: list[Node]) -> None:
        """Roles of nodes that left: High first; No Auto Start roles move and stay off."""
        moving: list[Role] = []
        for node in nodes:
            for name in sorted(node.roles):
                moving.append(self.roles[name])
        if not moving:
            return
        restart: list[Role] = []
        for role in moving:
            source = role.owner
            if role.priority == 0:
                self._assign_owner(role, self._choose_owner_only(role))
                role.state = GROUP_OFFLINE
                role.wanted_running = False
                continue
            if role.wanted_running or role.state in (GROUP_ONLINE, GROUP_PENDING):
                role.wanted_running = True
                role.drained_from = None
                restart.append(role)
            else:
                self._assign_owner(role, self._choose_owner_only(role))
            role.information = f"Failing over from {source}"
        self._restart_roles(restart, failover=True)

    def _restart_roles(self, roles: list[Role], *, failover: bool) -> None:
        """Start roles highest priority first, each on the best node at that moment (recounted each time)."""
        ordered = sorted(roles, key=lambda r: (-r.priority, r.name))
        deferred: list[Role] = []
        usable = self._usable_nodes()
        for role in ordered:
            if role.priority == 0 or role.vm_state in VM_CONSUMING:
                continue
            if failover and self._threshold_exceeded(role):
                continue
            if role.disk and self.disks[role.disk].state != "Online":
                self._fail(role, f"cluster disk {role.disk} is {self.disks[role.disk].state}")
                continue
            source = role.owner
            node = self._choose_node(role, hint=None if failover else role.owner, usable=usable)
            if node is None:
                if any(n.usable and self._allowed(role, n) and n.free_mb >= role.memory_mb
                       for n in self._ordered_nodes()):
                    deferred.append(role)  # every node with room has 32 starts in flight: next round
                    continue
                self._fail(role, f"no node has {role.memory_mb} MB of memory free")
                continue
            if failover and source is not None and source != node.name:
                self._emit(log.role_failing_over(self.now, self._reporter(), role.name, source, node.name))
            self._start_on(role, node)
        if deferred:
            self._timer(self.now + self.profile.start_seconds, "restart", tuple(r.name for r in deferred),
                        failover)

    def _timer_restart(self, names: tuple[str, ...], failover: bool) -> None:
        if self.cluster_up:
            self._restart_roles([self.roles[n] for n in names if n in self.roles], failover=failover)

    def _start_on(self, role: Role, node: Node) -> None:
        self._assign_owner(role, node.name)
        self._set_vm(role, VM_STARTING)
        role.state = GROUP_PENDING
        role.information = ""
        node.starts_in_flight += 1
        self._timer(self.now + self.profile.start_seconds, "started", role.name, node.name)

    def _timer_started(self, name: str, node_name: str) -> None:
        node = self.nodes[node_name]
        node.starts_in_flight = max(0, node.starts_in_flight - 1)
        role = self.roles.get(name)
        if role is None or role.owner != node_name or role.vm_state != VM_STARTING:
            return
        self._set_vm(role, VM_RUNNING)
        role.state = GROUP_ONLINE
        role.wanted_running = False
        self._emit(log.vm_started(self.now, node_name, name))
        self._emit(log.role_online(self.now, node_name, name))

    def _threshold_exceeded(self, role: Role) -> bool:
        threshold = role.failover_threshold
        if threshold is None:
            threshold = max(len(self.nodes) - 1, 1)
        role.failovers = [t for t in role.failovers if t > self.now - role.failover_period] + [self.now]
        if len(role.failovers) > threshold:
            role.threshold_exceeded = True
            role.state = GROUP_FAILED
            self._set_vm(role, VM_OFF)
            if role.owner is None or not self.nodes[role.owner].member:
                self._assign_owner(role, self._choose_owner_only(role))
            role.information = "Failover threshold exceeded"
            self._emit(log.threshold_exceeded(self.now, self._reporter(), role.name))
            self._timer(self.now + self.profile.failed_retry, "retry", role.name)
            return True
        return False

    def _fail(self, role: Role, why: str) -> None:
        reporter = role.owner if role.owner and self.nodes[role.owner].member else self._reporter()
        self._set_vm(role, VM_OFF)
        if role.owner is None or not self.nodes[role.owner].member:
            self._assign_owner(role, self._choose_owner_only(role))
        role.state = GROUP_FAILED
        role.wanted_running = True
        role.information = f"Failed: {why}"
        self._emit(log.resource_failed(self.now, reporter, role.name))
        self._emit(log.group_failed(self.now, reporter, role.name, why))
        self._timer(self.now + self.profile.failed_retry, "retry", role.name)

    def _timer_retry(self, name: str) -> None:
        role = self.roles.get(name)
        if role is None or role.state != GROUP_FAILED or not self.cluster_up:
            return
        role.threshold_exceeded = False
        role.failovers.clear()
        self._restart_roles([role], failover=False)

    def _retry_waiting_roles(self) -> None:
        """Capacity freed or a node joined: Failed roles (not over their threshold) try again."""
        if not self.cluster_up:
            return
        waiting = [r for r in self._ordered_roles()
                   if r.state == GROUP_FAILED and not r.threshold_exceeded and r.wanted_running
                   and not (r.disk and self.disks[r.disk].state != "Online")]
        if waiting:
            self._restart_roles(waiting, failover=False)

    # ---- moves ----------------------------------------------------------------------------------------------

    def _migration_seconds(self, role: Role, kind: str) -> float:
        gigabytes = role.memory_mb / 1024
        return max(2.0, gigabytes) if kind == "live" else max(1.0, gigabytes / 2)

    def _begin_move(self, role: Role, target: Node, kind: str) -> None:
        source = role.owner
        if role.vm_state not in VM_CONSUMING:
            self._emit(log.role_moving(self.now, self._reporter(), role.name, source or "", target.name))
            self._assign_owner(role, target.name)
            return
        role.migration_target = target.name
        role.migration_token += 1
        self._migrating.add(role.name)
        target.memory_used_mb += role.memory_mb  # reserved on the destination while the VM moves
        self._emit(log.role_moving(self.now, self._reporter(), role.name, source or "", target.name))
        if kind == "live":
            role.vm_state = VM_MIGRATING
            self._emit(log.live_migration_started(self.now, source or "", role.name, target.name))
        else:
            role.vm_state = VM_MIGRATING
            self._emit(log.vm_saved(self.now, source or "", role.name))
        seconds = self._migration_seconds(role, kind)
        self._timer(self.now + seconds, "moved", role.name, role.migration_token, kind, seconds)

    def _timer_moved(self, name: str, token: int, kind: str, seconds: float) -> None:
        role = self.roles.get(name)
        if role is None or role.migration_token != token or role.migration_target is None:
            return
        target = self.nodes[role.migration_target]
        source = role.owner or ""
        if not (target.alive and target.member):
            self._cancel_role_migration(role)
            return
        role.migration_target = None
        self._migrating.discard(role.name)
        target.memory_used_mb -= role.memory_mb
        self._assign_owner(role, target.name)
        role.vm_state = VM_RUNNING
        role.state = GROUP_ONLINE
        if kind == "live":
            self._emit(log.live_migration_sent(self.now, source, name, target.name, seconds))
            self._emit(log.live_migration_received(self.now, target.name, name, source))
        else:
            self._emit(log.vm_started(self.now, target.name, name))
        self._emit(log.role_online(self.now, target.name, name))
        self._after_move(source)

    def _cancel_migrations_with(self, node_name: str) -> None:
        for name in sorted(self._migrating):
            role = self.roles[name]
            if role.migration_target == node_name or role.owner == node_name:
                self._cancel_role_migration(role)

    # ---- drain and resume --------------------------------------------------------------------------------------

    def _after_move(self, source: str) -> None:
        node = self.nodes.get(source)
        if node is None or node.drain_status != "InProgress":
            return
        busy = [r for r in node.roles if self.roles[r].vm_state in VM_CONSUMING]
        if busy:
            return
        node.drain_status = "Completed"
        if node.shutdown_after_drain:
            node.shutdown_after_drain = False
            self._shut_down(node)

    def _drain(self, node: Node) -> None:
        node.paused = True
        node.state = NODE_PAUSED
        node.drain_status = "InProgress"
        failed = False
        for name in sorted(node.roles, key=lambda r: (-self.roles[r].priority, r)):
            role = self.roles[name]
            if role.migration_target is not None:
                continue
            target = self._choose_node(role, exclude=node.name)
            if role.vm_state not in VM_CONSUMING:
                owner = self._choose_owner_only_excluding(role, node.name)
                if owner is not None:
                    role.drained_from = node.name
                    self._assign_owner(role, owner)
                continue
            if target is None:
                failed = True
                role.information = f"Drain of {node.name} could not move it: no node has the memory"
                continue
            role.drained_from = node.name
            self._begin_move(role, target, "live" if role.priority >= 2000 else "quick")
        if failed:
            node.drain_status = "Failed"
        else:
            self._after_move(node.name)

    def _choose_owner_only_excluding(self, role: Role, excluded: str) -> str | None:
        members = [n for n in self._ordered_nodes()
                   if n.member and n.alive and not n.paused and n.name != excluded and self._allowed(role, n)]
        if not members:
            return None
        return min(members, key=lambda n: (len(n.roles), n.index)).name

    def _shut_down(self, node: Node) -> None:
        self._cancel_migrations_with(node.name)
        node.alive = False
        node.member = False
        node.state = NODE_DOWN
        node.paused = False
        node.drain_status = "NotInitiated"
        self._stop_vms_on(node)
        self._rebalance_votes()
        self._move_coordinators()
        self._fail_over_from([node])

    # ---- CSVs -------------------------------------------------------------------------------------------------

    def _move_coordinators(self) -> None:
        for disk in self.disks.values():
            owner = self.nodes.get(disk.owner or "")
            if owner is not None and owner.member and owner.alive:
                continue
            candidates = [n for n in self._ordered_nodes()
                          if n.member and n.alive and n.name not in disk.redirected]
            if candidates:
                disk.owner = candidates[0].name

    # ---- event handlers ----------------------------------------------------------------------------------------

    def _on_NodeCrash(self, e: ev.NodeCrash) -> None:
        node = self._node(e.node)
        if not node.alive:
            return
        node.alive = False
        node.paused = False
        node.drain_status = "NotInitiated"
        if node.member:
            self._schedule_membership(self.profile.detect_seconds(self.cross_subnet))
        else:
            if node.state != NODE_QUARANTINED:
                node.state = NODE_DOWN
            self._stop_vms_on(node)

    def _on_NodeShutdown(self, e: ev.NodeShutdown) -> None:
        node = self._node(e.node)
        if not node.alive:
            return
        if node.member and self.cluster_up:
            node.shutdown_after_drain = True
            self._drain(node)
        else:
            self._shut_down(node)

    def _on_NodeStart(self, e: ev.NodeStart) -> None:
        node = self._node(e.node)
        if node.alive and node.state != NODE_DOWN:
            return
        node.alive = True
        if node.quarantined_until is not None and node.quarantined_until > self.now:
            node.state = NODE_QUARANTINED
            return
        node.state = NODE_JOINING
        self._timer(self.now + self.profile.join_seconds, "joined", node.name)

    def _on_ClearQuarantine(self, e: ev.ClearQuarantine) -> None:
        self._end_quarantine(self._node(e.node))

    def _on_HeartbeatLost(self, e: ev.HeartbeatLost) -> None:
        a, b = self._node_name(e.a), self._node_name(e.b)
        self.cut.add(frozenset((a, b)))
        self._schedule_membership(self.profile.detect_seconds(self.cross_subnet))

    def _on_HeartbeatRestored(self, e: ev.HeartbeatRestored) -> None:
        self.cut.discard(frozenset((self._node_name(e.a), self._node_name(e.b))))
        self._schedule_membership(self.profile.same_subnet_delay)

    def _on_Partition(self, e: ev.Partition) -> None:
        side = [self._node_name(n) for n in e.nodes]
        others = ([self._node_name(n) for n in e.from_nodes] if e.from_nodes
                  else [n for n in self.nodes if n not in side])
        for a in side:
            for b in others:
                if a != b:
                    self.cut.add(frozenset((a, b)))
        self._schedule_membership(self.profile.detect_seconds(self.cross_subnet))

    def _on_Heal(self, e: ev.Heal) -> None:
        self.cut.clear()
        self._schedule_membership(self.profile.same_subnet_delay)

    def _on_MoveRole(self, e: ev.MoveRole) -> None:
        self._begin_move(self._role(e.role), self._node(e.node), e.type)

    def _on_Drain(self, e: ev.Drain) -> None:
        self._drain(self._node(e.node))

    def _on_Resume(self, e: ev.Resume) -> None:
        node = self._node(e.node)
        node.paused = False
        node.state = NODE_UP
        node.drain_status = "NotInitiated"
        node.shutdown_after_drain = False
        if e.failback:
            for role in self._ordered_roles():
                if role.drained_from != node.name:
                    continue
                role.drained_from = None
                if role.migration_target is None and role.owner != node.name and (
                        role.vm_state not in VM_CONSUMING or node.free_mb >= role.memory_mb):
                    self._begin_move(role, node, "live" if role.priority >= 2000 else "quick")
        self._retry_waiting_roles()

    def _on_DiskFail(self, e: ev.DiskFail) -> None:
        disk = self._disk(e.disk)
        if disk.state == "Failed":
            return
        disk.state = "Failed"
        reporter = disk.owner or self._reporter()
        if disk.csv_path:
            self._emit(log.csv_paused(self.now, reporter, disk.volume_name, disk.name, "STATUS_DEVICE_NOT_CONNECTED"))
        for role in self._ordered_roles():
            if role.disk == disk.name and (role.vm_state in VM_CONSUMING or role.state == GROUP_PENDING):
                self._cancel_role_migration(role)
                self._fail(role, f"cluster disk {disk.name} failed")
        if disk.witness:
            self._rebalance_votes()

    def _cancel_role_migration(self, role: Role) -> None:
        if role.migration_target is not None:
            self.nodes[role.migration_target].memory_used_mb -= role.memory_mb
            role.migration_target = None
            role.migration_token += 1
            role.vm_state = VM_RUNNING
            self._migrating.discard(role.name)

    def _on_DiskRepair(self, e: ev.DiskRepair) -> None:
        disk = self._disk(e.disk)
        if disk.state == "Online":
            return
        disk.state = "Online"
        if disk.witness:
            self._rebalance_votes()
        self._retry_waiting_roles()

    def _on_StoragePathLost(self, e: ev.StoragePathLost) -> None:
        node, disk = self._node(e.node), self._disk(e.disk)
        if node.name in disk.redirected:
            return
        disk.redirected.add(node.name)
        self._emit(log.csv_redirected(self.now, node.name, disk.volume_name, disk.name))
        if disk.owner == node.name:
            direct = [n for n in self._ordered_nodes()
                      if n.member and n.alive and n.name not in disk.redirected]
            if direct:
                disk.owner = direct[0].name

    def _on_StoragePathRestored(self, e: ev.StoragePathRestored) -> None:
        node, disk = self._node(e.node), self._disk(e.disk)
        if node.name not in disk.redirected:
            return
        disk.redirected.discard(node.name)
        self._emit(log.csv_direct_again(self.now, node.name, disk.volume_name, disk.name))

    def _role_from_spec(self, spec: RoleSpec) -> Role:
        return Role(spec.name, spec.memory_mb, spec.cpus, spec.disk, None, spec.priority,
                    preferred_owners=[self._node_name(n) for n in spec.preferred_owners],
                    possible_owners=[self._node_name(n) for n in spec.possible_owners],
                    anti_affinity=list(spec.anti_affinity), failover_threshold=spec.failover_threshold,
                    failover_period=spec.failover_period_hours * 3600, failback=spec.failback)

    def _add_role(self, spec: RoleSpec, *, initial: bool = False) -> Role:
        role = self._role_from_spec(spec)
        self.roles[role.name] = role
        if spec.disk and spec.disk_gb:
            path = self._default_vhd_path(spec.disk, spec.name)
            self.disks[spec.disk].vhds[path] = int(spec.disk_gb * GB)
            role.vhds[path] = int(spec.disk_gb * GB)
        owner = self._node_name(spec.owner) if spec.owner else None
        if spec.state == VM_RUNNING:
            node = (self.nodes[owner] if owner and (initial or self._fits(role, self.nodes[owner]))
                    else self._choose_node(role, owner))
            if node is None:
                raise NotEnoughMemory(f"no node has {role.memory_mb} MB free for {role.name}")
            if initial:
                if node.free_mb < role.memory_mb:
                    raise SpecError(f"roles.{role.name}", f"node {node.name} has not enough memory for it")
                self._assign_owner(role, node.name)
                self._set_vm(role, VM_RUNNING)
                role.state = GROUP_ONLINE
            else:
                self._start_on(role, node)
        else:
            self._assign_owner(role, owner or self._choose_owner_only(role))
            role.vm_state = VM_SAVED if spec.state == VM_SAVED else VM_OFF
            role.state = GROUP_OFFLINE
        return role

    def _default_vhd_path(self, disk: str, role: str) -> str:
        base = self.disks[disk].csv_path or f"\\\\{disk}"
        return f"{base}\\{role}\\{role}.vhdx"

    def _on_AddRole(self, e: ev.AddRole) -> None:
        self._add_role(e.role)

    def _on_RemoveRole(self, e: ev.RemoveRole) -> None:
        role = self._role(e.role)
        self._assign_owner(role, None)
        for path in list(role.vhds):
            for disk in self.disks.values():
                if path in disk.vhds and path == self._default_vhd_path(disk.name, role.name):
                    del disk.vhds[path]
        del self.roles[role.name]
        self._retry_waiting_roles()

    def _on_StartRole(self, e: ev.StartRole) -> None:
        role = self._role(e.role)
        role.threshold_exceeded = False
        role.failovers.clear()
        node = self._choose_node(role, role.owner)
        assert node is not None  # checked
        self._start_on(role, node)

    def _on_StopRole(self, e: ev.StopRole) -> None:
        role = self._role(e.role)
        node = role.owner or self._reporter()
        was_on = role.vm_state in VM_CONSUMING
        if role.owner is not None and role.vm_state == VM_STARTING:
            self.nodes[role.owner].starts_in_flight = max(0, self.nodes[role.owner].starts_in_flight - 1)
        self._set_vm(role, VM_OFF)
        role.state = GROUP_OFFLINE
        role.wanted_running = False
        role.threshold_exceeded = False
        role.information = ""
        if was_on:
            self._emit(log.vm_turned_off(self.now, node, role.name))
        self._retry_waiting_roles()

    def _on_RestartRole(self, e: ev.RestartRole) -> None:
        role = self._role(e.role)
        node = role.owner or self._reporter()
        self._emit(log.vm_turned_off(self.now, node, role.name))
        self._emit(log.vm_started(self.now, node, role.name))

    def _on_SetRolePriority(self, e: ev.SetRolePriority) -> None:
        self._role(e.role).priority = e.priority

    def _on_UpdateRoleResources(self, e: ev.UpdateRoleResources) -> None:
        role = self._role(e.role)
        role.memory_mb = e.memory_mb
        role.cpus = e.cpus

    def _on_CreateVhd(self, e: ev.CreateVhd) -> None:
        self.disks[e.disk].vhds[e.path] = e.size_bytes
        if e.role is not None:
            self.roles[e.role].vhds[e.path] = e.size_bytes

    def _on_ResizeVhd(self, e: ev.ResizeVhd) -> None:
        disk = self._vhd_disk(e.path)
        disk.vhds[e.path] = e.size_bytes
        for role in self.roles.values():
            if e.path in role.vhds:
                role.vhds[e.path] = e.size_bytes

    def _on_DeleteVhd(self, e: ev.DeleteVhd) -> None:
        del self._vhd_disk(e.path).vhds[e.path]

    def _on_AttachVhd(self, e: ev.AttachVhd) -> None:
        self.roles[e.role].vhds[e.path] = self._vhd_disk(e.path).vhds[e.path]

    def _on_DetachVhd(self, e: ev.DetachVhd) -> None:
        del self.roles[e.role].vhds[e.path]

    def _on_Tick(self, e: ev.Tick) -> None:
        return

    # ---- invariants (used by the property tests) ----------------------------------------------------------------

    def check_invariants(self) -> None:
        owners: dict[str, str] = {}
        for node in self.nodes.values():
            for name in node.roles:
                if name in owners:
                    raise AssertionError(f"role {name} owned by {owners[name]} and {node.name}")
                owners[name] = node.name
                if self.roles[name].owner != node.name:
                    raise AssertionError(f"role {name} indexed on {node.name} but owned by {self.roles[name].owner}")
        for role in self.roles.values():
            if role.vm_state in VM_CONSUMING:
                if role.owner is None:
                    raise AssertionError(f"role {role.name} runs nowhere")
                node = self.nodes[role.owner]
                if not node.alive and not node.member:  # a crash not yet noticed still shows the role up
                    raise AssertionError(f"role {role.name} runs on dead node {node.name}")
                if role.vm_state != VM_UNMONITORED and not (self.cluster_up and node.member):
                    raise AssertionError(f"role {role.name} runs on {node.name} outside a quorate membership")
        for node in self.nodes.values():
            used = sum(self.roles[r].memory_mb for r in node.roles if self.roles[r].vm_state in VM_CONSUMING)
            used += sum(r.memory_mb for r in self.roles.values() if r.migration_target == node.name)
            if used != node.memory_used_mb:
                raise AssertionError(f"node {node.name} memory account {node.memory_used_mb} != {used}")
            if used > node.memory_mb:
                raise AssertionError(f"node {node.name} runs {used} MB of VMs with {node.memory_mb} MB")

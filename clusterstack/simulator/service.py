"""The live simulated cluster: the failover engine on a real clock, Hyper-V VM details, a change feed.

Everything runs on one asyncio loop, so engine calls need no lock. A timer task sleeps until the engine's
next deadline (or until something changes) and fires it; every change bumps the feed's cursor and wakes
long-polling clients at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clusterstack.failover import Cluster, ClusterError, ClusterSpec, LogEntry, RoleSpec
from clusterstack.failover import events as ev
from clusterstack.failover.model import VM_CONSUMING
from clusterstack.simulator.clock import SimClock
from clusterstack.simulator.node_endpoints import NodeEndpoint

if TYPE_CHECKING:
    from clusterstack.simulator.winrm.endpoints import WinRMConfig, WinRMEndpoints

log = logging.getLogger("clusterstack.simulator")


@dataclass
class VmDetails:
    """What Hyper-V knows of a VM beyond the cluster role: its NICs; for a VM made with New-VM also its
    generation and path, and while it is not clustered (no role of its name) the node it is on, its memory,
    processors and hard drives (a clustered VM's are its role's)."""

    nics: list[dict[str, Any]] = field(default_factory=list)
    node: str | None = None  # the node of a VM that is not clustered
    memory_mb: int = 0
    cpus: int = 1
    generation: int = 2
    path: str = ""
    drives: list[str] = field(default_factory=list)  # VHD paths of a VM that is not clustered, in controller order


# Which Windows event log an engine entry's provider writes to.
EVENT_LOG_OF_SOURCE = {"Microsoft-Windows-FailoverClustering": "System",
                       "Microsoft-Windows-Hyper-V-VMMS": "Microsoft-Windows-Hyper-V-VMMS-Admin"}
EVENT_LOG_KEEP = 5000  # records kept per node and log


class SimulatedCluster:
    def __init__(self, spec: ClusterSpec, *, host: str = "127.0.0.1", port: int = 8081, speed: float = 1.0,
                 state_file: Path | None = None, winrm: WinRMConfig | None = None) -> None:
        self.state_file = state_file
        self.clock = SimClock(speed)
        restored = self._restore() if state_file is not None else None
        # Windows event logs: (node, log name) -> [(record id, time, entry)], and each log's last record id
        self.event_logs: dict[tuple[str, str], list[tuple[int, float, LogEntry]]] = {}
        self.event_record_ids: dict[tuple[str, str], int] = {}
        self.vhd_types: dict[str, tuple[str, str | None]] = {}  # VHD path -> (Fixed|Dynamic|Differencing, parent)
        if restored is not None:
            self.cluster, self.vms, self.log, self.cursor = restored[:4]
            self.event_logs, self.event_record_ids, self.vhd_types = restored[4]
            self.clock = SimClock(speed, start=self.cluster.now)
        else:
            self.cluster = Cluster.from_spec(spec, now=0.0)
            self.vms: dict[str, VmDetails] = {r.name: VmDetails() for r in spec.roles}
            self.log: list[tuple[int, float, LogEntry]] = []
            self.cursor = 0
        self.host = host
        self.endpoints = {
            node.name: NodeEndpoint(host, port + 1 + node.index, lambda n=node.name: self.describe_node(n))
            for node in sorted(self.cluster.nodes.values(), key=lambda n: n.index)
        }
        self._changed = asyncio.Event()
        self._endpoint_sync = asyncio.Lock()
        self._wake_timer = asyncio.Event()
        self._timer_task: asyncio.Task[None] | None = None
        self._save_task: asyncio.Task[None] | None = None
        # WinRM (docs/hyperv-cmdlets.md): the cluster name and every node answer PowerShell remoting when asked.
        self.winrm: WinRMEndpoints | None = None
        if winrm is not None:
            from clusterstack.simulator.winrm.endpoints import WinRMEndpoints

            self.winrm = WinRMEndpoints(self, winrm)

    # ---- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._sync_endpoints()
        self._timer_task = asyncio.create_task(self._run_timers())

    async def stop(self) -> None:
        if self._timer_task is not None:
            self._timer_task.cancel()
        for endpoint in self.endpoints.values():
            await endpoint.close()
        if self.winrm is not None:
            await self.winrm.close()
        self._save()

    # ---- changing the cluster ------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def apply(self, event: Any) -> list[LogEntry]:
        """Apply one event now; a refused one raises ClusterError and changes nothing."""
        entries = self.cluster.apply(event, self.now())
        self._changed_now(entries)
        return entries

    def _changed_now(self, entries: list[LogEntry]) -> None:
        for entry in entries:
            self.cursor += 1
            self.log.append((self.cursor, entry.time, entry))
            self._write_event_log(entry)
        self.cursor += 1
        self._changed.set()
        self._changed = asyncio.Event()
        self._wake_timer.set()
        self._schedule_endpoint_sync()
        self._schedule_save()

    def _write_event_log(self, entry: LogEntry) -> None:
        """Each node numbers the records of each of its logs itself, from 1."""
        node = entry.node if entry.node in self.cluster.nodes else self.cluster._reporter()
        key = (node, EVENT_LOG_OF_SOURCE.get(entry.source, "Application"))
        record_id = self.event_record_ids.get(key, 0) + 1
        self.event_record_ids[key] = record_id
        records = self.event_logs.setdefault(key, [])
        records.append((record_id, entry.time, entry))
        if len(records) > 2 * EVENT_LOG_KEEP:
            del records[:-EVENT_LOG_KEEP]

    async def _run_timers(self) -> None:
        while True:
            deadline = self.cluster.next_deadline()
            self._wake_timer.clear()
            wait = None if deadline is None else self.clock.wall_seconds_until(deadline)
            try:
                await asyncio.wait_for(self._wake_timer.wait(), timeout=wait)
                continue
            except TimeoutError:
                pass
            entries = self.cluster.advance(self.now())
            self._changed_now(entries)

    async def wait_for_change(self, since: int, timeout: float) -> int:
        if self.cursor != since:
            return self.cursor
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=timeout)
        return self.cursor

    async def wait_for_role_change(self, name: str, seen: tuple[str | None, ...], timeout: float) -> None:
        """Return once role `name` is gone or its (state, vm_state, owner node) differ from `seen`, or after
        `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            role = self.cluster.roles.get(name)
            if role is None or (role.state, role.vm_state, role.owner) != seen:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=remaining)

    # ---- node endpoints follow the machines ----------------------------------------------------------------

    def _schedule_endpoint_sync(self) -> None:
        asyncio.get_running_loop().create_task(self._sync_endpoints())

    async def settle(self) -> None:
        """Bring node endpoints in line with the machines now (a crashed node refuses before we answer)."""
        await self._sync_endpoints()

    async def _sync_endpoints(self) -> None:
        """One sync at a time: two at once (a change schedules one while `settle` runs another) both saw a node
        endpoint closed and both bound it, the second failing with 'address already in use'."""
        async with self._endpoint_sync:
            await self._sync_endpoints_now()

    async def _sync_endpoints_now(self) -> None:
        for name, endpoint in self.endpoints.items():
            alive = self.cluster.nodes[name].alive
            if alive and not endpoint.listening:
                try:
                    await endpoint.open()
                except OSError as exc:
                    log.error("node %s cannot listen on %s: %s", name, endpoint.address, exc)
            elif not alive and endpoint.listening:
                await endpoint.close()
        if self.winrm is not None:
            await self.winrm.sync()

    def winrm_addresses(self) -> dict[str, Any] | None:
        """{"cluster": url, "nodes": {name: url}, "ca_file": path} (and "http" when plain HTTP is on), or None
        when the simulator answers no WinRM."""
        return self.winrm.addresses() if self.winrm is not None else None

    # ---- persistence ---------------------------------------------------------------------------------------

    def _restore(self) -> tuple[Any, ...] | None:
        assert self.state_file is not None
        if not self.state_file.exists():
            return None
        with self.state_file.open("rb") as handle:
            data = pickle.load(handle)
        windows = (data.get("event_logs", {}), data.get("event_record_ids", {}), data.get("vhd_types", {}))
        return data["cluster"], data["vms"], data["log"], data["cursor"], windows

    def _schedule_save(self) -> None:
        if self.state_file is None or (self._save_task is not None and not self._save_task.done()):
            return

        async def later() -> None:
            await asyncio.sleep(0.2)
            self._save()

        self._save_task = asyncio.get_running_loop().create_task(later())

    def _save(self) -> None:
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pickle.dump({"cluster": self.cluster, "vms": self.vms, "log": self.log[-5000:], "cursor": self.cursor,
                         "event_logs": {k: v[-EVENT_LOG_KEEP:] for k, v in self.event_logs.items()},
                         "event_record_ids": self.event_record_ids, "vhd_types": self.vhd_types}, handle)
        temporary.replace(self.state_file)

    # ---- reports ------------------------------------------------------------------------------------------

    def describe_node(self, name: str) -> dict[str, Any]:
        node = self.cluster.nodes[name]
        return {
            "name": node.name, "state": node.state, "assigned_vote": node.assigned_vote,
            "current_vote": node.current_vote, "memory_mb": node.memory_mb, "memory_used_mb": node.memory_used_mb,
            "cpus": node.cpus, "address": self.endpoints[name].address, "drain_status": node.drain_status,
            "vms": [r for r in sorted(node.roles) if self.cluster.roles[r].vm_state in VM_CONSUMING],
        }

    def describe_role(self, name: str, disk_of: dict[str, str] | None = None) -> dict[str, Any]:
        """One role; `disk_of` (VHD path -> disk) saves a report from searching every disk for every role."""
        role = self.cluster.roles[name]
        if disk_of is None:
            disk_of = {p: d.name for d in self.cluster.disks.values() for p in role.vhds if p in d.vhds}
        return {
            "name": role.name, "type": "Virtual Machine", "state": role.state, "vm_state": role.vm_state,
            "owner_node": role.owner, "priority": role.priority, "priority_name": role.priority_name,
            "memory_mb": role.memory_mb, "cpus": role.cpus, "disk": role.disk,
            "vhds": [{"path": p, "size_bytes": s, "disk": disk_of.get(p)} for p, s in sorted(role.vhds.items())],
            "nics": self.vms.get(name, VmDetails()).nics, "information": role.information,
            "preferred_owners": role.preferred_owners, "anti_affinity": role.anti_affinity,
            "migrating_to": role.migration_target,
            # how the cluster fails it over (a failover rehearsal reads these)
            "possible_owners": role.possible_owners, "failover_threshold": role.failover_threshold,
            "failover_period_hours": role.failover_period / 3600,
            "recent_failovers": sum(1 for t in role.failovers if t > self.cluster.now - role.failover_period),
        }

    def describe_disk(self, name: str) -> dict[str, Any]:
        disk = self.cluster.disks[name]
        return {
            "name": disk.name, "state": disk.state, "assigned_to": disk.assigned_to, "owner_node": disk.owner,
            "disk_number": disk.number, "capacity_bytes": disk.capacity_bytes, "free_bytes": disk.free_bytes,
            "path": disk.csv_path, "redirected_nodes": sorted(disk.redirected),
            "vhds": [{"path": p, "size_bytes": s} for p, s in sorted(disk.vhds.items())],
        }

    def report(self) -> dict[str, Any]:
        c = self.cluster
        disk_of = {path: disk.name for disk in c.disks.values() for path in disk.vhds}
        return {
            "name": c.name,
            "profile": c.profile.name,
            "dynamic_quorum": c.dynamic_quorum,
            "time": self.now(),
            "quorum": c.quorum_state(),
            "nodes": [self.describe_node(n.name) for n in sorted(c.nodes.values(), key=lambda n: n.index)],
            "roles": [self.describe_role(name, disk_of) for name in sorted(c.roles)],
            "disks": [self.describe_disk(name) for name in c.disks],
            "cursor": self.cursor,
        }

    def events_since(self, since: int, limit: int) -> list[dict[str, Any]]:
        out = []
        for seq, at, entry in self.log:
            if seq <= since:
                continue
            out.append({"seq": seq, "time": self.clock.timestamp(at).isoformat(), "sim_time": at,
                        **{k: v for k, v in entry.to_dict().items() if k != "time"}})
            if len(out) >= limit:
                break
        return out

    # ---- operations the driver asks for ---------------------------------------------------------------------

    def create_vm(self, body: dict[str, Any]) -> dict[str, Any]:
        """New-VM + Add-ClusterVirtualMachineRole: the VHDs, the role, and (optionally) a start; all or nothing."""
        name = str(body.get("name") or "")
        vhds = list(body.get("vhds") or [])
        disk = vhds[0].get("disk") if vhds else None
        if disk is None and vhds:
            disk = self.disk_of_path(str(vhds[0].get("path", "")))
        spec = RoleSpec(name=name, memory_mb=int(body.get("memory_mb", 0)), cpus=int(body.get("cpus", 0)),
                        disk=disk, owner=body.get("node"), priority=int(body.get("priority", 2000)), state="Off",
                        preferred_owners=list(body.get("preferred_owners") or []))
        done: list[Any] = []
        try:
            done.append(self.apply(ev.AddRole(spec)))
            for vhd in vhds:
                path = str(vhd["path"])
                target = vhd.get("disk") or self.disk_of_path(path)
                self.apply(ev.CreateVhd(target, path, int(vhd["size_bytes"]), name))
                done.append(path)
            if body.get("start", True):
                self.apply(ev.StartRole(name))
        except ClusterError:
            for path in reversed([d for d in done if isinstance(d, str)]):
                self.cluster.apply(ev.DetachVhd(name, path), self.now())
                self.cluster.apply(ev.DeleteVhd(path), self.now())
            if name in self.cluster.roles:
                self.cluster.apply(ev.RemoveRole(name), self.now())
            raise
        self.vms[name] = VmDetails(nics=list(body.get("nics") or []))
        return self.describe_role(name)

    def disk_of_path(self, path: str) -> str:
        lowered = path.lower()
        for disk in self.cluster.disks.values():
            if disk.csv_path and lowered.startswith(disk.csv_path.lower().rstrip("\\") + "\\"):
                return disk.name
        raise ClusterError(f"{path} is not on a Cluster Shared Volume of {self.cluster.name}")

    def remove_vm(self, name: str) -> None:
        role = self.cluster.roles.get(name)
        if role is not None:
            for path in sorted(role.vhds):
                self.apply(ev.DetachVhd(name, path))
                self.apply(ev.DeleteVhd(path))
        self.apply(ev.RemoveRole(name))
        self.vms.pop(name, None)

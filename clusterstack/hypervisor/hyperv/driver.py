"""The Hyper-V failover-cluster driver: FailoverClusters and Hyper-V cmdlets over PowerShell remoting.

Where calls go: the cluster's own address (its network name) first; when it does not answer, any node, since
every node of a cluster answers for the cluster. Node addresses come from the operator (the hosts' URLs) or
from the cluster's network interfaces (Get-ClusterNetworkInterface), on the cluster address's scheme and port.
Hyper-V cmdlets name the node they act on with -ComputerName. Event logs are read on each node itself.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from clusterstack.hypervisor.base import (
    PRIORITY_MEDIUM,
    AlreadyExists,
    AuthenticationFailed,
    ClusterEventReport,
    ClusterReport,
    ClusterUnreachable,
    Credentials,
    CursorExpired,
    DiskReport,
    DriverError,
    DriverOptions,
    EventFilter,
    EventPage,
    FailoverClusterDriver,
    InvalidState,
    NodeReport,
    NodeUnreachable,
    NotFound,
    OperationTimeout,
    QuorumLost,
    QuorumReport,
    RoleReport,
    VhdReport,
    VhdSpec,
    VmSpec,
)
from clusterstack.hypervisor.hyperv import reports
from clusterstack.hypervisor.hyperv.commands import Cmdlet, Pipeline, wql_string
from clusterstack.hypervisor.hyperv.connection import ConnectionPool, Endpoint, Output
from clusterstack.hypervisor.hyperv.objects import boolean, enum_name, number, prop, text, timestamp, type_names

log = logging.getLogger("clusterstack.hypervisor.hyperv")

EVENT_LOGS = (("System", "Microsoft-Windows-FailoverClustering"),
              ("Microsoft-Windows-Hyper-V-VMMS-Admin", "Microsoft-Windows-Hyper-V-VMMS"))
LEVELS = {1: "Critical", 2: "Error", 3: "Warning", 4: "Information", 5: "Verbose", 0: "Information"}
MEMBER_STATES = ("Up", "Paused")
REACHABLE_STATES = ("Up", "Paused", "Joining")
T = TypeVar("T")
# What a report reads of each object, and nothing more: a VM or a group carries dozens of properties, and at a
# thousand roles decoding them was most of a report's cost
GROUP_FIELDS = ("Name", "OwnerNode", "State", "Priority", "GroupType", "FailoverThreshold", "FailoverPeriod",
                "AntiAffinityClassNames")
VM_FIELDS = ("Name", "State", "Status", "ComputerName", "MemoryStartup", "ProcessorCount")
DRIVE_FIELDS = ("VMName", "Path", "ControllerType", "ControllerNumber", "ControllerLocation")
VHD_FIELDS = ("Path", "Size")


def _select(fields: tuple[str, ...]) -> Cmdlet:
    return Cmdlet.of("Select-Object", Property=list(fields))


GROUPS = (Cmdlet.of("Get-ClusterGroup"), _select(GROUP_FIELDS))


def _group_named(name: str) -> tuple[Cmdlet, ...]:
    return Cmdlet.of("Get-ClusterGroup", Name=name), _select(GROUP_FIELDS)


def _type_name(name: str) -> str:
    """A type name without the prefixes remoting and Select-Object add (Deserialized., Selected.)."""
    return name.removeprefix("Deserialized.").removeprefix("Selected.")


def _of_type(objects: Iterable[Any], suffix: str) -> list[Any]:
    wanted = f"PowerShell.{suffix}"
    return [o for o in objects if any(_type_name(t).endswith(wanted) for t in type_names(o))]


class HyperVDriver(FailoverClusterDriver):
    """A Windows Server failover cluster reached over WinRM at `address` (https://cluster:5986)."""

    def __init__(self, address: str, credentials: Credentials | None, options: DriverOptions | None = None) -> None:
        if credentials is None or not credentials.username:
            raise AuthenticationFailed(f"a Hyper-V failover cluster ({address}) needs a user name and a password")
        self.address = address
        self.options = options or DriverOptions()
        self._credentials = credentials
        self._endpoint = Endpoint.parse(address)
        self._lock = threading.Lock()
        self._connections: dict[str, ConnectionPool] = {}
        self._given_nodes = {name.lower(): Endpoint.parse(url) for name, url in self.options.node_addresses}
        self._found_nodes: dict[str, Endpoint] = {}
        self._preferred: Endpoint | None = None
        self._last: ClusterReport | None = None
        self._fingerprint: tuple[Any, ...] | None = None
        self._sizes: dict[str, int] = {}  # VHD path (lower case) -> virtual size, as last read
        self._changes = 0

    def __repr__(self) -> str:
        return f"HyperVDriver({self.address!r}, user={self._credentials.username!r})"

    # ---- where calls go ------------------------------------------------------------------------------------

    def _connection(self, endpoint: Endpoint) -> ConnectionPool:
        with self._lock:
            found = self._connections.get(endpoint.url)
            if found is None:
                found = self._connections[endpoint.url] = ConnectionPool(endpoint, self._credentials, self.options)
            return found

    def _node_endpoint(self, node: str) -> Endpoint | None:
        key = node.lower()
        return self._given_nodes.get(key) or self._found_nodes.get(key)

    def _candidates(self) -> list[Endpoint]:
        with self._lock:
            ordered = [self._preferred, self._endpoint, *self._given_nodes.values(), *self._found_nodes.values()]
        seen: set[str] = set()
        out = []
        for endpoint in ordered:
            if endpoint is not None and endpoint.url not in seen:
                seen.add(endpoint.url)
                out.append(endpoint)
        return out

    def _cluster(self, pipeline: Pipeline) -> Output:
        """Run on the cluster: its own address, or the first node that answers."""
        failures = []
        for endpoint in self._candidates():
            try:
                output = self._connection(endpoint).run(pipeline)
            except (ClusterUnreachable, OperationTimeout) as exc:
                failures.append(str(exc))
                continue
            if self._preferred != endpoint:
                with self._lock:
                    self._preferred = endpoint
                if endpoint != self._endpoint:
                    log.warning("Failover cluster at %s answers through %s", self.address, endpoint.url)
            return output
        raise ClusterUnreachable(f"failover cluster at {self.address} does not answer, nor does any node it is "
                                 f"known by: {'; '.join(failures)}")

    def _objects(self, *cmdlets: Cmdlet) -> list[Any]:
        return self._cluster(Pipeline.of(*cmdlets)).objects

    def _do(self, *cmdlets: Cmdlet) -> None:
        self._cluster(Pipeline.of(*cmdlets))

    # ---- reading -------------------------------------------------------------------------------------------

    def report(self) -> ClusterReport:
        try:
            return self._report()
        except QuorumLost:
            return self._report_without_quorum()

    def _report(self) -> ClusterReport:
        first = self._cluster(Pipeline((
            (Cmdlet.of("Get-Cluster"),), (Cmdlet.of("Get-ClusterQuorum"),), (Cmdlet.of("Get-ClusterNode"),), GROUPS,
            (Cmdlet.of("Get-ClusterSharedVolume"),), (Cmdlet.of("Get-ClusterNetworkInterface"),),
        ))).objects
        cluster = _one(_of_type(first, "Cluster"), "Get-Cluster")
        quorum = _one(_of_type(first, "ClusterQuorumSettings"), "Get-ClusterQuorum")
        nodes = _of_type(first, "ClusterNode")
        groups = [g for g in _of_type(first, "ClusterGroup") if reports.is_vm_group(g)]
        volumes = _of_type(first, "ClusterSharedVolume")
        self._learn_addresses(_of_type(first, "ClusterNetworkInterface"))
        reachable = [text(prop(n, "Name")) for n in nodes if reports.node_state(n) in REACHABLE_STATES]
        witness = text(prop(quorum, "QuorumResource"))

        second: list[Cmdlet | tuple[Cmdlet, ...]] = [
            (Cmdlet.of("Get-VM", ComputerName=reachable), _select(VM_FIELDS)),
            (Cmdlet.of("Get-VM", ComputerName=reachable), Cmdlet.of("Get-VMHardDiskDrive"), _select(DRIVE_FIELDS)),
            Cmdlet.of("Get-VMHost", ComputerName=reachable),
                  Cmdlet.of("Get-VMHostNumaNode", ComputerName=reachable)]
        second += [_partition_of(text(prop(v, "Name"))) for v in volumes]
        if volumes:
            second.append(Cmdlet.of("Get-ClusterSharedVolumeState"))
        # disk numbers: each disk's GPT GUID (a private property of its resource) against the storage's disks
        second += [(Cmdlet.of("Get-ClusterSharedVolume", Name=text(prop(v, "Name"))),
                    Cmdlet.of("Get-ClusterParameter", Name=["DiskIdGuid"])) for v in volumes]
        if witness:
            second.append((Cmdlet.of("Get-ClusterResource", Name=witness),
                           Cmdlet.of("Get-ClusterParameter", Name=["DiskIdGuid"])))
        if volumes or witness:
            second.append(Cmdlet.of("Get-Disk"))
        if witness:
            second.append(Cmdlet.of("Get-ClusterResource", Name=witness))
        out = self._cluster(Pipeline(tuple((c,) if not isinstance(c, tuple) else c for c in second)))
        vms = {text(prop(v, "Name")): reports.vm_facts(v) for v in _of_hyperv(out.objects, "VirtualMachine")}
        facts = reports.host_facts(_of_hyperv(out.objects, "Host"), _of_hyperv(out.objects, "VMHostNumaNode"))
        partitions = [p for p in out.objects if prop(p, "FriendlyVolumeName") is not None]  # in the CSVs' order
        witness_resources = _of_type(out.objects, "ClusterResource")
        witness_online = any(enum_name(prop(r, "State")) == "Online" for r in witness_resources)
        drives = _of_hyperv(out.objects, "HardDiskDrive")
        redirected = reports.redirected_nodes(_of_type(out.objects, "ClusterSharedVolumeStateInfo"))
        numbers = reports.disk_numbers(_of_type(out.objects, "ClusterParameter"), _of_cim(out.objects, "MSFT_Disk"))
        disks = tuple(reports.csv_report(v, p, redirected.get(text(prop(v, "Name")), ()),
                                         numbers.get(text(prop(v, "Name")), 0))
                      for v, p in zip(volumes, partitions + [None] * len(volumes), strict=False))
        disks += tuple(reports.witness_report(r, numbers.get(text(prop(r, "Name")), 0)) for r in witness_resources
                       if text(prop(r, "ResourceType")) == "Physical Disk")
        vhds = self._vhds(drives, disks)

        node_reports = tuple(reports.node_report(n, facts.get(text(prop(n, "Name")).lower()),
                                                 self._address_of(text(prop(n, "Name")))) for n in nodes)
        witness_vote = number(prop(cluster, "WitnessDynamicWeight")) if witness else 0
        member_votes = sum(n.current_vote for n in node_reports if n.state in MEMBER_STATES)
        total = sum(n.current_vote for n in node_reports) + witness_vote
        quorum_report = QuorumReport(state="Up", model=text(prop(quorum, "QuorumType"), "NodeMajority"),
                                     votes=member_votes + (witness_vote if witness_online else 0),
                                     votes_needed=total // 2 + 1)
        last = self._last
        roles = tuple(sorted((reports.role_report(g, vms.get(text(prop(g, "Name"))),
                                                  vhds.get(text(prop(g, "Name")), ()),
                                                  last.role(text(prop(g, "Name"))) if last is not None else None)
                              for g in groups), key=lambda r: r.name))
        report = ClusterReport(name=text(prop(cluster, "Name")), quorum=quorum_report, nodes=node_reports,
                               roles=roles, disks=disks, cursor=self._note_change(node_reports, roles),
                               profile=reports.profile_of(cluster),
                               dynamic_quorum=number(prop(cluster, "DynamicQuorum"), 1) != 0)
        self._last = report
        return report

    def _vhds(self, drives: list[Any], disks: tuple[DiskReport, ...],
              known_sizes: bool = False) -> dict[str, tuple[VhdReport, ...]]:
        """The VHDs of each VM from its drives, with their sizes (Get-VHD): all asked again for a report, only the
        unknown ones for a role (the driver learns a size whenever it makes, resizes or reads a VHD)."""
        paths = sorted({text(prop(d, "Path")) for d in drives if text(prop(d, "Path"))})
        with self._lock:
            sizes = dict(self._sizes) if known_sizes else {}
        wanted = [p for p in paths if p.lower() not in sizes]
        if wanted:
            for vhd in self._cluster(Pipeline.of(Cmdlet.of("Get-VHD", Path=wanted), _select(VHD_FIELDS))).objects:
                sizes[text(prop(vhd, "Path")).lower()] = number(prop(vhd, "Size"))
            with self._lock:
                self._sizes.update((p.lower(), sizes[p.lower()]) for p in wanted if p.lower() in sizes)
        out: dict[str, list[VhdReport]] = {}
        for drive in drives:
            path, vm = text(prop(drive, "Path")), text(prop(drive, "VMName"))
            if path:
                out.setdefault(vm, []).append(VhdReport(path, sizes.get(path.lower(), 0),
                                                        reports.disk_of_path(disks, path), vm))
        return {vm: tuple(sorted(items, key=lambda v: v.path)) for vm, items in out.items()}

    def _report_without_quorum(self) -> ClusterReport:
        """No quorum: the Cluster service is down everywhere; Hyper-V still answers on each running node."""
        last = self._last
        if last is None:
            raise QuorumLost(f"failover cluster at {self.address} has lost quorum: the Cluster service is not running")
        answering = {n.name for n in last.nodes if self._answers(n.name)}
        states: dict[str, str] = {}
        try:
            output = self._cluster(Pipeline.of(Cmdlet.of("Get-VM", ComputerName=sorted(answering))))
            states = {text(prop(v, "Name")): reports.vm_facts(v).state for v in output.objects}
        except DriverError:
            pass
        nodes = tuple(replace(n, state="Joining" if n.name in answering else "Down", current_vote=0)
                      for n in last.nodes)
        roles = tuple(replace(r, vm_state=states.get(r.name, "Off"),
                              state="Online" if states.get(r.name) == "Running" else "Offline") for r in last.roles)
        quorum = QuorumReport("Lost", last.quorum.model, 0, last.quorum.votes_needed)
        report = replace(last, quorum=quorum, nodes=nodes, roles=roles, cursor=self._note_change(nodes, roles))
        return report

    def _note_change(self, nodes: Iterable[NodeReport], roles: Iterable[RoleReport]) -> int:
        return self._count((tuple(sorted((n.name, n.state, n.drain_status or "") for n in nodes)),
                            tuple(sorted((r.name, r.state, r.owner_node or "") for r in roles))))

    def _count(self, fingerprint: tuple[Any, ...]) -> int:
        """The change counter the follower's cursors are: it moves when the nodes' states or the roles' states
        and owners differ from what the last report or poll saw (both see them alike)."""
        with self._lock:
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                self._changes += 1
            return self._changes

    def _learn_addresses(self, interfaces: list[Any]) -> None:
        """Node addresses from the cluster's network interfaces. A cluster reached on a loopback address (a
        simulator, an SSH tunnel) is trusted only for loopback node addresses: others are not reachable from
        here, and are given explicitly (the hosts' URLs) when they are."""
        found = {}
        local = _is_loopback(self._endpoint.host)
        for interface in interfaces:
            node, address = text(prop(interface, "Node")), text(prop(interface, "Address"))
            if node and address and node.lower() not in found and (not local or _is_loopback(address)):
                found[node.lower()] = self._endpoint.with_host(address)
        with self._lock:
            self._found_nodes.update(found)

    def _address_of(self, node: str) -> str | None:
        endpoint = self._node_endpoint(node)
        return endpoint.url if endpoint is not None else None

    def _answers(self, node: str) -> bool:
        endpoint = self._node_endpoint(node)
        if endpoint is None:
            return False
        try:
            with socket.create_connection((endpoint.host, endpoint.port), timeout=1.0):
                return True
        except OSError:
            return False

    def role(self, name: str) -> RoleReport | None:
        """One role in one round trip: its group, and its VM and drives asked of every node that answered the last
        report (the nodes without it say so, harmlessly); drive sizes from what the driver knows, asked only for
        a drive it has not seen."""
        nodes = self._reachable_nodes()
        try:
            out = self._cluster(Pipeline((
                _group_named(name),
                (Cmdlet.of("Get-VM", Name=name, ComputerName=nodes), _select(VM_FIELDS)),
                (Cmdlet.of("Get-VM", Name=name, ComputerName=nodes), Cmdlet.of("Get-VMHardDiskDrive"),
                 _select(DRIVE_FIELDS)),
            )))
        except NotFound:
            return None
        group = _one(_of_type(out.objects, "ClusterGroup"), "Get-ClusterGroup")
        owner = text(prop(group, "OwnerNode"))
        found = [v for v in _of_hyperv(out.objects, "VirtualMachine") if text(prop(v, "ComputerName")) == owner]
        vm = reports.vm_facts(found[0]) if found else None
        drives = _of_hyperv(out.objects, "HardDiskDrive") if found else []
        vhds = self._vhds(drives, self._disks(), known_sizes=True).get(name, ())
        return reports.role_report(group, vm, vhds, self._last.role(name) if self._last is not None else None)

    def _known(self) -> ClusterReport:
        """The last report read (its nodes and disks change seldom), or a new one when there is none yet."""
        return self._last or self.report()

    def _reachable_nodes(self) -> list[str]:
        return [n.name for n in self._known().nodes if n.state in REACHABLE_STATES]

    def node(self, name: str) -> NodeReport | None:
        try:
            out = self._cluster(Pipeline.each([
                Cmdlet.of("Get-ClusterNode", Name=name), Cmdlet.of("Get-VMHost", ComputerName=[name]),
                Cmdlet.of("Get-VMHostNumaNode", ComputerName=[name])]))
        except NotFound:
            return None
        node = _one(_of_type(out.objects, "ClusterNode"), "Get-ClusterNode")
        facts = reports.host_facts(_of_hyperv(out.objects, "Host"), _of_hyperv(out.objects, "VMHostNumaNode"))
        return reports.node_report(node, facts.get(name.lower()), self._address_of(name))

    def wait_for_role_change(self, seen: RoleReport, timeout: float) -> RoleReport | None:
        """WinRM has no change notification: ask for the role every poll interval until it changed."""
        return self._poll(lambda: self.role(seen.name),
                          lambda role: role is None or (role.state, role.vm_state, role.owner_node) !=
                          (seen.state, seen.vm_state, seen.owner_node), timeout)

    def wait_for_change(self, since: int, timeout: float) -> int:
        """The cluster's groups and nodes, asked every poll interval, until they differ from what was seen."""
        def cursor() -> int:
            out = self._cluster(Pipeline(((Cmdlet.of("Get-ClusterNode"),), GROUPS)))
            nodes = tuple(sorted((text(prop(n, "Name")), reports.node_state(n),
                                  enum_name(prop(n, "DrainStatus"), "NotInitiated"))
                                 for n in _of_type(out.objects, "ClusterNode")))
            groups = tuple(sorted((text(prop(g, "Name")), enum_name(prop(g, "State"), "Offline"),
                                   text(prop(g, "OwnerNode"))) for g in _of_type(out.objects, "ClusterGroup")
                                  if reports.is_vm_group(g)))
            return self._count((nodes, groups))

        try:
            return self._poll(cursor, lambda value: value != since, timeout)
        except QuorumLost:
            time.sleep(min(timeout, self.options.poll_interval))
            return self.report().cursor

    def _poll(self, ask: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = ask()
            remaining = deadline - time.monotonic()
            if done(value) or remaining <= 0:
                return value
            time.sleep(min(self.options.poll_interval, remaining))

    def liveness_endpoint(self, node: str) -> tuple[str, int] | None:
        endpoint = self._node_endpoint(node)
        return (endpoint.host, endpoint.port) if endpoint is not None else None

    def ping_node(self, node: str) -> NodeReport:
        """Does the node itself answer (its WinRM port accepts a connection)? Cheap: no request, no query."""
        endpoint = self._node_endpoint(node)
        if endpoint is None:
            self.report()
            endpoint = self._node_endpoint(node)
        if endpoint is None:
            raise NotFound(f"node {node} is not a node of the failover cluster at {self.address}")
        try:
            with socket.create_connection((endpoint.host, endpoint.port), timeout=1.0):
                pass
        except OSError as exc:
            raise NodeUnreachable(node, endpoint.url, exc.strerror or str(exc)) from None
        last = self._last.node(node) if self._last is not None else None
        return last or NodeReport(node, "Up", 0, 0, 0, 0, 0, endpoint.url)

    # ---- events --------------------------------------------------------------------------------------------

    def read_events(self, cursor: str | None = None, limit: int = 1000,
                    where: EventFilter | None = None) -> EventPage:
        """Each node's System (FailoverClustering) and Hyper-V-VMMS logs, merged by time. The cursor holds,
        per node and log, the last record id read; a log whose newest record is older than that was cleared."""
        positions = _decode_cursor(cursor)
        nodes = [n.name for n in self._known().nodes]
        entries: list[tuple[ClusterEventReport, str, str]] = []
        for node in nodes:
            endpoint = self._node_endpoint(node)
            if endpoint is None or not self._answers(node):
                continue
            for log_name, provider in EVENT_LOGS:
                key = f"{node.lower()}|{log_name}"
                after = positions.get(key, 0)
                newest = self._newest_record(endpoint, log_name)
                if newest < after:
                    raise CursorExpired(f"the {log_name} log of node {node} was cleared (its newest record is "
                                        f"{newest}, the cursor was at {after})")
                if newest == after:
                    continue
                for record in self._records(endpoint, log_name, after):
                    if text(prop(record, "ProviderName")) != provider:
                        continue
                    entries.append((_event(record, node), key, log_name))
        entries.sort(key=lambda item: (item[0].time, item[0].node, item[0].record_id))
        kept: list[ClusterEventReport] = []
        moved = dict(positions)
        for entry, key, _ in entries:
            if len(kept) >= limit:
                break
            moved[key] = max(moved.get(key, 0), entry.record_id)
            if where is None or where.keeps(entry):
                kept.append(replace(entry, seq=len(kept) + 1))
        return EventPage(tuple(kept), _encode_cursor(moved))

    def _newest_record(self, endpoint: Endpoint, log_name: str) -> int:
        try:
            records = self._connection(endpoint).run(
                Pipeline.of(Cmdlet.of("Get-WinEvent", LogName=log_name, MaxEvents=1))).objects
        except NotFound:
            return 0
        return number(prop(records[0], "RecordId")) if records else 0

    def _records(self, endpoint: Endpoint, log_name: str, after: int) -> list[Any]:
        try:
            return self._connection(endpoint).run(Pipeline.of(Cmdlet.of(
                "Get-WinEvent", LogName=log_name, FilterXPath=f"*[System[EventRecordID>{int(after)}]]",
                Oldest=True))).objects
        except NotFound:
            return []

    # ---- virtual machines ----------------------------------------------------------------------------------

    def create_vm(self, spec: VmSpec) -> RoleReport:
        existing = self.role(spec.name)
        if existing is not None:
            raise AlreadyExists(f"the failover cluster at {self.address} already has a role named {spec.name}",
                                existing)
        node = spec.node or self._first_up_node()
        made: list[Callable[[], None]] = []
        try:
            self._create_disks(spec, node, made)
            node = self._create_machine(spec, node, made)
            self._objects(Cmdlet.of("Add-ClusterVirtualMachineRole", VMName=spec.name, Name=spec.name))
            made.append(lambda: self._do(Cmdlet.of("Remove-ClusterGroup", Name=spec.name, RemoveResources=True,
                                                   Force=True)))
            if spec.priority != PRIORITY_MEDIUM:
                self.set_priority(spec.name, spec.priority)
            if spec.preferred_owners:
                self._do(Cmdlet.of("Set-ClusterOwnerNode", Group=spec.name, Owners=list(spec.preferred_owners)))
            if spec.start:
                self._do(Cmdlet.of("Start-ClusterGroup", Name=spec.name, Wait=0))
        except DriverError:
            for undo in reversed(made):
                try:
                    undo()
                except DriverError as exc:
                    log.error("Undoing a failed New-VM of %s on %s: %s", spec.name, node, exc)
            raise
        role = self.role(spec.name)
        if role is None:
            raise NotFound(f"role {spec.name} vanished right after it was made")
        return role

    def _first_up_node(self) -> str:
        for node in self._known().nodes:
            if node.state == "Up":
                return node.name
        raise QuorumLost(f"failover cluster at {self.address} has no node Up")

    def _create_disks(self, spec: VmSpec, node: str, made: list[Callable[[], None]]) -> None:
        for index, vhd in enumerate(spec.vhds):
            if index == 0 and spec.template_vhd and spec.root_disk == "differencing":
                cmdlet = Cmdlet.of("New-VHD", Path=vhd.path, ParentPath=spec.template_vhd, Differencing=True,
                                   ComputerName=node)
            else:
                cmdlet = Cmdlet.of("New-VHD", Path=vhd.path, SizeBytes=vhd.size_bytes, Dynamic=True, ComputerName=node)
            try:
                self._do(cmdlet)
            except AlreadyExists:
                log.info("Adopting %s, left by an earlier attempt to create %s", vhd.path, spec.name)
            made.append(lambda path=vhd.path: self._do(Cmdlet.of("Remove-Item", Path=path)))

    def _unclustered_vm(self, name: str) -> str | None:
        """The node of a VM named `name` that is not (yet) a role, if any node has one."""
        nodes = self._reachable_nodes()
        found = self._cluster(Pipeline.of(Cmdlet.of("Get-VM", Name=name, ComputerName=nodes),
                                          _select(VM_FIELDS))).objects
        return text(prop(found[0], "ComputerName")) or None if found else None

    def _create_machine(self, spec: VmSpec, node: str, made: list[Callable[[], None]]) -> str:
        """New-VM and its processors, drives and NICs on `node` (or where an earlier attempt left the VM);
        answers the node the VM is on."""
        folder = spec.path or (_folder_of(spec.vhds[0].path) if spec.vhds else None)
        boot = spec.vhds[0].path if spec.vhds else None
        left = self._unclustered_vm(spec.name)
        if left is not None:  # an earlier attempt (its server died) made the VM but not the role: adopt it
            log.info("Adopting VM %s on %s, left by an earlier attempt", spec.name, left)
            node = left
            made.append(lambda: self._do(Cmdlet.of("Remove-VM", Name=spec.name, Force=True, ComputerName=node)))
            self._do(Cmdlet.of("Set-VMProcessor", VMName=spec.name, Count=spec.cpus, ComputerName=node))
            return node
        self._do(Cmdlet.of("New-VM", Name=spec.name, MemoryStartupBytes=spec.memory_mb * reports.MB,
                           Generation=spec.generation, Path=folder, VHDPath=boot, NoVHD=boot is None,
                           ComputerName=node))
        made.append(lambda: self._do(Cmdlet.of("Remove-VM", Name=spec.name, Force=True, ComputerName=node)))
        self._do(Cmdlet.of("Set-VMProcessor", VMName=spec.name, Count=spec.cpus, ComputerName=node))
        for vhd in spec.vhds[1:]:
            self._do(Cmdlet.of("Add-VMHardDiskDrive", VMName=spec.name, Path=vhd.path, ComputerName=node))
        if spec.nics:  # New-VM gives every VM an unconnected "Network Adapter": the spec's NICs replace it
            self._do(Cmdlet.of("Remove-VMNetworkAdapter", VMName=spec.name, Name="Network Adapter", ComputerName=node))
        for nic in spec.nics:
            self._do(Cmdlet.of("Add-VMNetworkAdapter", VMName=spec.name, Name=nic.name, SwitchName=nic.switch,
                               StaticMacAddress=nic.mac_address, ComputerName=node))
            if nic.vlan_id is not None:
                self._do(Cmdlet.of("Set-VMNetworkAdapterVlan", VMName=spec.name, VMNetworkAdapterName=nic.name,
                                   Access=True, VlanId=nic.vlan_id, ComputerName=node))
        return node

    def _owner(self, name: str) -> str:
        group = _one(self._objects(Cmdlet.of("Get-ClusterGroup", Name=name)), "Get-ClusterGroup")
        owner = text(prop(group, "OwnerNode"))
        if not owner:
            raise NotFound(f"role {name} has no owner node")
        return owner

    def _role_now(self, name: str) -> RoleReport:
        role = self.role(name)
        if role is None:
            raise NotFound(f"The cluster group '{name}' was not found.")
        return role

    def start_vm(self, name: str) -> RoleReport:
        self._do(Cmdlet.of("Start-ClusterGroup", Name=name, Wait=0))
        return self._role_now(name)

    def stop_vm(self, name: str, force: bool = False) -> RoleReport:
        if force:
            self._do(Cmdlet.of("Stop-VM", Name=name, TurnOff=True, Force=True, ComputerName=[self._owner(name)]))
        else:
            self._do(Cmdlet.of("Stop-ClusterGroup", Name=name, Wait=0))
        return self._role_now(name)

    def reboot_vm(self, name: str) -> RoleReport:
        self._do(Cmdlet.of("Restart-VM", Name=name, Force=True, ComputerName=[self._owner(name)]))
        return self._role_now(name)

    def remove_vm(self, name: str) -> None:
        owner = self._owner(name)
        drives = self._objects(Cmdlet.of("Get-VMHardDiskDrive", VMName=name, ComputerName=[owner]))
        self._do(Cmdlet.of("Remove-ClusterGroup", Name=name, RemoveResources=True, Force=True))
        self._do(Cmdlet.of("Remove-VM", Name=name, Force=True, ComputerName=[owner]))
        for drive in drives:
            path = text(prop(drive, "Path"))
            if path:
                self._do(Cmdlet.of("Remove-Item", Path=path))

    def move_vm(self, name: str, node: str, migration_type: str = "live") -> RoleReport:
        kind = {"live": "Live", "quick": "Quick"}.get(migration_type.lower())
        if kind is None:
            raise DriverError(f"unknown migration type {migration_type}: live or quick")
        self._do(Cmdlet.of("Move-ClusterVirtualMachineRole", Name=name, Node=node, MigrationType=kind, Wait=0))
        return self._role_now(name)

    def set_priority(self, name: str, priority: int) -> RoleReport:
        """WSFC has no cmdlet for a group's common properties: set Priority through its WMI class."""
        self._do(Cmdlet.of("Get-CimInstance", Namespace="root/MSCluster", ClassName="MSCluster_ResourceGroup",
                           Filter=f"Name={wql_string(name)}"),
                 Cmdlet.of("Set-CimInstance", Property={"Priority": int(priority)}))
        return self._role_now(name)

    def set_resources(self, name: str, cpus: int, memory_mb: int) -> RoleReport:
        owner = [self._owner(name)]
        self._cluster(Pipeline.each([
            Cmdlet.of("Set-VMProcessor", VMName=name, Count=cpus, ComputerName=owner),
            Cmdlet.of("Set-VMMemory", VMName=name, StartupBytes=memory_mb * reports.MB, ComputerName=owner)]))
        return self._role_now(name)

    # ---- nodes ---------------------------------------------------------------------------------------------

    def _node_now(self, name: str) -> NodeReport:
        node = self.node(name)
        if node is None:
            raise NotFound(f"The cluster node '{name}' was not found.")
        return node

    def drain_node(self, node: str) -> NodeReport:
        self._do(Cmdlet.of("Suspend-ClusterNode", Name=node, Drain=True))
        return self._node_now(node)

    def resume_node(self, node: str, failback: bool = False) -> NodeReport:
        self._do(Cmdlet.of("Resume-ClusterNode", Name=node, Failback="Immediate" if failback else "NoFailback"))
        return self._node_now(node)

    def clear_quarantine(self, node: str) -> NodeReport:
        found = self._node_now(node)
        if found.state != "Quarantined":  # Windows starts a node that is not quarantined; the contract refuses
            raise InvalidState(f"node {found.name} is {found.state}, not Quarantined: there is no quarantine to clear")
        self._do(Cmdlet.of("Start-ClusterNode", Name=found.name, ClearQuarantine=True, ErrorAction="Stop"))
        return self._node_now(found.name)

    # ---- virtual hard disks --------------------------------------------------------------------------------

    def _disks(self) -> tuple[DiskReport, ...]:
        return self._known().disks

    def _vhd(self, obj: Any, attached_to: str | None = None) -> VhdReport:
        path = text(prop(obj, "Path"))
        with self._lock:
            self._sizes[path.lower()] = number(prop(obj, "Size"))
        return VhdReport(path, number(prop(obj, "Size")), reports.disk_of_path(self._disks(), path),
                         attached_to)

    def create_vhd(self, spec: VhdSpec) -> VhdReport:
        self._do(Cmdlet.of("New-VHD", Path=spec.path, SizeBytes=spec.size_bytes, Dynamic=True))
        return self._vhd(_one(self._objects(Cmdlet.of("Get-VHD", Path=[spec.path])), "Get-VHD"))

    def attach_vhd(self, vm: str, path: str) -> VhdReport:
        self._do(Cmdlet.of("Add-VMHardDiskDrive", VMName=vm, Path=path, ComputerName=[self._owner(vm)]))
        return self._vhd(_one(self._objects(Cmdlet.of("Get-VHD", Path=[path])), "Get-VHD"), vm)

    def detach_vhd(self, vm: str, path: str) -> VhdReport:
        owner = [self._owner(vm)]
        drives = self._objects(Cmdlet.of("Get-VMHardDiskDrive", VMName=vm, ComputerName=owner))
        drive = next((d for d in drives if text(prop(d, "Path")).lower() == path.lower()), None)
        if drive is None:
            raise NotFound(f"{path} is not attached to {vm}")
        self._do(Cmdlet.of("Remove-VMHardDiskDrive", VMName=vm, ControllerType=enum_name(prop(drive, "ControllerType")),
                           ControllerNumber=number(prop(drive, "ControllerNumber")),
                           ControllerLocation=number(prop(drive, "ControllerLocation")), ComputerName=owner))
        return self._vhd(_one(self._objects(Cmdlet.of("Get-VHD", Path=[path])), "Get-VHD"))

    def resize_vhd(self, path: str, size_bytes: int) -> VhdReport:
        self._do(Cmdlet.of("Resize-VHD", Path=path, SizeBytes=size_bytes))
        return self._vhd(_one(self._objects(Cmdlet.of("Get-VHD", Path=[path])), "Get-VHD"))

    def delete_vhd(self, path: str) -> None:
        self._do(Cmdlet.of("Remove-Item", Path=path))
        with self._lock:
            self._sizes.pop(path.lower(), None)

    # ---- checks --------------------------------------------------------------------------------------------

    def features(self) -> dict[str, bool]:
        """Whether Failover-Clustering and Hyper-V are installed (Get-WindowsFeature) where the driver answers."""
        found = self._objects(Cmdlet.of("Get-WindowsFeature", Name=["Failover-Clustering", "Hyper-V"]))
        return {text(prop(f, "Name")): boolean(prop(f, "Installed")) for f in found}

    def close(self) -> None:
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            connection.close()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _one(objects: list[Any], command: str) -> Any:
    if not objects:
        raise NotFound(f"{command} answered nothing")
    return objects[0]


def _of_hyperv(objects: Iterable[Any], kind: str) -> list[Any]:
    wanted = f".{kind}"
    modules = ("Microsoft.HyperV.", "Microsoft.Vhd.")
    return [o for o in objects
            if any(_type_name(t).startswith(modules) and t.endswith(wanted) for t in type_names(o))]


def _of_cim(objects: Iterable[Any], cim_class: str) -> list[Any]:
    wanted = f"/{cim_class}"
    return [o for o in objects if any(t.startswith("Microsoft.Management.Infrastructure.CimInstance#")
                                      and t.endswith(wanted) for t in type_names(o))]


def _partition_of(volume: str) -> tuple[Cmdlet, ...]:
    return (Cmdlet.of("Get-ClusterSharedVolume", Name=volume),
            Cmdlet.of("Select-Object", ExpandProperty="SharedVolumeInfo"),
            Cmdlet.of("Select-Object", Property=["FriendlyVolumeName"], ExpandProperty="Partition"))


def _folder_of(path: str) -> str:
    return path.rsplit("\\", 1)[0] if "\\" in path else path


def _event(record: Any, node: str) -> ClusterEventReport:
    level = number(prop(record, "Level"), 4)
    return ClusterEventReport(
        seq=0, time=timestamp(prop(record, "TimeCreated")), source=text(prop(record, "ProviderName")),
        id=number(prop(record, "Id")), level=text(prop(record, "LevelDisplayName")) or LEVELS.get(level, "Information"),
        node=node, message=text(prop(record, "Message")),  # the log's node (MachineName is its FQDN)
        record_id=number(prop(record, "RecordId")))


def _encode_cursor(positions: dict[str, int]) -> str:
    return "winrm:" + base64.urlsafe_b64encode(json.dumps(positions, sort_keys=True).encode()).decode()


def _decode_cursor(cursor: str | None) -> dict[str, int]:
    if cursor is None:
        return {}
    kind, _, body = cursor.partition(":")
    try:
        if kind != "winrm":
            raise ValueError(kind)
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        return {str(k): int(v) for k, v in data.items()}
    except (ValueError, TypeError, AttributeError):
        raise CursorExpired(f"event cursor {cursor[:40]!r} is not one of this driver's") from None

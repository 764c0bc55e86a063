"""The driver for a simulated failover cluster: the simulator's HTTP API (docs/simulator-api.md).

The management server knows it only through base.FailoverClusterDriver; nothing here imports the simulator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from clusterstack.hypervisor.base import (
    AlreadyExists,
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
    NotEnoughMemory,
    NotFound,
    OperationTimeout,
    QuorumLost,
    QuorumReport,
    RoleReport,
    VhdReport,
    VhdSpec,
    VmSpec,
)

_ERRORS: dict[str, type[DriverError]] = {
    "not_found": NotFound,
    "quorum_lost": QuorumLost,
    "not_enough_memory": NotEnoughMemory,
    "invalid_state": InvalidState,
    "bad_request": DriverError,
}


def _node(data: dict[str, Any]) -> NodeReport:
    return NodeReport(
        name=data["name"],
        state=data["state"],
        assigned_vote=int(data.get("assigned_vote", 0)),
        current_vote=int(data.get("current_vote", 0)),
        memory_mb=int(data.get("memory_mb", 0)),
        memory_used_mb=int(data.get("memory_used_mb", 0)),
        cpus=int(data.get("cpus", 0)),
        address=data.get("address"),
        drain_status=data.get("drain_status"),
    )


def _vhd(data: dict[str, Any], attached_to: str | None = None) -> VhdReport:
    return VhdReport(path=data["path"], size_bytes=int(data.get("size_bytes", 0)), disk=data.get("disk"),
                     attached_to=data.get("attached_to", attached_to))


def _role(data: dict[str, Any]) -> RoleReport:
    return RoleReport(
        name=data["name"],
        state=data.get("state", "Offline"),
        vm_state=data.get("vm_state", "Off"),
        owner_node=data.get("owner_node"),
        priority=int(data.get("priority", 0)),
        memory_mb=int(data.get("memory_mb", 0)),
        cpus=int(data.get("cpus", 0)),
        vhds=tuple(_vhd(v, data["name"]) for v in data.get("vhds", [])),
        information=data.get("information") or "",
        preferred_owners=tuple(data.get("preferred_owners") or ()),
        possible_owners=tuple(data.get("possible_owners") or ()),
        anti_affinity=tuple(data.get("anti_affinity") or ()),
        failover_threshold=None if data.get("failover_threshold") is None else int(data["failover_threshold"]),
        failover_period_hours=float(data.get("failover_period_hours", 6.0)),
        recent_failovers=int(data.get("recent_failovers", 0)),
    )


def _disk(data: dict[str, Any]) -> DiskReport:
    return DiskReport(
        name=data["name"],
        state=data.get("state", "Offline"),
        assigned_to=data.get("assigned_to", ""),
        owner_node=data.get("owner_node"),
        disk_number=int(data.get("disk_number", 0)),
        capacity_bytes=int(data.get("capacity_bytes", 0)),
        free_bytes=int(data.get("free_bytes", 0)),
        path=data.get("path"),
        redirected_nodes=tuple(data.get("redirected_nodes") or ()),
    )


def _time(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).astimezone()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _segment(name: str) -> str:
    """A role's or node's name as one URL path segment: whatever it contains stays data."""
    return quote(name, safe="")


def _sequence_of(cursor: str | None) -> int:
    if cursor is None:
        return 0
    kind, _, number = cursor.partition(":")
    if kind != "sim" or not number.isdigit():
        raise CursorExpired(f"event cursor {cursor!r} is not one of this simulator's")
    return int(number)


RoleCache = dict[str, tuple[dict[str, Any], RoleReport]]


def _roles(raw_roles: list[dict[str, Any]], known: RoleCache) -> tuple[tuple[RoleReport, ...], RoleCache]:
    """The roles of a report, reusing the RoleReport of every role whose JSON is what it was last time (most
    of them: a follower reads the full report on every change, and one change touches a role or two)."""
    seen: RoleCache = {}
    roles = []
    for raw in raw_roles:
        hit = known.get(raw["name"])
        role = hit[1] if hit is not None and hit[0] == raw else _role(raw)
        seen[role.name] = (raw, role)
        roles.append(role)
    return tuple(roles), seen


def parse_report(data: dict[str, Any], known: RoleCache | None = None) -> tuple[ClusterReport, RoleCache]:
    quorum = data.get("quorum") or {}
    roles, seen = _roles(data.get("roles", []), known or {})
    return ClusterReport(
        name=data["name"],
        quorum=QuorumReport(state=quorum.get("state", "Lost"), model=quorum.get("model", ""),
                            votes=int(quorum.get("votes", 0)), votes_needed=int(quorum.get("votes_needed", 0))),
        nodes=tuple(_node(n) for n in data.get("nodes", [])),
        roles=roles,
        disks=tuple(_disk(d) for d in data.get("disks", [])),
        cursor=int(data.get("cursor", 0)),
        profile=data.get("profile"),
        dynamic_quorum=bool(data.get("dynamic_quorum", True)),
    ), seen


class SimulatorDriver(FailoverClusterDriver):
    """A failover cluster simulated by `clusterstack sim serve`, reached at `address` (http://host:port).

    The simulator's JSON API has no authentication (it listens on loopback for the CLI and tests); credentials
    are accepted for the seam's sake and not sent. Its event cursor is the simulator's change sequence.
    """

    def __init__(self, address: str, credentials: Credentials | None = None,
                 options: DriverOptions | None = None) -> None:
        self.address = address.rstrip("/")
        self.options = options or DriverOptions(timeout=10.0)
        self._client = httpx.Client(base_url=self.address, timeout=self.options.timeout)
        self._node_client = httpx.Client(timeout=httpx.Timeout(2.0, connect=1.0))
        self._node_addresses: dict[str, str] = {}
        self._known_roles: RoleCache = {}
        self._async_client: httpx.AsyncClient | None = None

    # ---- plumbing ----------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
              timeout: float | None = None) -> Any:
        try:
            response = self._client.request(method, path, json=json, params=params,
                                            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        except httpx.TimeoutException as exc:
            raise OperationTimeout(f"failover cluster at {self.address} did not answer in time: {exc}") from None
        except httpx.TransportError as exc:
            raise ClusterUnreachable(f"failover cluster at {self.address} does not answer: {exc}") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            kind = body.get("error", "bad_request") if isinstance(body, dict) else "bad_request"
            message = body.get("message") if isinstance(body, dict) else None
            raise _ERRORS.get(kind, DriverError)(message or f"{method} {path}: HTTP {response.status_code}")
        if not response.content:
            return None
        return response.json()

    # ---- reading -----------------------------------------------------------------------------------------

    def report(self) -> ClusterReport:
        report, self._known_roles = parse_report(self._call("GET", "/cluster"), self._known_roles)
        self._node_addresses = {n.name.lower(): n.address for n in report.nodes if n.address}
        return report

    def role(self, name: str) -> RoleReport | None:
        try:
            return _role(self._call("GET", f"/roles/{_segment(name)}"))
        except NotFound:
            return None

    def wait_for_role_change(self, seen: RoleReport, timeout: float) -> RoleReport | None:
        """The simulator's long poll: it answers the moment the role's state, VM state or owner changes."""
        params = {"wait": timeout, "state": seen.state, "vm_state": seen.vm_state}
        if seen.owner_node is not None:
            params["owner_node"] = seen.owner_node
        try:
            return _role(self._call("GET", f"/roles/{_segment(seen.name)}", params=params, timeout=timeout + 5))
        except NotFound:
            return None

    def read_events(self, cursor: str | None = None, limit: int = 1000,
                    where: EventFilter | None = None) -> EventPage:
        since = _sequence_of(cursor)
        kept: list[ClusterEventReport] = []
        while True:
            data = self._call("GET", "/events", params={"since": since, "limit": limit})
            entries = data.get("events", []) if isinstance(data, dict) else data
            current = int(data.get("cursor", since)) if isinstance(data, dict) else since
            if current < since:
                raise CursorExpired(f"the event log of the failover cluster at {self.address} was started afresh "
                                    f"(it is at {current}, the cursor at {since})")
            for e in entries:
                entry = ClusterEventReport(seq=int(e["seq"]), time=_time(e["time"]), source=e["source"],
                                           id=int(e["id"]), level=e["level"], node=e.get("node", ""),
                                           message=e["message"], record_id=int(e["seq"]))
                since = entry.seq
                if where is None or where.keeps(entry):
                    kept.append(entry)
            if len(kept) >= limit:
                return EventPage(tuple(kept[:limit]), f"sim:{kept[limit - 1].seq}")
            if len(entries) < limit:
                return EventPage(tuple(kept), f"sim:{since}")

    def wait_for_change(self, since: int, timeout: float) -> int:
        data = self._call("GET", "/changes", params={"since": since, "timeout": timeout}, timeout=timeout + 5)
        return int(data["cursor"])

    async def await_change(self, since: int, timeout: float) -> int:
        """The simulator's long poll (GET /changes), on an asynchronous client kept for the calling event loop."""
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(base_url=self.address, timeout=self.options.timeout)
        try:
            response = await self._async_client.get("/changes", params={"since": since, "timeout": timeout},
                                                    timeout=timeout + 5)
        except httpx.TimeoutException as exc:
            raise OperationTimeout(f"failover cluster at {self.address} did not answer in time: {exc}") from None
        except httpx.TransportError as exc:
            raise ClusterUnreachable(f"failover cluster at {self.address} does not answer: {exc}") from None
        if response.status_code >= 400:
            raise DriverError(f"GET /changes: HTTP {response.status_code}")
        return int(response.json()["cursor"])

    async def aclose(self) -> None:
        client, self._async_client = self._async_client, None
        if client is not None:
            await client.aclose()

    def liveness_endpoint(self, node: str) -> tuple[str, int] | None:
        address = self._node_addresses.get(node.lower())
        if address is None:
            return None
        url = httpx.URL(address)
        return url.host, url.port or 80

    def ping_node(self, node: str) -> NodeReport:
        address = self._node_addresses.get(node.lower())
        if address is None:
            self.report()
            address = self._node_addresses.get(node.lower())
        if address is None:
            raise NotFound(f"node {node} is not a node of the failover cluster at {self.address}")
        try:
            response = self._node_client.get(address.rstrip("/") + "/")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            detail = "No route to host" if isinstance(exc, httpx.TransportError) else str(exc)
            raise NodeUnreachable(node, address, detail) from None
        return _node(response.json())

    # ---- virtual machines --------------------------------------------------------------------------------

    def create_vm(self, spec: VmSpec) -> RoleReport:
        body = {
            "name": spec.name, "cpus": spec.cpus, "memory_mb": spec.memory_mb, "priority": spec.priority,
            "vhds": [{"path": v.path, "size_bytes": v.size_bytes, "disk": v.disk} for v in spec.vhds],
            "nics": [{"name": n.name, "mac_address": n.mac_address, "switch": n.switch} for n in spec.nics],
            "node": spec.node, "start": spec.start, "preferred_owners": list(spec.preferred_owners),
        }
        try:
            return _role(self._call("POST", "/roles", json=body))
        except InvalidState as exc:
            existing = self.role(spec.name)
            if existing is not None:
                raise AlreadyExists(str(exc), existing) from None
            raise

    def _role_action(self, name: str, action: str, body: dict[str, Any] | None = None) -> RoleReport:
        return _role(self._call("POST", f"/roles/{_segment(name)}/{action}", json=body or {}))

    def start_vm(self, name: str) -> RoleReport:
        return self._role_action(name, "start")

    def stop_vm(self, name: str, force: bool = False) -> RoleReport:
        return self._role_action(name, "stop", {"force": force})

    def reboot_vm(self, name: str) -> RoleReport:
        return self._role_action(name, "restart")

    def remove_vm(self, name: str) -> None:
        self._call("DELETE", f"/roles/{_segment(name)}")

    def move_vm(self, name: str, node: str, migration_type: str = "live") -> RoleReport:
        return self._role_action(name, "move", {"node": node, "type": migration_type})

    def set_priority(self, name: str, priority: int) -> RoleReport:
        return _role(self._call("PATCH", f"/roles/{_segment(name)}", json={"priority": priority}))

    def set_resources(self, name: str, cpus: int, memory_mb: int) -> RoleReport:
        return _role(self._call("PATCH", f"/roles/{_segment(name)}", json={"cpus": cpus, "memory_mb": memory_mb}))

    # ---- nodes -------------------------------------------------------------------------------------------

    def drain_node(self, node: str) -> NodeReport:
        return _node(self._call("POST", f"/nodes/{_segment(node)}/drain", json={}))

    def resume_node(self, node: str, failback: bool = False) -> NodeReport:
        return _node(self._call("POST", f"/nodes/{_segment(node)}/resume", json={"failback": failback}))

    def clear_quarantine(self, node: str) -> NodeReport:
        return _node(self._call("POST", f"/nodes/{_segment(node)}/clear-quarantine", json={}))

    # ---- VHDs --------------------------------------------------------------------------------------------

    def create_vhd(self, spec: VhdSpec) -> VhdReport:
        return _vhd(self._call("POST", "/vhds", json={"disk": spec.disk, "path": spec.path,
                                                      "size_bytes": spec.size_bytes}))

    def attach_vhd(self, vm: str, path: str) -> VhdReport:
        return _vhd(self._call("POST", f"/roles/{_segment(vm)}/vhds/attach", json={"path": path}), vm)

    def detach_vhd(self, vm: str, path: str) -> VhdReport:
        return _vhd(self._call("POST", f"/roles/{_segment(vm)}/vhds/detach", json={"path": path}))

    def resize_vhd(self, path: str, size_bytes: int) -> VhdReport:
        return _vhd(self._call("POST", "/vhds/resize", json={"path": path, "size_bytes": size_bytes}))

    def delete_vhd(self, path: str) -> None:
        self._call("POST", "/vhds/delete", json={"path": path})

    def features(self) -> dict[str, bool]:
        """A simulated node is a Hyper-V failover-cluster node by construction: both features are installed."""
        return {"Failover-Clustering": True, "Hyper-V": True}

    def close(self) -> None:
        self._client.close()
        self._node_client.close()

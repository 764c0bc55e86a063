"""Pods: createPod, listPods, updatePod, deletePod. A pod is a zone's rack: gateway, netmask, a management IP range."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.commands.capacity import Scope, capacity_list
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import in_use, param_error
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import filter_row_id, find_by_uuid, keyword_pattern, matches_value
from clusterstack.server.api.params import needed_here
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.base import new_uuid, utcnow
from clusterstack.server.db.models.infrastructure import ALLOCATION_STATES, Pod, Zone
from clusterstack.server.db.references import describe_usages, usages

define_entity("pod", [
    ("id", "string", "the ID of the Pod"),
    ("name", "string", "the name of the Pod"),
    ("zoneid", "string", "the Zone ID of the Pod"),
    ("zonename", "string", "the Zone name of the Pod"),
    ("gateway", "string", "the gateway of the Pod"),
    ("netmask", "string", "the netmask of the Pod"),
    ("startip", "list", "the starting IP for the Pod"),
    ("endip", "list", "the ending IP for the Pod"),
    ("forsystemvms", "list", "indicates if range is dedicated for CPVM and SSVM"),
    ("vlanid", "list", "indicates Vlan ID for the range"),
    ("ipranges", "list", "the IP ranges for the Pod"),
    ("allocationstate", "string", "the allocation state of the Pod"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
    ("capacity", "list", "the capacity of the Pod"),
])


def render_pod(db: Session, pod: Pod, *, show_capacities: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pod.uuid,
        "name": pod.name,
        "zoneid": pod.zone.uuid,
        "zonename": pod.zone.name,
        "gateway": pod.gateway,
        "netmask": pod.netmask,
        "startip": [pod.start_ip],
        "endip": [pod.end_ip],
        "forsystemvms": ["0"],
        "vlanid": [""],
        "ipranges": [{"startip": pod.start_ip, "endip": pod.end_ip, "forsystemvms": "0", "vlanid": ""}],
        "allocationstate": pod.allocation_state,
        "hasannotations": False,
    }
    if show_capacities:
        out["capacity"] = capacity_list(db, Scope(pod.zone, pod))
    return out


def _ipv4(value: str, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value.strip())
    except ValueError:
        raise param_error(f"Please specify a valid IP address for {what}: {value}") from None


def check_ip_range(gateway: str, netmask: str, start: str, end: str | None) -> tuple[str, str, str, str]:
    """Validate a pod's addresses as CloudStack does; returns (gateway, netmask, startip, endip) normalised."""
    gw = _ipv4(gateway, "gateway")
    try:
        network = ipaddress.IPv4Network(f"{gw}/{netmask.strip()}", strict=False)
    except ValueError:
        raise param_error(f"Please specify a valid netmask: {netmask}") from None
    if network.prefixlen > 30:
        raise param_error(f"Please specify a valid netmask: {netmask} leaves no room for a pod's IP range")
    first = _ipv4(start, "startip")
    last = _ipv4(end, "endip") if end else network.broadcast_address - 1
    if first not in network:
        raise param_error(f"The start address of the IP range {first} is not in the CIDR subnet {network}.")
    if last not in network:
        raise param_error(f"The end address of the IP range {last} is not in the CIDR subnet {network}.")
    if first > last:
        raise param_error(f"The start IP address {first} must be lower than the end IP address {last}")
    if first <= gw <= last:
        raise param_error(f"The gateway {gw} must not overlap the pod's IP range {first}-{last}")
    return str(gw), str(network.netmask), str(first), str(last)


def _check_unique_name(db: Session, zone: Zone, name: str, except_id: int | None = None) -> None:
    if not name:
        raise param_error("Invalid parameter name: a pod name cannot be blank")
    query = select(Pod.id).where(Pod.zone_id == zone.id, func.lower(Pod.name) == name.lower(), Pod.removed.is_(None))
    if except_id is not None:
        query = query.where(Pod.id != except_id)
    if db.scalar(query) is not None:
        raise param_error(f"A pod with name {name} already exists in zone {zone.name}. Please specify a different "
                          "pod name.")


@api_command(
    "createPod", description="Creates a new Pod.", response="pod", roles=ADMIN,
    params=[
        Param("name", required=True, description="the name of the Pod"),
        Param("zoneid", "uuid", required=True, description="the Zone ID in which the Pod will be created"),
        Param("startip", description="the starting IP address for the Pod (required here)"),
        Param("endip", description="the ending IP address for the Pod"),
        Param("netmask", description="the netmask for the Pod (required here)"),
        Param("gateway", description="the gateway for the Pod (required here)"),
        Param("allocationstate", description="Allocation state of this Pod for allocation of new resources",
              choices=ALLOCATION_STATES),
    ],
)
def create_pod(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    zone = find_by_uuid(db, Zone, p["zoneid"], "zone", "zoneid")
    name = p["name"].strip()
    _check_unique_name(db, zone, name)
    why = "a pod is the management network of its Hyper-V hosts: give gateway, netmask and startip"
    gateway, netmask, start, end = check_ip_range(needed_here("createPod", p, "gateway", why),
                                                  needed_here("createPod", p, "netmask", why),
                                                  needed_here("createPod", p, "startip", why), p.get("endip"))
    pod = Pod(uuid=new_uuid(), name=name, zone_id=zone.id, zone=zone, gateway=gateway, netmask=netmask,
              start_ip=start, end_ip=end, allocation_state=p.get("allocationstate", "Enabled"))
    db.add(pod)
    db.flush()
    events.record_event(db, "POD.CREATE", f"Successfully created pod {pod.name} in zone {zone.name}", ctx.actor,
                        resource_type="Pod", resource_uuid=pod.uuid, resource_name=pod.name)
    return {"pod": render_pod(db, pod)}


@api_command(
    "listPods", description="Lists all Pods.", response="pod", roles=ADMIN,
    params=[
        Param("id", "uuid", description="list Pods by ID"),
        Param("name", description="list Pods by name"),
        Param("zoneid", "uuid", description="list Pods by Zone ID"),
        Param("allocationstate", description="list pods by allocation state"),
        Param("showcapacities", "boolean", description="flag to display the capacity of the pods"),
        *PAGING_PARAMS,
    ],
)
def list_pods(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = select(Pod).where(Pod.removed.is_(None)).order_by(Pod.id)
    if "id" in p:
        query = query.where(Pod.uuid == p["id"])
    if "name" in p:
        query = query.where(Pod.name == p["name"])
    if "zoneid" in p:
        query = query.where(Pod.zone_id == filter_row_id(db, Zone, p["zoneid"], "zone", "zoneid"))
    if "allocationstate" in p:
        query = query.where(matches_value(Pod.allocation_state, p["allocationstate"], ALLOCATION_STATES))
    if "keyword" in p:
        query = query.where(Pod.name.ilike(keyword_pattern(p["keyword"]), escape="\\"))
    show = bool(p.get("showcapacities"))
    return paged_list(db, "pod", query, p, lambda pod: render_pod(db, pod, show_capacities=show))


@api_command(
    "updatePod", description="Updates a Pod.", response="pod", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="the ID of the Pod"),
        Param("name", description="the name of the Pod"),
        Param("startip", description="the starting IP address for the Pod"),
        Param("endip", description="the ending IP address for the Pod"),
        Param("netmask", description="the netmask of the Pod"),
        Param("gateway", description="the gateway for the Pod"),
        Param("allocationstate", description="Allocation state of this cluster for allocation of new resources",
              choices=ALLOCATION_STATES),
    ],
)
def update_pod(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    pod = find_by_uuid(db, Pod, p["id"], "pod")
    if "name" in p:
        _check_unique_name(db, pod.zone, p["name"].strip(), pod.id)
    if any(k in p for k in ("startip", "endip", "netmask", "gateway")):
        gateway, netmask, start, end = check_ip_range(
            p.get("gateway", pod.gateway), p.get("netmask", pod.netmask), p.get("startip", pod.start_ip),
            p.get("endip", pod.end_ip))
        pod.gateway, pod.netmask, pod.start_ip, pod.end_ip = gateway, netmask, start, end
    if "name" in p:
        pod.name = p["name"].strip()
    if "allocationstate" in p:
        pod.allocation_state = p["allocationstate"]
    events.record_event(db, "POD.EDIT", f"Successfully updated pod {pod.name}", ctx.actor,
                        resource_type="Pod", resource_uuid=pod.uuid, resource_name=pod.name)
    return {"pod": render_pod(db, pod)}


@api_command(
    "deletePod", description="Deletes a Pod.", response="success", roles=ADMIN,
    params=[Param("id", "uuid", required=True, description="the ID of the Pod")],
)
def delete_pod(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    pod = find_by_uuid(db, Pod, p["id"], "pod")
    found = usages(db, Pod.__table__, pod.id)  # type: ignore[arg-type]
    if found:
        raise in_use(f"The pod {pod.name} is not deletable because there are {describe_usages(found)} in it")
    pod.removed = utcnow()
    events.record_event(db, "POD.DELETE", f"Successfully deleted pod {pod.name}", ctx.actor,
                        resource_type="Pod", resource_uuid=pod.uuid, resource_name=pod.name)
    return {"success": True}

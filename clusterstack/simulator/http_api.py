"""The simulator's HTTP API (docs/simulator-api.md): the cluster's report, its event log, a change feed,
the operations a management server asks of a failover cluster, and fault injection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clusterstack.failover import ClusterError, InvalidState, NotFound
from clusterstack.failover import events as ev
from clusterstack.failover.model import NODE_QUARANTINED
from clusterstack.simulator.service import SimulatedCluster

STATUS_OF_KIND = {"not_found": 404, "quorum_lost": 503, "not_enough_memory": 409, "invalid_state": 409,
                  "bad_request": 400}

Handler = Callable[[Request, SimulatedCluster], Awaitable[Any]]


class BadRequest(Exception):
    pass


def _error(kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message}, status_code=STATUS_OF_KIND.get(kind, 400))


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def run(request: Request) -> JSONResponse:
        sim: SimulatedCluster = request.app.state.sim
        try:
            result = await handler(request, sim)
        except ClusterError as exc:
            return _error(exc.kind, str(exc))
        except BadRequest as exc:
            return _error("bad_request", str(exc))
        return JSONResponse(result)

    return run


async def _body(request: Request) -> dict[str, Any]:
    if not (await request.body()):
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _field(body: dict[str, Any], name: str) -> Any:
    if name not in body or body[name] in (None, ""):
        raise BadRequest(f"'{name}' is required")
    return body[name]


def _int(body: dict[str, Any], name: str) -> int:
    value = _field(body, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{name}' must be an integer")
    return value


def _int_query(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name} must be an integer") from None


def _role_name(request: Request, sim: SimulatedCluster) -> str:
    name = request.path_params["name"]
    if name not in sim.cluster.roles:
        raise NotFound(f"clustered role {name} does not exist in cluster {sim.cluster.name}")
    return name


# ---- reading ------------------------------------------------------------------------------------------------

async def get_cluster(request: Request, sim: SimulatedCluster) -> Any:
    return sim.report()


async def get_events(request: Request, sim: SimulatedCluster) -> Any:
    since = _int_query(request, "since", 0)
    limit = max(1, min(_int_query(request, "limit", 1000), 10000))
    return {"events": sim.events_since(since, limit), "cursor": sim.cursor}


async def get_changes(request: Request, sim: SimulatedCluster) -> Any:
    since = _int_query(request, "since", 0)
    try:
        timeout = float(request.query_params.get("timeout", "30"))
    except ValueError:
        raise BadRequest("timeout must be a number of seconds") from None
    cursor = await sim.wait_for_change(since, max(0.0, min(timeout, 60.0)))
    return {"cursor": cursor}


# ---- roles and VMs ----------------------------------------------------------------------------------------------

async def post_roles(request: Request, sim: SimulatedCluster) -> Any:
    body = await _body(request)
    _field(body, "name")
    _int(body, "memory_mb")
    _int(body, "cpus")
    for vhd in body.get("vhds") or []:
        if not isinstance(vhd, dict) or "path" not in vhd or not isinstance(vhd.get("size_bytes"), int):
            raise BadRequest("each VHD needs a path and an integer size_bytes")
    return sim.create_vm(body)


async def get_role(request: Request, sim: SimulatedCluster) -> Any:
    name = _role_name(request, sim)
    if "wait" in request.query_params:  # long poll: answer once the role is no longer as the caller saw it
        try:
            timeout = float(request.query_params["wait"])
        except ValueError:
            raise BadRequest("wait must be a number of seconds") from None
        seen = tuple(request.query_params.get(key) for key in ("state", "vm_state", "owner_node"))
        await sim.wait_for_role_change(name, seen, max(0.0, min(timeout, 60.0)))
        name = _role_name(request, sim)  # (gone meanwhile: 404)
    return sim.describe_role(name)


async def delete_role(request: Request, sim: SimulatedCluster) -> Any:
    sim.remove_vm(_role_name(request, sim))
    return {"removed": request.path_params["name"]}


async def patch_role(request: Request, sim: SimulatedCluster) -> Any:
    name = _role_name(request, sim)
    body = await _body(request)
    if "priority" in body:
        sim.apply(ev.SetRolePriority(name, _int(body, "priority")))
    if "memory_mb" in body or "cpus" in body:
        role = sim.cluster.roles[name]
        memory = _int(body, "memory_mb") if "memory_mb" in body else role.memory_mb
        cpus = _int(body, "cpus") if "cpus" in body else role.cpus
        sim.apply(ev.UpdateRoleResources(name, memory, cpus))
    return sim.describe_role(name)


async def role_action(request: Request, sim: SimulatedCluster) -> Any:
    name = _role_name(request, sim)
    action = request.path_params["action"]
    body = await _body(request)
    if action == "start":
        sim.apply(ev.StartRole(name))
    elif action == "stop":
        sim.apply(ev.StopRole(name, bool(body.get("force", False))))
    elif action == "restart":
        sim.apply(ev.RestartRole(name))
    elif action == "move":
        kind = body.get("type", "live")
        if kind not in ("live", "quick"):
            raise BadRequest("type must be live or quick")
        sim.apply(ev.MoveRole(name, str(_field(body, "node")), kind))
    else:
        raise BadRequest(f"unknown role action {action}")
    return sim.describe_role(name)


async def role_vhd(request: Request, sim: SimulatedCluster) -> Any:
    name = _role_name(request, sim)
    body = await _body(request)
    path = str(_field(body, "path"))
    if request.path_params["action"] == "attach":
        sim.apply(ev.AttachVhd(name, path))
    elif request.path_params["action"] == "detach":
        sim.apply(ev.DetachVhd(name, path))
    else:
        raise BadRequest("attach or detach")
    size = next((s for d in sim.cluster.disks.values() for p, s in d.vhds.items() if p == path), 0)
    return {"path": path, "size_bytes": size, "disk": sim.disk_of_path(path),
            "attached_to": name if request.path_params["action"] == "attach" else None}


# ---- nodes, VHDs, faults -----------------------------------------------------------------------------------

async def node_action(request: Request, sim: SimulatedCluster) -> Any:
    node = request.path_params["name"]
    body = await _body(request)
    action = request.path_params["action"]
    if action == "drain":
        sim.apply(ev.Drain(node))
    elif action == "resume":
        sim.apply(ev.Resume(node, bool(body.get("failback", False))))
    elif action == "clear-quarantine":
        _clear_quarantine(sim, node)
        await sim.settle()
    else:
        raise BadRequest(f"unknown node action {action}")
    return sim.describe_node(sim.cluster._node_name(node))


def _clear_quarantine(sim: SimulatedCluster, node: str) -> None:
    """Start-ClusterNode -ClearQuarantine: it runs on the node, so the node's machine must be running."""
    name = sim.cluster._node_name(node)
    found = sim.cluster.nodes[name]
    if found.state == NODE_QUARANTINED and not found.alive:
        raise InvalidState(f"node {name} is Quarantined and its machine is not running; start the machine first, "
                           "then clear the quarantine")
    sim.apply(ev.ClearQuarantine(name))


def node_fault_answer(sim: SimulatedCluster, node: str) -> dict[str, Any]:
    """A node as a fault leaves it: its report, whether its machine runs, and until when it is quarantined."""
    name = sim.cluster._node_name(node)
    found = sim.cluster.nodes[name]
    return {**sim.describe_node(name), "machine_running": found.alive,
            "quarantined_until": found.quarantined_until if found.state == NODE_QUARANTINED else None}


async def post_vhd(request: Request, sim: SimulatedCluster) -> Any:
    body = await _body(request)
    path = str(_field(body, "path"))
    disk = body.get("disk") or sim.disk_of_path(path)
    sim.apply(ev.CreateVhd(disk, path, _int(body, "size_bytes"), body.get("role")))
    return {"path": path, "size_bytes": body["size_bytes"], "disk": disk}


async def resize_vhd(request: Request, sim: SimulatedCluster) -> Any:
    body = await _body(request)
    path = str(_field(body, "path"))
    sim.apply(ev.ResizeVhd(path, _int(body, "size_bytes")))
    return {"path": path, "size_bytes": body["size_bytes"], "disk": sim.disk_of_path(path)}


async def delete_vhd(request: Request, sim: SimulatedCluster) -> Any:
    body = await _body(request)
    path = str(_field(body, "path"))
    sim.apply(ev.DeleteVhd(path))
    return {"deleted": path}


def _fault_event(kind: str, body: dict[str, Any]) -> Any:
    if kind == "node-down":
        return ev.NodeCrash(str(_field(body, "node")))
    if kind == "node-up":
        return ev.NodeStart(str(_field(body, "node")))
    if kind == "node-shutdown":
        return ev.NodeShutdown(str(_field(body, "node")))
    if kind == "partition":
        nodes = _field(body, "nodes")
        if not isinstance(nodes, list):
            raise BadRequest("'nodes' must be a list of node names")
        others = body.get("from")
        return ev.Partition(tuple(str(n) for n in nodes), tuple(str(n) for n in others) if others else None)
    if kind == "heal":
        return ev.Heal()
    if kind in ("disk-fail", "disk-repair"):
        disk = str(_field(body, "disk"))
        return ev.DiskFail(disk) if kind == "disk-fail" else ev.DiskRepair(disk)
    if kind in ("storage-path-lost", "storage-path-restored"):
        node, disk = str(_field(body, "node")), str(_field(body, "disk"))
        return ev.StoragePathLost(node, disk) if kind == "storage-path-lost" else ev.StoragePathRestored(node, disk)
    raise BadRequest(f"unknown fault {kind}")


async def post_fault(request: Request, sim: SimulatedCluster) -> Any:
    body = await _body(request)
    event = _fault_event(request.path_params["kind"], body)
    entries = sim.apply(event)
    await sim.settle()
    profile = sim.cluster.profile
    answer: dict[str, Any] = {
        "applied": request.path_params["kind"], "events": [e.to_dict() for e in entries], "cursor": sim.cursor,
        "time": sim.now(), "speed": sim.clock.speed,
        "detect_seconds": profile.detect_seconds(sim.cluster.cross_subnet),
        "join_seconds": profile.join_seconds, "heal_seconds": profile.same_subnet_delay,
    }
    node = getattr(event, "node", None)
    if isinstance(node, str):
        answer["node"] = node_fault_answer(sim, node)
    return answer


async def get_winrm(request: Request, sim: SimulatedCluster) -> Any:
    """Where the cluster and its nodes answer WinRM, and the CA (PEM) their certificate is signed by."""
    addresses = sim.winrm_addresses()
    if addresses is None:
        raise NotFound("this simulator answers no WinRM (start it with --winrm-prefix)")
    return {**addresses, "ca_pem": Path(addresses["ca_file"]).read_text(encoding="ascii")}


def create_app(sim: SimulatedCluster) -> Starlette:
    routes = [
        Route("/cluster", endpoint(get_cluster), methods=["GET"]),
        Route("/events", endpoint(get_events), methods=["GET"]),
        Route("/changes", endpoint(get_changes), methods=["GET"]),
        Route("/roles", endpoint(post_roles), methods=["POST"]),
        Route("/roles/{name}", endpoint(get_role), methods=["GET"]),
        Route("/roles/{name}", endpoint(patch_role), methods=["PATCH"]),
        Route("/roles/{name}", endpoint(delete_role), methods=["DELETE"]),
        Route("/roles/{name}/vhds/{action}", endpoint(role_vhd), methods=["POST"]),
        Route("/roles/{name}/{action}", endpoint(role_action), methods=["POST"]),
        Route("/nodes/{name}/{action}", endpoint(node_action), methods=["POST"]),
        Route("/vhds", endpoint(post_vhd), methods=["POST"]),
        Route("/vhds/resize", endpoint(resize_vhd), methods=["POST"]),
        Route("/vhds/delete", endpoint(delete_vhd), methods=["POST"]),
        Route("/faults/{kind}", endpoint(post_fault), methods=["POST"]),
        Route("/winrm", endpoint(get_winrm), methods=["GET"]),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sim.start()
        try:
            yield
        finally:
            await sim.stop()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sim = sim
    return app

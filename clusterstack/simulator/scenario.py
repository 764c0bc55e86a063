"""Scenario files: a cluster (the `cluster:` section) and timed steps, with errors that name file and line.

    cluster: {name, profile, witness, witness_disk, dynamic_quorum, nodes, disks, roles}
    steps:   [{at: 60, do: node-down, node: HYPERVCLLOUD17}, ...]
    run_until: 900
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from clusterstack.failover import ClusterSpec, DiskSpec, NodeSpec, RoleSpec, SpecError
from clusterstack.failover import events as ev


class ScenarioError(Exception):
    """A scenario that cannot run; str() is one line: FILE:LINE: what is wrong."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass
class Step:
    at: float
    event: Any
    line: int | None = None
    text: str = ""  # the step as the scenario file gives it, for the timeline ("drain node=HYPERVCLLOUD17")


@dataclass
class Scenario:
    spec: ClusterSpec
    steps: list[Step] = field(default_factory=list)
    run_until: float = 0.0


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster on big topologies


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A YAML loader that remembers the line of every mapping (as key '__line__')."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line(data: Any) -> int | None:
    return data.get("__line__") if isinstance(data, dict) else None


def _fields(cls: type, data: dict[str, Any], path: str, where: str) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "__line__":
            continue
        if key not in known:
            raise ScenarioError(path, _line(data), f"{where}: unknown field '{key}'")
        values[key] = value
    return values


def _spec_line(raw: dict[str, Any], field_path: str) -> int | None:
    """The line of the mapping a SpecError's field path points into (cluster.roles[2].memory_mb)."""
    node: Any = raw
    line = _line(raw)
    for part in field_path.split(".")[1:]:
        name, _, index = part.partition("[")
        if isinstance(node, dict) and name in node:
            node = node[name]
            if index:
                try:
                    node = node[int(index.rstrip("]"))]
                except (IndexError, ValueError, TypeError):
                    break
            line = _line(node) or line
        else:
            break
    return line


def build_spec(raw: dict[str, Any], path: str) -> ClusterSpec:
    if not isinstance(raw, dict):
        raise ScenarioError(path, None, "the `cluster:` section must be a mapping")
    values = _fields(ClusterSpec, raw, path, "cluster")
    try:
        values["nodes"] = [NodeSpec(**_fields(NodeSpec, n, path, "node")) for n in values.get("nodes") or []]
        values["disks"] = [DiskSpec(**_fields(DiskSpec, d, path, "disk")) for d in values.get("disks") or []]
        values["roles"] = [RoleSpec(**_fields(RoleSpec, r, path, "role")) for r in values.get("roles") or []]
    except TypeError as exc:
        raise ScenarioError(path, _line(raw), f"cluster: {exc}") from None
    if "profile" in values:
        values["profile"] = str(values["profile"])
    spec = ClusterSpec(**values)
    try:
        spec.validate()
    except SpecError as exc:
        raise ScenarioError(path, _spec_line(raw, exc.field_path), f"{exc.field_path}: {exc.message}") from None
    return spec


def _need(step: dict[str, Any], key: str, path: str) -> Any:
    if key not in step:
        raise ScenarioError(path, _line(step), f"step '{step.get('do')}' needs '{key}'")
    return step[key]


def _node(step: dict[str, Any], key: str, spec: ClusterSpec, path: str) -> str:
    name = str(_need(step, key, path))
    for node in spec.nodes:
        if node.name.lower() == name.lower():
            return node.name
    raise ScenarioError(path, _line(step), f"step '{step['do']}': unknown node {name}")


def _disk(step: dict[str, Any], spec: ClusterSpec, path: str) -> str:
    name = str(_need(step, "disk", path))
    if name not in {d.name for d in spec.disks}:
        raise ScenarioError(path, _line(step), f"step '{step['do']}': unknown disk {name}")
    return name


def _role_name(step: dict[str, Any], spec: ClusterSpec, added: set[str], path: str) -> str:
    name = str(_need(step, "role", path))
    if name not in {r.name for r in spec.roles} | added:
        raise ScenarioError(path, _line(step), f"step '{step['do']}': unknown role {name}")
    return name


ACTIONS = ("node-down", "node-up", "node-shutdown", "partition", "heal", "heartbeat-lost", "heartbeat-restored",
           "move-role", "drain", "resume", "disk-fail", "disk-repair", "storage-path-lost",
           "storage-path-restored", "add-role", "remove-role", "start-role", "stop-role", "clear-quarantine")


def build_step(step: Any, spec: ClusterSpec, added: set[str], path: str) -> Step:
    if not isinstance(step, dict):
        raise ScenarioError(path, None, "each step must be a mapping like {at: 60, do: node-down, node: X}")
    line = _line(step)
    at = step.get("at")
    if not isinstance(at, int | float) or isinstance(at, bool) or at < 0:
        raise ScenarioError(path, line, "step needs 'at': seconds of simulated time, 0 or more")
    action = step.get("do")
    if action not in ACTIONS:
        raise ScenarioError(path, line, f"unknown action '{action}' (known: {', '.join(ACTIONS)})")
    event: Any
    if action == "node-down":
        event = ev.NodeCrash(_node(step, "node", spec, path))
    elif action == "node-up":
        event = ev.NodeStart(_node(step, "node", spec, path))
    elif action == "clear-quarantine":
        event = ev.ClearQuarantine(_node(step, "node", spec, path))
    elif action == "node-shutdown":
        event = ev.NodeShutdown(_node(step, "node", spec, path))
    elif action == "partition":
        nodes = _need(step, "nodes", path)
        if not isinstance(nodes, list) or not nodes:
            raise ScenarioError(path, line, "partition needs 'nodes': a list of node names")
        side = tuple(_node({"do": action, "n": n, "__line__": line}, "n", spec, path) for n in nodes)
        others = step.get("from")
        away = (tuple(_node({"do": action, "n": n, "__line__": line}, "n", spec, path) for n in others)
                if others else None)
        event = ev.Partition(side, away)
    elif action == "heal":
        event = ev.Heal()
    elif action in ("heartbeat-lost", "heartbeat-restored"):
        a, b = _node(step, "a", spec, path), _node(step, "b", spec, path)
        event = ev.HeartbeatLost(a, b) if action == "heartbeat-lost" else ev.HeartbeatRestored(a, b)
    elif action == "move-role":
        kind = step.get("type", "live")
        if kind not in ("live", "quick"):
            raise ScenarioError(path, line, f"move-role type must be live or quick, not {kind}")
        event = ev.MoveRole(_role_name(step, spec, added, path), _node(step, "node", spec, path), kind)
    elif action == "drain":
        event = ev.Drain(_node(step, "node", spec, path))
    elif action == "resume":
        event = ev.Resume(_node(step, "node", spec, path), bool(step.get("failback", False)))
    elif action in ("disk-fail", "disk-repair"):
        disk = _disk(step, spec, path)
        event = ev.DiskFail(disk) if action == "disk-fail" else ev.DiskRepair(disk)
    elif action in ("storage-path-lost", "storage-path-restored"):
        node, disk = _node(step, "node", spec, path), _disk(step, spec, path)
        event = ev.StoragePathLost(node, disk) if action == "storage-path-lost" else ev.StoragePathRestored(node, disk)
    elif action == "add-role":
        raw_role = _need(step, "role", path)
        if not isinstance(raw_role, dict):
            raise ScenarioError(path, line, "add-role needs 'role': a mapping like the roles of the cluster")
        try:
            role = RoleSpec(**_fields(RoleSpec, raw_role, path, "role"))
        except TypeError as exc:
            raise ScenarioError(path, line, f"add-role: {exc}") from None
        probe = ClusterSpec(**{**spec.__dict__, "roles": [role]})
        try:
            probe.validate()
        except SpecError as exc:
            field_path = exc.field_path.replace("cluster.roles[0]", "role")
            raise ScenarioError(path, _line(raw_role) or line, f"add-role: {field_path}: {exc.message}") from None
        added.add(role.name)
        event = ev.AddRole(role)
    elif action == "remove-role":
        event = ev.RemoveRole(_role_name(step, spec, added, path))
    elif action == "start-role":
        event = ev.StartRole(_role_name(step, spec, added, path))
    else:
        event = ev.StopRole(_role_name(step, spec, added, path), bool(step.get("force", False)))
    return Step(float(at), event, line, _step_text(action, step))


def _step_text(action: str, step: dict[str, Any]) -> str:
    details = []
    for key, value in step.items():
        if key in ("at", "do", "__line__"):
            continue
        if isinstance(value, dict):
            value = value.get("name", "...")
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        details.append(f"{key}={value}")
    return " ".join([action, *details])


def parse_scenario(text: str, path: str) -> Scenario:
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(path, mark.line + 1 if mark else None, f"bad YAML: {problem}") from None
    if not isinstance(data, dict) or "cluster" not in data:
        raise ScenarioError(path, None, "a scenario needs a `cluster:` section")
    for key in data:
        if key not in ("cluster", "steps", "run_until", "__line__", "description"):
            raise ScenarioError(path, _line(data), f"unknown section '{key}'")
    spec = build_spec(data["cluster"], path)
    added: set[str] = set()
    raw_steps = data.get("steps") or []
    if not isinstance(raw_steps, list):
        raise ScenarioError(path, _line(data), "`steps:` must be a list")
    steps = [build_step(s, spec, added, path) for s in raw_steps]
    steps.sort(key=lambda s: s.at)
    run_until = data.get("run_until", max((s.at for s in steps), default=0.0) + 600)
    if not isinstance(run_until, int | float) or run_until < 0:
        raise ScenarioError(path, _line(data), "run_until must be a number of seconds, 0 or more")
    return Scenario(spec, steps, float(run_until))


def load_scenario(path: str | Path) -> Scenario:
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ScenarioError(str(path), None, f"cannot read the file: {exc.strerror}") from None
    return parse_scenario(text, str(path))


def load_topology(path: str | Path) -> ClusterSpec:
    """A topology file is a scenario without steps."""
    return load_scenario(path).spec

"""`clusterstack sim rehearse`: a simulator's report (GET /cluster) in the rehearsal's terms, and the answer as a
small table."""

from __future__ import annotations

from typing import Any

from clusterstack.failover.rehearsal import Rehearsal
from clusterstack.failover.rehearsal_state import ClusterState, DiskState, NodeState, RoleState

PRIORITY_NAMES = {3000: "High", 2000: "Medium", 1000: "Low", 0: "No Auto Start"}


def state_from_report(data: dict[str, Any]) -> ClusterState:
    """The simulator's JSON report (docs/simulator-api.md) as the state a rehearsal starts from."""
    quorum = data.get("quorum") or {}
    return ClusterState(
        name=str(data["name"]),
        profile=str(data.get("profile") or "2016"),
        quorum_model=str(quorum.get("model") or "NodeMajority"),
        quorum_up=quorum.get("state") == "Up",
        votes=int(quorum.get("votes", 0)),
        dynamic_quorum=bool(data.get("dynamic_quorum", True)),
        nodes=tuple(NodeState(n["name"], n["state"], int(n.get("memory_mb", 0)), int(n.get("memory_used_mb", 0)),
                              int(n.get("assigned_vote", 1)), int(n.get("current_vote", 1)), int(n.get("cpus", 1)))
                    for n in data.get("nodes", [])),
        roles=tuple(RoleState(r["name"], r.get("state", "Offline"), r.get("vm_state", "Off"), r.get("owner_node"),
                              int(r.get("priority", 0)), int(r.get("memory_mb", 0)), int(r.get("cpus", 1)),
                              r.get("disk"), tuple(r.get("preferred_owners") or ()),
                              tuple(r.get("possible_owners") or ()), tuple(r.get("anti_affinity") or ()),
                              r.get("failover_threshold"), float(r.get("failover_period_hours", 6.0)),
                              int(r.get("recent_failovers", 0)))
                    for r in data.get("roles", [])),
        disks=tuple(DiskState(d["name"], d.get("state", "Online"), d.get("owner_node"), d.get("path"),
                              d.get("assigned_to") == "Disk Witness in Quorum", int(d.get("capacity_bytes", 0)))
                    for d in data.get("disks", [])),
    )


def render(answer: Rehearsal, console: Any, *, every_role: bool = False) -> None:
    from rich.table import Table

    after = answer.quorum_after
    survives = after.has_quorum and not answer.stranded(ha_only=True)
    verdict = "[green]survives[/]" if survives else "[red]does not survive[/]"
    console.print(f"Cluster {answer.cluster} ({answer.profile}) losing {', '.join(answer.failed_nodes)}"
                  + (f" and disk {', '.join(answer.failed_disks)}" if answer.failed_disks else "")
                  + f": {verdict}. Quorum {after.state} ({after.votes} of {after.votes_needed} votes needed); "
                  f"settled after {answer.settled_after_seconds:g} s")
    roles = Table(title="Roles")
    for column in ("Name", "Priority", "Owner before", "Owner after", "Status", "Online after", "Order", "Why down"):
        roles.add_column(column)
    for fate in answer.roles:
        if not (fate.affected or every_role):
            continue
        down = fate.stays_down
        roles.add_row(fate.name, PRIORITY_NAMES.get(fate.priority, str(fate.priority)), fate.owner_before or "",
                      fate.owner or "", f"[red]{fate.state}[/]" if down else fate.state,
                      "" if fate.online_after_seconds is None else f"{fate.online_after_seconds:g} s",
                      "" if fate.restart_order is None else str(fate.restart_order),
                      f"[red]{fate.reason}[/]" if down else (fate.reason or ""))
    console.print(roles)
    nodes = Table(title="Nodes")
    for column in ("Name", "Status", "Memory used (MB)", "Memory free (MB)", "Roles"):
        nodes.add_column(column)
    for node in answer.nodes:
        nodes.add_row(node.name, f"[red]{node.state}[/]" if node.failed else node.state, str(node.memory_used_mb),
                      str(node.memory_free_mb), str(node.roles))
    console.print(nodes)
    unaffected = answer.unaffected_count
    if unaffected and not every_role:
        console.print(f"{unaffected} other roles are not affected (--all lists them).")

"""`clusterstack sim status`: the cluster as Failover Cluster Manager shows it (Roles, Nodes, Disks)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

PRIORITY_NAMES = {3000: "High", 2000: "Medium", 1000: "Low", 0: "No Auto Start"}
STATUS_STYLE = {"Up": "green", "Running": "green", "Online": "green", "Down": "red", "Failed": "red",
                "Off": "dim", "Paused": "yellow", "Isolated": "yellow", "Quarantined": "red", "Joining": "cyan",
                "Unmonitored": "yellow", "Migrating": "cyan", "Starting": "cyan", "Lost": "red"}
GB = 1024**3


def _styled(value: str) -> str:
    style = STATUS_STYLE.get(value)
    return f"[{style}]{value}[/]" if style else value


def _gb(value: int) -> str:
    return f"{value / GB:.1f} GB"


def role_status(role: dict[str, Any]) -> str:
    """FCM's Status column: the VM's state while the role is up, the role's state when it failed."""
    return "Failed" if role["state"] == "Failed" else role.get("vm_state") or role["state"]


def render(report: dict[str, Any], console: Console) -> None:
    quorum = report["quorum"]
    console.print(f"[bold]{report['name']}[/]  quorum {_styled(quorum['state'])} ({quorum['model']}, "
                  f"{quorum['votes']} votes, {quorum['votes_needed']} needed)")
    roles = Table(title=f"Roles ({len(report['roles'])})", title_justify="left")
    for column in ("Name", "Status", "Type", "Owner Node", "Priority", "Information"):
        roles.add_column(column)
    for role in report["roles"]:
        roles.add_row(role["name"], _styled(role_status(role)), "Virtual Machine", role.get("owner_node") or "",
                      PRIORITY_NAMES.get(role["priority"], str(role["priority"])), role.get("information") or "")
    nodes = Table(title=f"Nodes ({len(report['nodes'])})", title_justify="left")
    for column in ("Name", "Status", "Assigned Vote", "Current Vote", "Information"):
        nodes.add_column(column)
    for node in report["nodes"]:
        info = "" if node.get("drain_status") in (None, "NotInitiated") else f"Drain {node['drain_status']}"
        nodes.add_row(node["name"], _styled(node["state"]), str(node["assigned_vote"]), str(node["current_vote"]),
                      info)
    disks = Table(title=f"Disks ({len(report['disks'])})", title_justify="left")
    for column in ("Name", "Status", "Assigned To", "Owner Node", "Disk Number", "Capacity", "Information"):
        disks.add_column(column)
    for disk in report["disks"]:
        info = ""
        if disk.get("path"):
            info = f"{disk['path']}  CSVFS {_gb(disk['free_bytes'])} free of {_gb(disk['capacity_bytes'])}"
            if disk.get("redirected_nodes"):
                info += f"  (redirected: {', '.join(disk['redirected_nodes'])})"
        disks.add_row(disk["name"], _styled(disk["state"]), disk["assigned_to"], disk.get("owner_node") or "",
                      str(disk["disk_number"]), f"{disk['capacity_bytes'] / GB:.0f} GB", info)
    console.print(roles)
    console.print(nodes)
    console.print(disks)

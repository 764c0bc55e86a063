"""The cluster's event log: FailoverClustering and Hyper-V-VMMS entries in the wording operators search for."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

CLUSTERING = "Microsoft-Windows-FailoverClustering"
VMMS = "Microsoft-Windows-Hyper-V-VMMS"


@dataclass(frozen=True)
class LogEntry:
    time: float
    source: str
    id: int
    level: str  # Critical, Error, Warning, Information
    node: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "source": self.source, "id": self.id, "level": self.level, "node": self.node,
                "message": self.message}


def vm_id(name: str) -> str:
    """A VM's VMID, stable for its name (Hyper-V gives each VM a GUID)."""
    return str(uuid.UUID(bytes=hashlib.sha1(name.encode()).digest()[:16])).upper()


def node_ip(node: str) -> str:
    """A node's live-migration address, stable for its name."""
    digest = hashlib.sha1(node.encode()).digest()
    return f"10.102.{192 + digest[0] % 8}.{1 + digest[1] % 250}"


def node_removed(t: float, reporter: str, node: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1135, "Critical", reporter,
                    f"Cluster node '{node}' was removed from the active failover cluster membership. The Cluster "
                    "service on this node may have stopped. This could also be due to the node having lost "
                    "communication with other active nodes in the failover cluster. Run the Validate a "
                    "Configuration wizard to check your network configuration. If the condition persists, check "
                    "for hardware or software errors related to the network adapters on this node. Also check for "
                    "failures in any other network components to which the node is connected such as hubs, "
                    "switches, or bridges.")


def quorum_lost(t: float, node: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1177, "Critical", node,
                    "The Cluster service is shutting down because quorum was lost. This could be due to the loss "
                    "of network connectivity between some or all nodes in the cluster, or a failover of the "
                    "witness disk. Run the Validate a Configuration wizard to check your network configuration. "
                    "If the condition persists, check for hardware or software errors related to the network "
                    "adapter. Also check for failures in any other network components to which the node is "
                    "connected such as hubs, switches, or bridges.")


def quorum_formed(t: float, node: str, cluster: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1000, "Information", node,
                    f"The Cluster service on node '{node}' formed failover cluster '{cluster}': a majority of "
                    "votes is present again and clustered roles are being brought online.")


def resource_failed(t: float, node: str, role: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1069, "Error", node,
                    f"Cluster resource 'Virtual Machine {role}' of type 'Virtual Machine' in clustered role "
                    f"'{role}' failed. Based on the failure policies for the resource and role, the cluster service "
                    "may try to bring the resource online on this node or move the group to another node of the "
                    "cluster and then restart it. Check the resource and group state using Failover Cluster "
                    "Manager or the Get-ClusterResource Windows PowerShell cmdlet.")


def group_failed(t: float, node: str, role: str, why: str = "") -> LogEntry:
    reason = f" {why}" if why else ""
    return LogEntry(t, CLUSTERING, 1205, "Error", node,
                    f"The Cluster service failed to bring clustered role '{role}' completely online or offline. "
                    "One or more resources may be in a failed state. This may impact the availability of the "
                    f"clustered role.{reason}")


def threshold_exceeded(t: float, node: str, role: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1254, "Error", node,
                    f"Clustered role '{role}' has exceeded its failover threshold. It has exhausted the configured "
                    "number of failover attempts within the failover period of time allotted to it and will be "
                    "left in a failed state. No additional attempts will be made to bring the role online or fail "
                    "it over to another node in the cluster. Please check the events associated with the failure. "
                    "After the issues causing the failure are resolved the role can be brought online manually or "
                    "the cluster may attempt to bring it online again after the restart delay period.")


def role_online(t: float, node: str, role: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1201, "Information", node,
                    f"The Cluster service successfully brought the clustered role '{role}' online.")


def role_failing_over(t: float, reporter: str, role: str, source: str, target: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1153, "Information", reporter,
                    f"Cluster service is attempting to failover the clustered role '{role}' from node '{source}' "
                    f"to node '{target}'.")


def role_moving(t: float, reporter: str, role: str, source: str, target: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1641, "Information", reporter,
                    f"Clustered role '{role}' is moving from cluster node '{source}' to cluster node '{target}'.")


def node_isolated(t: float, node: str, period: float) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1135, "Warning", node,
                    f"Cluster node '{node}' has entered the isolated state: it is no longer in active membership "
                    f"but keeps hosting its virtual machines as Unmonitored for up to {int(period)} seconds "
                    "(ResiliencyPeriod) before they fail over.")


def node_quarantined(t: float, node: str, failures: int, until: float) -> LogEntry:
    return LogEntry(t, CLUSTERING, 1683, "Error", node,
                    f"Cluster node '{node}' has been quarantined. The node experienced '{failures}' consecutive "
                    "failures within a short amount of time and has been removed from the cluster to avoid further "
                    f"disruptions. The node will be quarantined until t+{int(until)}s and then the node will "
                    "automatically attempt to re-join the cluster. When the issue is resolved, quarantine can be "
                    "manually cleared to allow the node to rejoin with the 'Start-ClusterNode -ClearQuarantine' "
                    "Windows PowerShell cmdlet.")


def csv_paused(t: float, node: str, volume: str, disk: str, why: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 5120, "Error", node,
                    f"Cluster Shared Volume '{volume}' ('{disk}') has entered a paused state because of '{why}'. "
                    "All I/O will temporarily be queued until a path to the volume is reestablished.")


def csv_redirected(t: float, node: str, volume: str, disk: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 5121, "Error", node,
                    f"Cluster Shared Volume '{volume}' ('{disk}') is no longer directly accessible from this "
                    "cluster node. I/O access will be redirected to the storage device over the network to the node "
                    "that owns the volume. If this results in degraded performance, please troubleshoot this "
                    "node's connectivity to the storage device and I/O will resume to a healthy state once "
                    "connectivity to the storage device is reestablished.")


def csv_direct_again(t: float, node: str, volume: str, disk: str) -> LogEntry:
    return LogEntry(t, CLUSTERING, 5125, "Information", node,
                    f"Cluster Shared Volume '{volume}' ('{disk}') is directly accessible from this cluster node "
                    "again; redirected access has ended.")


def live_migration_started(t: float, node: str, vm: str, target: str) -> LogEntry:
    return LogEntry(t, VMMS, 20413, "Information", node,
                    f"The Virtual Machine Management service initiated the live migration of virtual machine "
                    f"'{vm}' to destination host '{target}' (VMID {vm_id(vm)}).")


def live_migration_sent(t: float, node: str, vm: str, target: str, seconds: float) -> LogEntry:
    return LogEntry(t, VMMS, 20415, "Information", node,
                    f"The Virtual Machine Management service successfully completed the live migration of virtual "
                    f"machine '{vm}' (VMID {vm_id(vm)}) to destination host '{target}' in {seconds:.1f} seconds.")


def live_migration_received(t: float, node: str, vm: str, source: str) -> LogEntry:
    return LogEntry(t, VMMS, 20418, "Information", node,
                    f"The Virtual Machine Management service successfully completed the live migration of virtual "
                    f"machine '{vm}' (VMID {vm_id(vm)}), received from IP address: '{node_ip(source)}'.")


def vm_saved(t: float, node: str, vm: str) -> LogEntry:
    return LogEntry(t, VMMS, 18510, "Information", node,
                    f"'{vm}' was saved. (Virtual machine ID {vm_id(vm)})")


def vm_started(t: float, node: str, vm: str) -> LogEntry:
    return LogEntry(t, VMMS, 18601, "Information", node,
                    f"'{vm}' started successfully. (Virtual machine ID {vm_id(vm)})")


def vm_turned_off(t: float, node: str, vm: str) -> LogEntry:
    return LogEntry(t, VMMS, 18504, "Information", node,
                    f"'{vm}' was turned off. (Virtual machine ID {vm_id(vm)})")

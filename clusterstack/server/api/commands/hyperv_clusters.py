"""addCluster and addHost for Hyper-V failover clusters, and the check that PreSetup storage is a CSV.

One failover cluster is one CloudStack cluster, never more, never less; a host can be added only if it is a
node of its cluster's failover cluster. The failover cluster itself answers both questions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from clusterstack.hypervisor.base import (
    AuthenticationFailed,
    CertificateRejected,
    Credentials,
    DriverError,
    FailoverClusterDriver,
    NodeReport,
)
from clusterstack.hypervisor.registry import driver_kind, open_driver
from clusterstack.server import events
from clusterstack.server.api.commands.clusters import EVENT_CLUSTER_CREATE, cluster_holding, render_cluster
from clusterstack.server.api.commands.hosts import render_host
from clusterstack.server.api.commands.storage_pools import VolumeFacts, register_presetup_check
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.params import needed_here
from clusterstack.server.api.registry import ADMIN, Param, api_command
from clusterstack.server.db.models.infrastructure import (
    ALLOCATION_STATES,
    CLUSTER_TYPES,
    HYPERVISOR_HYPERV,
    HYPERVISOR_SPELLINGS,
    Cluster,
    Host,
    Pod,
    Zone,
)
from clusterstack.server.orchestration import cluster_credentials
from clusterstack.server.orchestration.cluster_access import (
    as_api_error,
    driver_for,
    follower_service,
    quorate_report,
    wake,
)

MB = 1024 * 1024
DEFAULT_CPU_MHZ = 2000  # what a node reports when its processors' speed is unknown


def _pod_in_zone(ctx: CallContext, p: dict[str, Any]) -> tuple[Zone, Pod]:
    zone = find_by_uuid(ctx.db, Zone, p["zoneid"], "zone", "zoneid")
    pod = find_by_uuid(ctx.db, Pod, p["podid"], "pod", "podid")
    if pod.zone_id != zone.id:
        raise param_error(f"Pod {pod.name} does not belong to zone {zone.name}")
    return zone, pod


REQUIRED_FEATURES = ("Failover-Clustering", "Hyper-V")


def _address(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        raise param_error(f"Invalid parameter url value={url}: give the failover cluster's address, "
                          "e.g. https://hv-cluster:5986")
    address = url if "://" in url else f"http://{url}"
    try:
        driver_kind(address)
    except DriverError as exc:
        raise param_error(f"Invalid parameter url value={url}: {exc}") from None
    return address


def _credentials(p: dict[str, Any], address: str, what: str) -> Credentials | None:
    """The account from username/password: required for a cluster reached over WinRM."""
    username, password = (p.get("username") or "").strip(), p.get("password") or ""
    if driver_kind(address) != "winrm":
        return Credentials(username, password) if username else None
    if not username or not password:
        raise param_error(f"{what} at {address} is reached over WinRM: give the username (DOMAIN\\user) and "
                          "password of an account that administers the failover cluster and Hyper-V")
    return Credentials(username, password)


def _refusal(exc: DriverError, what: str, address: str) -> Exception:
    """A driver failure while adding something, as the 431 that names what to fix."""
    if isinstance(exc, AuthenticationFailed):
        return param_error(f"Unable to add {what}: authentication failed at {address} ({exc})")
    if isinstance(exc, CertificateRejected):
        return param_error(f"Unable to add {what}: {exc}. Set hyperv.winrm.ca.file to the CA that signed it, or "
                           "hyperv.winrm.cert.sha256 to pin it")
    return param_error(f"Unable to add {what}: the failover cluster at {address} does not answer ({exc})")


def check_features(driver: FailoverClusterDriver, where: str) -> None:
    """Refuse a cluster or host without the Failover-Clustering and Hyper-V features installed."""
    installed = driver.features()
    missing = [f for f in REQUIRED_FEATURES if not installed.get(f)]
    if missing:
        raise param_error(f"{where} does not have the Windows feature(s) {', '.join(missing)} installed "
                          "(Install-WindowsFeature -Name Failover-Clustering,Hyper-V -IncludeManagementTools)")


@api_command(
    "addCluster", description="Adds a new cluster: for Hyper-V, one Windows failover cluster",
    response="cluster", roles=ADMIN,
    params=[
        Param("clustername", required=True, description="the cluster name"),
        Param("clustertype", required=True, description="type of the cluster: CloudManaged", choices=CLUSTER_TYPES),
        Param("hypervisor", required=True, description="hypervisor type of the cluster: Hyperv",
              choices=HYPERVISOR_SPELLINGS),
        Param("zoneid", "uuid", required=True, description="the Zone ID for the cluster"),
        Param("podid", "uuid", required=True, description="the Pod ID for the host"),
        Param("url", length=1024,
              description="(required on Hyper-V) the address of the failover cluster: https://cluster:5986 (WinRM), or "
              "http://host:port of a simulated cluster's JSON API"),
        Param("username", length=255, description="the account (DOMAIN\\user) that administers the failover cluster"),
        Param("password", length=255, description="the password of that account (stored encrypted, never shown)"),
        Param("allocationstate", description="Allocation state of this cluster for allocation of new resources",
              choices=ALLOCATION_STATES),
    ],
)
def add_cluster(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    zone, pod = _pod_in_zone(ctx, p)
    name = p["clustername"].strip()
    if not name:
        raise param_error("Invalid parameter clustername: must not be empty")
    if db.scalar(select(Cluster).where(func.lower(Cluster.name) == name.lower(), Cluster.pod_id == pod.id,
                                       Cluster.removed.is_(None))) is not None:
        raise param_error(f"Cluster with name {name} already exists in pod {pod.name}")
    address = _address(needed_here("addCluster", p, "url", "a Hyper-V cluster is one failover cluster, reached at "
                                    "https://<cluster name or address>:5986"))
    credentials = _credentials(p, address, f"Cluster {name}")
    try:
        driver = open_driver(address, credentials, cluster_credentials.options_for(db, None))
    except DriverError as exc:
        raise param_error(f"Invalid parameter url value={p['url']}: {exc}") from None
    try:
        report = driver.report()
        check_features(driver, f"Failover cluster at {address}")
    except DriverError as exc:
        raise _refusal(exc, f"cluster {name}", address) from None
    finally:
        driver.close()
    holder = cluster_holding(db, report.name)
    if holder is None:
        holder = db.scalar(select(Cluster).where(Cluster.failover_address == address, Cluster.removed.is_(None)))
    if holder is not None:
        raise param_error(f"Failover cluster {report.name} is already cluster {holder.name} (id: {holder.uuid}) in "
                          f"zone {holder.zone.name}: one failover cluster is one cluster")
    cluster = Cluster(name=name, zone_id=zone.id, pod_id=pod.id, hypervisor_type=HYPERVISOR_HYPERV,
                      cluster_type=p["clustertype"], allocation_state=p.get("allocationstate", "Enabled"),
                      failover_address=address, failover_name=report.name, quorate=report.quorum.state == "Up")
    if credentials is not None:
        cluster_credentials.store_credentials(ctx.server, cluster, credentials)
    db.add(cluster)
    db.flush()
    events.record_event(db, EVENT_CLUSTER_CREATE, f"Added cluster {name}: failover cluster {report.name} at "
                        f"{address} with nodes {', '.join(n.name for n in report.nodes)}", ctx.actor,
                        resource_type="Cluster", resource_uuid=cluster.uuid, resource_name=name)
    wake(ctx.server, cluster.id)
    return ListResponse("cluster", [render_cluster(db, cluster)], 1)


def _node_name(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    if not host:
        raise param_error(f"Invalid parameter url value={url}: give the host's name, e.g. http://HYPERVCLLOUD13")
    return host.split(".", 1)[0] if not host.replace(".", "").isdigit() else host


@api_command(
    "addHost", description="Adds a new host: for Hyper-V, a node of the cluster's failover cluster",
    response="host", roles=ADMIN,
    params=[
        Param("zoneid", "uuid", required=True, description="the Zone ID for the host"),
        Param("podid", "uuid", required=True, description="the Pod ID for the host"),
        Param("url", required=True, description="the host: http://HYPERVCLLOUD13 (by name), or its WinRM address "
              "https://HYPERVCLLOUD13:5986 or https://10.0.0.13:5986"),
        Param("username", length=255, description="an account on the host; checked, not stored (the cluster's "
              "account manages it)"),
        Param("password", length=255, description="that account's password"),
        Param("hypervisor", required=True, description="hypervisor type of the host: Hyperv",
              choices=HYPERVISOR_SPELLINGS),
        Param("clusterid", "uuid", description="the cluster ID for the host"),
        Param("clustername", description="the cluster name for the host"),
        Param("hosttags", "list", description="list of tags to be added to the host"),
        Param("allocationstate", description="Allocation state of this Host for allocation of new resources",
              choices=ALLOCATION_STATES),
    ],
)
def add_host(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    zone, pod = _pod_in_zone(ctx, p)
    if "clusterid" in p:
        cluster = find_by_uuid(db, Cluster, p["clusterid"], "cluster", "clusterid")
    elif "clustername" in p:
        cluster = db.scalar(select(Cluster).where(Cluster.name == p["clustername"], Cluster.pod_id == pod.id,
                                                  Cluster.removed.is_(None)))
        if cluster is None:
            raise param_error(f"Unable to find cluster with specified clustername: {p['clustername']}")
    else:
        raise param_error("A Hyper-V host belongs to a failover cluster: give clusterid or clustername")
    if cluster.pod_id != pod.id:
        raise param_error(f"Cluster {cluster.name} does not belong to pod {pod.name}")
    if not cluster.failover_address:
        raise param_error(f"Cluster {cluster.name} is not linked to a failover cluster")
    wanted = _node_name(p["url"])
    try:
        report = driver_for(ctx.server, cluster).report()
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None
    node = report.node(wanted) or _node_at(report.nodes, p["url"])
    if node is None:
        nodes = ", ".join(n.name for n in report.nodes)
        raise param_error(f"{wanted} is not a node of {_cluster_names(report.name, cluster.name)}, "
                          f"whose nodes are: {nodes}. Add the host to the failover cluster first")
    clash = db.scalar(select(Host).where(func.lower(Host.node_name) == node.name.lower(),
                                         Host.cluster_id == cluster.id, Host.removed.is_(None)))
    if clash is not None:
        raise param_error(f"Host {node.name} is already in cluster {cluster.name} (id: {clash.uuid})")
    _check_host_account(ctx, cluster, node, p)
    tags = ",".join(t.strip() for t in p.get("hosttags", []) if t.strip())
    host = Host(name=node.name, status="Connecting", resource_state="Enabled", zone_id=zone.id, pod_id=pod.id,
                cluster_id=cluster.id, hypervisor_type=HYPERVISOR_HYPERV, url=p["url"], node_name=node.name,
                private_ip_address=urlsplit(node.address).hostname if node.address else None,
                cpus=node.cpus, cpu_speed=DEFAULT_CPU_MHZ, total_memory=node.memory_mb * MB,
                memory_used=node.memory_used_mb * MB, host_tags=tags,
                mgmt_server_id=ctx.server.msid)
    if p.get("allocationstate") == "Disabled":
        host.resource_state = "Disabled"
    db.add(host)
    db.flush()
    host.status = "Up" if node.state in ("Up", "Paused") else "Alert"
    events.record_event(db, "HOST.ADD", f"Added host {node.name} (node of failover cluster {report.name}) to "
                        f"cluster {cluster.name}", ctx.actor, resource_type="Host", resource_uuid=host.uuid,
                        resource_name=host.name)
    wake(ctx.server, cluster.id)
    return ListResponse("host", [render_host(host)], 1)


def _node_at(nodes: tuple[NodeReport, ...], url: str) -> NodeReport | None:
    """The node whose own address is the url's host (a host added by its WinRM address)."""
    host = urlsplit(url if "://" in url else f"http://{url}").hostname
    for node in nodes:
        if node.address and urlsplit(node.address).hostname == host:
            return node
    return None


def _check_host_account(ctx: CallContext, cluster: Cluster, node: NodeReport, p: dict[str, Any]) -> None:
    """A host given by its WinRM address with an account: that account must log on there, and the node must
    have Failover-Clustering and Hyper-V installed."""
    url = p["url"]
    if "://" not in url or driver_kind(url) != "winrm" or not p.get("username"):
        return
    credentials = _credentials(p, url, f"Host {node.name}")
    options = cluster_credentials.options_for(ctx.db, cluster.id)
    driver = open_driver(url, credentials, options)
    try:
        check_features(driver, f"Node {node.name} ({url})")
    except DriverError as exc:
        raise _refusal(exc, f"host {node.name}", url) from None
    finally:
        driver.close()


@api_command(
    "updateHostPassword", response="success", roles=ADMIN,
    description="Changes the account clusterstack uses for a host's failover cluster (give hostid or clusterid); "
    "the new account is checked against the cluster before it is stored",
    params=[
        Param("hostid", "uuid", description="a host of the cluster"),
        Param("clusterid", "uuid", description="the cluster"),
        Param("username", required=True, length=255, description="the account (DOMAIN\\user)"),
        Param("password", required=True, length=255, description="its password (stored encrypted, never shown)"),
        Param("update_passwd_on_host", "boolean",
              description="change the password on the host itself: not done by clusterstack (refused when true)"),
    ],
)
def update_host_password(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    if ("hostid" in p) == ("clusterid" in p):
        raise param_error("Give exactly one of hostid and clusterid")
    if p.get("update_passwd_on_host"):
        raise param_error("update_passwd_on_host=true is not supported: change the password on Windows (or in "
                          "Active Directory) first, then give it here")
    if "hostid" in p:
        host = find_by_uuid(ctx.db, Host, p["hostid"], "host", "hostid")
        cluster = host.cluster
    else:
        cluster = find_by_uuid(ctx.db, Cluster, p["clusterid"], "cluster", "clusterid")
    if not cluster.failover_address:
        raise param_error(f"Cluster {cluster.name} is not linked to a failover cluster")
    credentials = _credentials(p, cluster.failover_address, f"Cluster {cluster.name}")
    if credentials is None:
        raise param_error("Invalid parameter username: must not be empty")
    driver = open_driver(cluster.failover_address, credentials,
                         cluster_credentials.options_for(ctx.db, cluster.id))
    try:
        driver.report()
    except DriverError as exc:
        raise _refusal(exc, f"the new account for cluster {cluster.name}", cluster.failover_address) from None
    finally:
        driver.close()
    cluster_credentials.store_credentials(ctx.server, cluster, credentials)
    events.record_event(ctx.db, "HOST.UPDATE", f"Changed the account used for cluster {cluster.name} to "
                        f"{credentials.username}", ctx.actor, resource_type="Cluster", resource_uuid=cluster.uuid,
                        resource_name=cluster.name)
    ctx.db.flush()
    follower_service(ctx.server).links.forget(cluster.failover_address)
    wake(ctx.server, cluster.id)
    return {"success": True}


def _cluster_names(failover_name: str, cloud_name: str) -> str:
    """The failover cluster, and the CloudStack cluster that manages it when its name differs."""
    if failover_name.lower() == cloud_name.lower():
        return f"failover cluster {failover_name}"
    return f"failover cluster {failover_name} (cluster {cloud_name})"


def _csv_check(ctx: CallContext, cluster: Cluster, path: str) -> VolumeFacts | None:
    """PreSetup primary storage must be a Cluster Shared Volume of the cluster's failover cluster."""
    if not cluster.failover_address:
        return None
    report = quorate_report(ctx.server, cluster)
    disk = report.csv(path)
    if disk is None:
        csvs = ", ".join(d.path for d in report.disks if d.path) or "none"
        raise param_error(f"{path} is not a Cluster Shared Volume of {_cluster_names(report.name, cluster.name)}; "
                          f"its CSVs are: {csvs}")
    return VolumeFacts(capacity_bytes=disk.capacity_bytes, used_bytes=disk.capacity_bytes - disk.free_bytes)


register_presetup_check(_csv_check)

"""How the management server reaches a cluster's failover cluster: the account (stored encrypted) and the
connection options (settings under hyperv.winrm.*, and the nodes' addresses from the hosts' URLs).

The password is encrypted with the server's secret.key (the same store as users' secret keys), decrypted only to
open a driver, and never rendered, logged or put in an event.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import Credentials, DriverError, DriverOptions
from clusterstack.hypervisor.registry import driver_kind
from clusterstack.server import settings
from clusterstack.server.db.models.infrastructure import Cluster, Host
from clusterstack.server.identity import secret_store
from clusterstack.server.state import ServerState

CERT_VALIDATION = settings.define_setting(
    "hyperv.winrm.cert.validation", True, "Hyper-V",
    "Check the certificate a failover cluster's WinRM HTTPS listener presents (turn off only for a test lab)")
CA_FILE = settings.define_setting(
    "hyperv.winrm.ca.file", "", "Hyper-V",
    "A CA bundle (PEM file on the management server) that signed the clusters' WinRM certificates; empty: the "
    "system's CAs")
PINNED_SHA256 = settings.define_setting(
    "hyperv.winrm.cert.sha256", "", "Hyper-V",
    "Accept exactly the WinRM certificate with this SHA-256 fingerprint (hex) instead of validating it")
TIMEOUT = settings.define_setting(
    "hyperv.winrm.timeout", 30.0, "Hyper-V", "Seconds one PowerShell remoting call may take", minimum=1)
POLL_INTERVAL = settings.define_setting(
    "hyperv.winrm.poll.interval", 0.5, "Hyper-V",
    "Seconds between looks for changes on a failover cluster reached over WinRM (it has no change feed)",
    minimum=0.05)


def credentials_of(state: ServerState, cluster: Cluster) -> Credentials | None:
    if not cluster.username or not cluster.password_encrypted:
        return None
    password = secret_store.for_data_dir(state.data_dir).decrypt(cluster.password_encrypted)
    return Credentials(cluster.username, password)


def store_credentials(state: ServerState, cluster: Cluster, credentials: Credentials) -> None:
    cluster.username = credentials.username
    cluster.password_encrypted = secret_store.for_data_dir(state.data_dir).encrypt(credentials.password)


def options_for(db: Session, cluster_id: int | None, extra_nodes: tuple[tuple[str, str], ...] = ()) -> DriverOptions:
    """The driver options in force: the settings, and the WinRM addresses of the cluster's hosts."""
    nodes: list[tuple[str, str]] = list(extra_nodes)
    if cluster_id is not None:
        for node, url in db.execute(select(Host.node_name, Host.url).where(Host.cluster_id == cluster_id,
                                                                           Host.removed.is_(None))):
            if node and url and _is_winrm(url):
                nodes.append((node, url))
    return DriverOptions(
        timeout=float(settings.get(db, TIMEOUT)),
        cert_validation=bool(settings.get(db, CERT_VALIDATION)),
        ca_file=str(settings.get(db, CA_FILE)) or None,
        pinned_sha256=str(settings.get(db, PINNED_SHA256)) or None,
        node_addresses=tuple(nodes),
        poll_interval=float(settings.get(db, POLL_INTERVAL)),
    )


def _is_winrm(url: str) -> bool:
    try:
        return driver_kind(url) == "winrm"
    except DriverError:
        return False

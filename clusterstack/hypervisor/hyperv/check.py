"""`clusterstack hyperv check URL`: can clusterstack manage this failover cluster? Connects as the driver would,
prints the cluster, its nodes, quorum, CSVs and the Windows features, and names the first thing that is wrong in
plain words (exit 1)."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console
from rich.table import Table

from clusterstack.hypervisor.base import (
    AccessDenied,
    AuthenticationFailed,
    CertificateRejected,
    ClusterUnreachable,
    Credentials,
    DriverError,
    DriverOptions,
    QuorumLost,
)
from clusterstack.hypervisor.hyperv.driver import HyperVDriver

PASSWORD_VARIABLE = "CLUSTERSTACK_WINRM_PASSWORD"
REQUIRED_FEATURES = ("Failover-Clustering", "Hyper-V")


def advice(exc: DriverError, url: str) -> str:
    """What to do about a failure, in an operator's words."""
    if isinstance(exc, CertificateRejected):
        return (f"The certificate of {url} is not trusted. Give --ca-file with the CA that issued it, or --pin "
                "with its SHA-256 fingerprint (Get-ChildItem Cert:\\LocalMachine\\My | Format-List Thumbprint is SHA-1;"
                " use certutil -hashfile on the exported certificate with SHA256).")
    if isinstance(exc, AuthenticationFailed):
        return ("Authentication failed: check the user name (DOMAIN\\user) and password, and that NTLM or Kerberos "
                "(Negotiate) is enabled on the WinRM service (winrm get winrm/config/service/auth).")
    if isinstance(exc, AccessDenied):
        return ("The account may log on but not manage the cluster: make it a member of the local Administrators "
                "group on every node (or grant it Full Control with Grant-ClusterAccess) and of Hyper-V "
                "Administrators.")
    if isinstance(exc, ClusterUnreachable):
        return (f"Nothing answers WinRM at {url}: is there an HTTPS listener (winrm enumerate "
                "winrm/config/listener), and is TCP 5986 open in Windows Firewall (rule 'Windows Remote Management "
                "(HTTPS-In)')?")
    if isinstance(exc, QuorumLost):
        return "The failover cluster has no quorum: the Cluster service is not running. Bring nodes back first."
    return str(exc)


@click.group()
def hyperv() -> None:
    """Check and inspect real Hyper-V failover clusters."""


@hyperv.command()
@click.argument("url")
@click.option("--username", "-u", required=True, help="DOMAIN\\user of an account that administers the cluster.")
@click.option("--auth", default="negotiate", show_default=True, type=click.Choice(["negotiate", "ntlm", "kerberos",
                                                                                   "credssp"]))
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA bundle for the certificate.")
@click.option("--pin", help="Accept exactly the certificate with this SHA-256 fingerprint (hex).")
@click.option("--insecure", is_flag=True, help="Do not check the certificate (a lab only).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per call.")
def check(url: str, username: str, auth: str, ca_file: str | None, pin: str | None, insecure: bool,
          timeout: float) -> None:
    """Connect to URL (https://cluster:5986) as the management server would and report what it finds.

    The password comes from $CLUSTERSTACK_WINRM_PASSWORD, or a prompt.
    """
    console = Console()
    password = os.environ.get(PASSWORD_VARIABLE) or click.prompt(f"Password for {username}", hide_input=True)
    options = DriverOptions(timeout=timeout, cert_validation=not insecure, ca_file=ca_file, pinned_sha256=pin)
    try:
        driver = HyperVDriver(url, Credentials(username, password, auth), options)
    except DriverError as exc:
        console.print(f"[red]✗[/red] {exc}")
        sys.exit(1)
    try:
        problems = _check(console, driver, url)
    except DriverError as exc:
        console.print(f"[red]✗[/red] {advice(exc, url)}")
        console.print(f"  ({exc})", style="dim")
        sys.exit(1)
    finally:
        driver.close()
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/red] {problem}")
        sys.exit(1)
    console.print("[green]✓[/green] clusterstack can manage this failover cluster: addCluster "
                  f"url={url} username={username} password=...")


def _check(console: Console, driver: HyperVDriver, url: str) -> list[str]:
    report = driver.report()
    console.print(f"[green]✓[/green] Connected to {url}: failover cluster [bold]{report.name}[/bold], quorum "
                  f"{report.quorum.state} ({report.quorum.votes} votes, {report.quorum.votes_needed} needed, "
                  f"{report.quorum.model})")
    nodes = Table("Name", "Status", "Assigned Vote", "Current Vote", "Address", title="Nodes")
    for node in report.nodes:
        nodes.add_row(node.name, node.state, str(node.assigned_vote), str(node.current_vote), node.address or "")
    console.print(nodes)
    disks = Table("Name", "Status", "Assigned To", "Owner Node", "Disk Number", "Volume", title="Disks")
    for disk in report.disks:
        volume = (f"{disk.path} (CSVFS {disk.free_bytes / 2**30:.1f} GB free of {disk.capacity_bytes / 2**30:.1f} GB)"
                  if disk.path else "")
        disks.add_row(disk.name, disk.state, disk.assigned_to, disk.owner_node or "", str(disk.disk_number), volume)
    console.print(disks)
    console.print(f"{len(report.roles)} virtual machine role(s)")
    problems = []
    features = driver.features()
    for feature in REQUIRED_FEATURES:
        if features.get(feature):
            console.print(f"[green]✓[/green] {feature} is installed")
        else:
            problems.append(f"{feature} is not installed: Install-WindowsFeature -Name {feature} "
                            "-IncludeManagementTools")
    if not any(d.path for d in report.disks):
        problems.append("The cluster has no Cluster Shared Volume: add one (Add-ClusterSharedVolume) for primary "
                        "storage")
    unreachable = [n.name for n in report.nodes if n.address is None]
    if unreachable:
        problems.append(f"No address is known for node(s) {', '.join(unreachable)} (Get-ClusterNetworkInterface "
                        "shows none)")
    return problems

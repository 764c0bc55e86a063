"""`clusterstack sim`: serve a simulated failover cluster, drive it, or run a scenario on virtual time."""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import click

DEFAULT_SIM_URL = "http://127.0.0.1:8081"


def seed_topology() -> Path:
    return Path(str(resources.files("clusterstack.simulator") / "topologies" / "seed.yaml"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def sim() -> None:
    """A simulated Hyper-V failover cluster: serve it, inject faults, run scenarios."""


@sim.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: the event log and the final state.")
def run(scenario: Path, as_json: bool) -> None:
    """Run SCENARIO.yaml on virtual time, as fast as possible."""
    from clusterstack.simulator.runner import run_scenario_file
    from clusterstack.simulator.scenario import ScenarioError

    try:
        result = run_scenario_file(scenario)
    except ScenarioError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result))
        return
    from clusterstack.simulator.status_view import render

    console = _console()
    console.print(f"{'Time':>10}  {'Level':<11} {'Source':<18} {'Event':>5}  {'Computer':<16} Message", style="bold",
                  highlight=False)
    # the scenario's own steps (what the operator did) between the cluster's events, each before what it caused
    steps = sorted(result["steps"], key=lambda s: s["time"])
    next_step = 0
    for entry in result["events"]:
        while next_step < len(steps) and steps[next_step]["time"] <= entry["time"]:
            _print_step(console, steps[next_step])
            next_step += 1
        console.print(f"{entry['time']:>9.1f}s  {entry['level']:<11} {entry['source'].rsplit('-', 1)[-1]:<18} "
                      f"{entry['id']:>5}  {entry['node']:<16} {entry['message']}", highlight=False, soft_wrap=True)
    for step in steps[next_step:]:
        _print_step(console, step)
    final = result["final"]
    render({"name": final["cluster"], "quorum": final["quorum"], "nodes": final["nodes"],
            "roles": [{**r, "information": ""} for r in final["roles"]], "disks": final["disks"]}, console)


def _print_step(console: Any, step: dict[str, Any]) -> None:
    console.print(f"{step['time']:>9.1f}s  {'Step':<11} {'scenario':<18} {'':>5}  {'':<16} {step['step']}",
                  style="cyan", highlight=False, soft_wrap=True)


@sim.command()
@click.option("--topology", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A scenario/topology file (default: the seed's cluster CI1).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int,
              help="The cluster's API port; node i answers on port + 1 + i.")
@click.option("--speed", default=1.0, show_default=True, type=float, help="Simulated seconds per wall second.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the cluster in this file so that a restart finds its roles again.")
@click.option("--winrm-prefix", default=None, metavar="A.B.C",
              help="Answer WinRM (PowerShell remoting, docs/hyperv-cmdlets.md): the cluster on A.B.C.10, node i on "
                   "A.B.C.<11+i> (three octets of 127.0.0.0/8, e.g. 127.81.0).")
@click.option("--winrm-port", default=5986, show_default=True, type=int, help="The WinRM HTTPS port.")
@click.option("--winrm-http-port", default=None, type=int,
              help="Also answer WinRM over HTTP (NTLM message encryption) on this port, e.g. 5985.")
def serve(topology: Path | None, host: str, port: int, speed: float, state_file: Path | None,
          winrm_prefix: str | None, winrm_port: int, winrm_http_port: int | None) -> None:
    """Serve a simulated failover cluster over HTTP (docs/simulator-api.md)."""
    import uvicorn

    from clusterstack.simulator.http_api import create_app
    from clusterstack.simulator.scenario import ScenarioError, load_topology
    from clusterstack.simulator.service import SimulatedCluster

    if speed <= 0:
        raise click.BadParameter("must be positive", param_hint="--speed")
    try:
        spec = load_topology(topology or seed_topology())
    except ScenarioError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    winrm = None
    if winrm_prefix is not None:
        from clusterstack.simulator.winrm.endpoints import WinRMConfig

        try:
            winrm = WinRMConfig(prefix=winrm_prefix, https_port=winrm_port, http_port=winrm_http_port)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--winrm-prefix") from None
    sim = SimulatedCluster(spec, host=host, port=port, speed=speed, state_file=state_file, winrm=winrm)
    app = create_app(sim)
    nodes = ", ".join(f"{n.name} http://{host}:{port + 1 + i}" for i, n in enumerate(spec.nodes))
    click.echo(f"clusterstack simulator: failover cluster {spec.name} at http://{host}:{port} (nodes: {nodes})")
    addresses = sim.winrm_addresses()
    if addresses is not None:
        winrm_nodes = ", ".join(f"{name} {url}" for name, url in addresses["nodes"].items())
        click.echo(f"WinRM: cluster {addresses['cluster']}, nodes {winrm_nodes}; CA {addresses['ca_file']} "
                   "(NTLM CLUSTERSTACK\\Administrator)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _console() -> Any:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    return console


def _sim_url(url: str | None) -> str:
    return (url or os.environ.get("CLUSTERSTACK_SIM_URL") or DEFAULT_SIM_URL).rstrip("/")


def _fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit: the command could not do what it says."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _call(url: str | None, method: str, path: str, body: dict[str, Any] | None = None,
          expect: tuple[str, ...] = ()) -> dict[str, Any]:
    """One request to the simulator; anything but the simulator's JSON answer (with the `expect`ed keys) ends the
    command with one line saying what answered instead."""
    import httpx

    base = _sim_url(url)
    try:
        response = httpx.request(method, base + path, json=body, timeout=30)
    except httpx.TransportError as exc:
        _fail(f"the simulator at {base} does not answer ({exc.__class__.__name__}); start it with "
              "`clusterstack sim serve` or point --sim / CLUSTERSTACK_SIM_URL at it")
    except httpx.InvalidURL as exc:
        _fail(f"{base} is not a URL the simulator can be reached at ({exc}); give --sim http://HOST:PORT")
    try:
        data = response.json() if response.content else {}
    except ValueError:
        data = None
    if isinstance(data, dict) and response.status_code >= 400 and isinstance(data.get("message"), str):
        _fail(data["message"])
    if not isinstance(data, dict) or response.status_code >= 400 or any(key not in data for key in expect):
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        _fail(f"{base} is not a clusterstack simulator: {method} {path} answered HTTP {response.status_code} "
              f"({kind}) instead of the simulator's JSON; point --sim or CLUSTERSTACK_SIM_URL at the simulator "
              f"(the demo's is {DEFAULT_SIM_URL})")
    return data


sim_option = click.option("--sim", "sim_url", default=None, metavar="URL",
                          help=f"Simulator address (default $CLUSTERSTACK_SIM_URL or {DEFAULT_SIM_URL}).")


@sim.command()
@sim_option
@click.option("--json", "as_json", is_flag=True, help="Print the cluster report as one JSON object.")
def status(sim_url: str | None, as_json: bool) -> None:
    """Show Roles, Nodes and Disks as Failover Cluster Manager does."""
    report = _call(sim_url, "GET", "/cluster", expect=("name", "quorum", "nodes", "roles", "disks"))
    if as_json:
        click.echo(json.dumps(report))
        return
    from clusterstack.simulator.status_view import render

    render(report, _console())


def _fault(sim_url: str | None, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return _call(sim_url, "POST", f"/faults/{kind}", body, expect=("applied", "cursor"))


def _within(result: dict[str, Any], key: str) -> str:
    """'within 10 s' in simulated seconds, with the wall-clock time when the simulator runs faster or slower."""
    seconds = float(result.get(key) or 0)
    speed = float(result.get("speed") or 1)
    text = f"within {seconds:g} s"
    if speed != 1:
        text += f" ({seconds / speed:.3g} s of wall time at --speed {speed:g})"
    return text


def _quarantine_left(node: dict[str, Any], result: dict[str, Any]) -> str:
    until = node.get("quarantined_until")
    if until is None:
        return ""
    left = max(0.0, float(until) - float(result.get("time") or 0))
    return f" for another {left / 60:.0f} min" if left < 3600 else f" for another {left / 3600:.1f} h"


@sim.command("node-down")
@sim_option
@click.argument("node")
def node_down(sim_url: str | None, node: str) -> None:
    """Crash NODE: it stops answering now; the cluster notices after the heartbeat threshold."""
    result = _fault(sim_url, "node-down", {"node": node})
    name = result["node"]["name"]
    if result["node"]["state"] in ("Down", "Quarantined"):  # not a member: nothing for the cluster to notice
        click.echo(f"{name} is down; the cluster already had it {result['node']['state']}, so there is nothing "
                   "for it to notice")
        return
    click.echo(f"{name} is down; the cluster will notice {_within(result, 'detect_seconds')} and fail its roles "
               "over to the other nodes")


@sim.command("node-up")
@sim_option
@click.argument("node")
@click.option("--clear-quarantine", is_flag=True,
              help="Start-ClusterNode -ClearQuarantine: a quarantined node joins now instead of after its quarantine.")
def node_up(sim_url: str | None, node: str, clear_quarantine: bool) -> None:
    """Start NODE's machine again: it joins the cluster (a quarantined node only with --clear-quarantine)."""
    result = _fault(sim_url, "node-up", {"node": node})
    found = result["node"]
    name = found["name"]
    if found["state"] == "Quarantined":
        if not clear_quarantine:
            _fail(f"{name} runs but is Quarantined{_quarantine_left(found, result)} (too many failures within an "
                  f"hour, event 1683): the cluster will not take it back; `clusterstack sim node-up {name} "
                  "--clear-quarantine` clears the quarantine (Start-ClusterNode -ClearQuarantine)")
        _call(sim_url, "POST", f"/nodes/{name}/clear-quarantine", {}, expect=("name", "state"))
        click.echo(f"{name} is out of quarantine and starting; it joins the cluster {_within(result, 'join_seconds')}")
        return
    if found["state"] in ("Up", "Paused"):
        click.echo(f"{name} is already running ({found['state']})")
        return
    click.echo(f"{name} is starting; it joins the cluster {_within(result, 'join_seconds')}")


@sim.command()
@sim_option
@click.argument("nodes", nargs=-1, required=True)
def partition(sim_url: str | None, nodes: tuple[str, ...]) -> None:
    """Cut NODES off from every other node."""
    result = _fault(sim_url, "partition", {"nodes": list(nodes)})
    verb = "is" if len(nodes) == 1 else "are"
    click.echo(f"{', '.join(nodes)} {verb} cut off from every other node; the cluster will notice "
               f"{_within(result, 'detect_seconds')}")


@sim.command()
@sim_option
def heal(sim_url: str | None) -> None:
    """Restore every network path between nodes."""
    result = _fault(sim_url, "heal", {})
    click.echo(f"Every network path between nodes is back; cut-off nodes rejoin {_within(result, 'heal_seconds')}")


@sim.command("disk-fail")
@sim_option
@click.argument("disk")
def disk_fail(sim_url: str | None, disk: str) -> None:
    """Fail cluster disk DISK: the roles on it fail."""
    _fault(sim_url, "disk-fail", {"disk": disk})
    click.echo(f"{disk} has failed; the roles on it have failed with it")


@sim.command("disk-repair")
@sim_option
@click.argument("disk")
def disk_repair(sim_url: str | None, disk: str) -> None:
    """Bring cluster disk DISK back online."""
    _fault(sim_url, "disk-repair", {"disk": disk})
    click.echo(f"{disk} is Online again; roles waiting for it are started again")


@sim.command("storage-path-lost")
@sim_option
@click.argument("node")
@click.argument("disk")
def storage_path_lost(sim_url: str | None, node: str, disk: str) -> None:
    """NODE loses its direct path to DISK: redirected access through the coordinator."""
    result = _fault(sim_url, "storage-path-lost", {"node": node, "disk": disk})
    click.echo(f"{result['node']['name']} has lost its direct path to {disk}; its I/O to the volume is redirected "
               "through the coordinator node")


@sim.command("storage-path-restored")
@sim_option
@click.argument("node")
@click.argument("disk")
def storage_path_restored(sim_url: str | None, node: str, disk: str) -> None:
    """NODE's direct path to DISK is back."""
    result = _fault(sim_url, "storage-path-restored", {"node": node, "disk": disk})
    click.echo(f"{result['node']['name']} reaches {disk} directly again")


@sim.command()
@sim_option
@click.argument("node")
def drain(sim_url: str | None, node: str) -> None:
    """Suspend-ClusterNode -Drain: move NODE's roles away, then pause it."""
    result = _call(sim_url, "POST", f"/nodes/{node}/drain", {}, expect=("name", "state", "drain_status"))
    click.echo(f"drain {result['name']}: {result['drain_status']}, node {result['state']}")


@sim.command()
@sim_option
@click.argument("node")
@click.option("--failback", is_flag=True, help="Move the drained roles back.")
def resume(sim_url: str | None, node: str, failback: bool) -> None:
    """Resume-ClusterNode: NODE takes roles again."""
    result = _call(sim_url, "POST", f"/nodes/{node}/resume", {"failback": failback}, expect=("name", "state"))
    click.echo(f"resume {result['name']}: node {result['state']}")


@sim.command()
@sim_option
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Rehearse on this scenario or topology file's cluster (as it starts) instead of a simulator.")
@click.option("--node", "nodes", multiple=True, required=True, help="A node to crash (repeat for several).")
@click.option("--disk", "disks", multiple=True, help="A cluster disk to fail as well (repeatable).")
@click.option("--all", "every_role", is_flag=True, help="List every role, not only those the failure touches.")
@click.option("--json", "as_json", is_flag=True, help="Print the rehearsal as one JSON object.")
def rehearse(sim_url: str | None, scenario: Path | None, nodes: tuple[str, ...], disks: tuple[str, ...],
             every_role: bool, as_json: bool) -> None:
    """What the cluster would do if NODE crashed: quorum, each role's new owner or why it stays down. Changes
    nothing."""
    from clusterstack.failover import Cluster, ClusterError
    from clusterstack.failover.rehearsal import rehearse as rehearse_failure
    from clusterstack.failover.rehearsal_state import cluster_from_state
    from clusterstack.simulator.rehearsal_view import render, state_from_report

    if scenario is not None:
        from clusterstack.simulator.scenario import ScenarioError, load_topology

        try:
            cluster = Cluster.from_spec(load_topology(scenario))
        except ScenarioError as exc:
            _fail(str(exc))
    else:
        report = _call(sim_url, "GET", "/cluster", expect=("name", "quorum", "nodes", "roles", "disks"))
        cluster = cluster_from_state(state_from_report(report))
    if len({n.lower() for n in nodes}) >= len(cluster.nodes):
        _fail("rehearsing the loss of every node tells nothing: leave at least one node")
    try:
        answer = rehearse_failure(cluster, nodes, disks, every_role=every_role)
    except ClusterError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(answer.to_dict(affected_only=not every_role)))
        return
    render(answer, _console(), every_role=every_role)

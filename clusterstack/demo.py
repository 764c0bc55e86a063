"""`clusterstack demo`: the seed's cloud on one machine.

Starts the failover-cluster simulator (cluster CI1, nodes HYPERVCLLOUD13 and HYPERVCLLOUD17, CSV
C:\\ClusterStorage\\Volume1) and the management server on the embedded defaults (SQLite in the data directory),
then, through the CloudStack API like any operator would, sets up what is not there yet: zone HVCluster, pod P1,
cluster CI1, both hosts, primary storage PS1 (PreSetup, scope CLUSTER), the offerings "HA Offering" and "Small
Instance", and a Hyper-V VHD template. Restarting it keeps everything (database and simulated cluster state
live in the data directory).
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx

SIM_PORT = 8081
API_PORT = 8080
WINRM_PREFIX = "127.81.0"  # the demo cluster's network: CI1 at 127.81.0.10, its nodes at .11 and .12
WINRM_PORT = 5986
SIM_USERNAME = "CLUSTERSTACK\\Administrator"  # the simulator's default account (simulator/winrm/accounts.py)
SIM_PASSWORD = "Password1!"
TEMPLATE_NAME = "Windows Server 2016 (VHD)"

log = logging.getLogger("clusterstack.demo")


class ApiClient:
    """A small signed CloudStack API client (the same signature any CloudStack client computes)."""

    def __init__(self, endpoint: str, api_key: str, secret_key: str) -> None:
        self.endpoint = endpoint
        self.api_key = api_key
        self.secret_key = secret_key
        self.http = httpx.Client(timeout=60)

    def authenticate(self, query: dict[str, str]) -> None:
        """Sign the request with the key pair (a subclass may use a login session instead)."""
        from clusterstack.server.api.signing import sign_params

        query["apikey"] = self.api_key
        query["signature"] = sign_params(query, self.secret_key)

    def __call__(self, command: str, **params: Any) -> dict[str, Any]:
        query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
        query.update(command=command, response="json")
        self.authenticate(query)
        response = self.http.get(self.endpoint, params=query)
        body = response.json()
        answer = next(iter(body.values()))
        if response.status_code != 200:
            raise click.ClickException(f"{command} failed: {answer.get('errortext')} ({answer.get('errorcode')})")
        if "jobid" in answer and command not in ("queryAsyncJobResult",):
            return self.wait(answer["jobid"])
        return answer

    def wait(self, job_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self("queryAsyncJobResult", jobid=job_id)
            if job["jobstatus"] == 1:
                return job.get("jobresult", {})
            if job["jobstatus"] == 2:
                raise click.ClickException(f"job {job_id} failed: {job['jobresult'].get('errortext')}")
            time.sleep(0.2)
        raise click.ClickException(f"job {job_id} did not finish in {timeout:.0f} s")

    def first(self, command: str, entity: str, **params: Any) -> dict[str, Any] | None:
        found = self(command, **params).get(entity, [])
        return found[0] if found else None


def _windows_os_type(api: ApiClient) -> str:
    types = api("listOsTypes").get("ostype", [])
    for wanted in ("Windows Server 2016 (64-bit)", "Windows Server 2019 (64-bit)"):
        for os_type in types:
            if os_type["description"] == wanted:
                return str(os_type["id"])
    return str(types[0]["id"])


@dataclass(frozen=True)
class ClusterTarget:
    """How addCluster reaches the failover cluster: its address and, over WinRM, an account and the CA that
    signed its certificate (set as hyperv.winrm.ca.file)."""

    url: str
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None

    @classmethod
    def of_simulator(cls, addresses: dict[str, Any] | None, json_url: str) -> ClusterTarget:
        """The simulator's WinRM cluster address when it answers WinRM, else its JSON API."""
        if not addresses:
            return cls(json_url)
        return cls(addresses["cluster"], SIM_USERNAME, SIM_PASSWORD, addresses["ca_file"])


def set_up_seed_cloud(api: ApiClient, target: str | ClusterTarget) -> dict[str, str]:
    """Create, through the API, whatever of the seed's cloud does not exist yet; answer the ids."""
    if isinstance(target, str):
        target = ClusterTarget(target)
    account = {"username": target.username, "password": target.password} if target.username else {}
    if target.ca_file:
        api("updateConfiguration", name="hyperv.winrm.ca.file", value=target.ca_file)
    zone = api.first("listZones", "zone", name="HVCluster") or api(
        "createZone", name="HVCluster", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.102.192.1",
    )["zone"]
    if zone.get("allocationstate") != "Enabled":
        api("updateZone", id=zone["id"], allocationstate="Enabled")
    pod = api.first("listPods", "pod", name="P1", zoneid=zone["id"]) or api(
        "createPod", name="P1", zoneid=zone["id"], gateway="10.102.192.1", netmask="255.255.255.0",
        startip="10.102.192.100", endip="10.102.192.200",
    )["pod"]
    cluster = api.first("listClusters", "cluster", name="CI1", zoneid=zone["id"]) or api(
        "addCluster", clustername="CI1", clustertype="CloudManaged", hypervisor="Hyperv", zoneid=zone["id"],
        podid=pod["id"], url=target.url, **account,
    )["cluster"][0]
    hosts = {h["name"] for h in api("listHosts", clusterid=cluster["id"]).get("host", [])}
    for node in ("HYPERVCLLOUD13", "HYPERVCLLOUD17"):
        if node not in hosts:
            api("addHost", zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], hypervisor="Hyperv",
                url=f"http://{node}", username="administrator", password="demo")
    if not api.first("listStoragePools", "storagepool", name="PS1"):
        api("createStoragePool", name="PS1", zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"],
            scope="CLUSTER", hypervisor="Hyperv", url="PreSetup://CI1/C:\\ClusterStorage\\Volume1")
    offerings = {o["name"] for o in api("listServiceOfferings").get("serviceoffering", [])}
    if "HA Offering" not in offerings:
        api("createServiceOffering", name="HA Offering", displaytext="HA Offering", storagetype="shared",
            provisioningtype="thin", cpunumber=1, cpuspeed=500, memory=512, offerha=True)
    if "Small Instance" not in offerings:
        api("createServiceOffering", name="Small Instance", displaytext="Small Instance", storagetype="shared",
            provisioningtype="thin", cpunumber=1, cpuspeed=500, memory=512, offerha=False)
    template = api.first("listTemplates", "template", templatefilter="all", name=TEMPLATE_NAME)
    if template is None:
        template = api("registerTemplate", name=TEMPLATE_NAME, displaytext=TEMPLATE_NAME, format="VHD",
                       hypervisor="Hyperv", ostypeid=_windows_os_type(api), zoneid=zone["id"],
                       url="http://templates.example/win2016.vhd", ispublic=True, isfeatured=True)["template"][0]
    return {"zone": zone["id"], "pod": pod["id"], "cluster": cluster["id"], "template": template["id"]}


def _cli_command() -> str:
    """How this shell reaches the `clusterstack` command: its name when it is on PATH, else its path (the venv's)."""
    installed = Path(sys.executable).parent / "clusterstack"
    on_path = shutil.which("clusterstack")
    if on_path is not None and Path(on_path).resolve() == installed.resolve():
        return "clusterstack"
    if installed.exists():
        try:
            return str(installed.relative_to(Path.cwd()))
        except ValueError:
            return str(installed)
    return "clusterstack"


def _wait_started(server: Any, thread: threading.Thread, what: str, timeout: float = 300) -> None:
    """Wait until our own uvicorn server listens: probing the URL could find another process on that port."""
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or server.should_exit or time.monotonic() > deadline:
            raise click.ClickException(f"{what} could not start (is the port taken by another process?)")
        time.sleep(0.05)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo keeps its database, keys, logs and simulated cluster "
              "(default: <clusterstack data dir>/demo).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=API_PORT, show_default=True, type=int, help="Management server port.")
@click.option("--sim-port", default=SIM_PORT, show_default=True, type=int,
              help="Simulator port (its nodes answer on the next ports).")
@click.option("--speed", default=1.0, show_default=True, type=float, help="Simulated seconds per wall second.")
@click.option("--driver", type=click.Choice(["http", "winrm"]), default="http", show_default=True,
              help="How the management server reaches the simulated cluster: its JSON API (http), or PowerShell "
              "remoting like a real Windows cluster (winrm: the cluster name answers WinRM on <prefix>.10, node i on "
              "<prefix>.<11+i>).")
@click.option("--winrm-prefix", default=WINRM_PREFIX, show_default=True,
              help="With --driver winrm: three octets of the loopback range for the cluster's network.")
@click.option("--winrm-port", default=WINRM_PORT, show_default=True, type=int,
              help="With --driver winrm: the port every node answers WinRM (HTTPS) on.")
def demo(data_dir: Path | None, host: str, port: int, sim_port: int, speed: float, driver: str, winrm_prefix: str,
         winrm_port: int) -> None:
    """Simulator + management server on the embedded defaults, with the seed's cloud set up."""
    import uvicorn

    from clusterstack.server.app import create_app, open_server
    from clusterstack.server.cli import banner, default_data_dir
    from clusterstack.server.identity.admin_keys import create_admin_keys
    from clusterstack.server.logging_setup import configure_logging
    from clusterstack.simulator.cli import DEFAULT_SIM_URL, seed_topology
    from clusterstack.simulator.http_api import create_app as create_sim_app
    from clusterstack.simulator.scenario import load_topology
    from clusterstack.simulator.service import SimulatedCluster

    directory = (data_dir or default_data_dir() / "demo").expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    sim_url = f"http://{host}:{sim_port}"
    winrm = None
    if driver == "winrm":
        from clusterstack.simulator.winrm.endpoints import WinRMConfig

        try:
            winrm = WinRMConfig(prefix=winrm_prefix, https_port=winrm_port, directory=directory / "winrm-tls")
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--winrm-prefix") from None
    simulated = SimulatedCluster(load_topology(seed_topology()), host=host, port=sim_port, speed=speed,
                                 state_file=directory / "simulator-state.pickle", winrm=winrm)
    sim_server = uvicorn.Server(uvicorn.Config(create_sim_app(simulated), host=host, port=sim_port,
                                               log_level="warning"))
    sim_thread = threading.Thread(target=sim_server.run, name="simulator", daemon=True)
    sim_thread.start()
    _wait_started(sim_server, sim_thread, f"the simulator on {sim_url}")

    configure_logging(directory)
    state = open_server(directory)
    api_server = uvicorn.Server(uvicorn.Config(create_app(state), host=host, port=port, log_level="warning"))

    def set_up() -> None:
        try:
            _wait_started(api_server, api_thread, f"the management server on http://{host}:{port}")
            key, secret = create_admin_keys(state)
            target = ClusterTarget.of_simulator(simulated.winrm_addresses(), sim_url)
            ids = set_up_seed_cloud(ApiClient(f"http://{host}:{port}/client/api", key, secret), target)
        except Exception as exc:
            log.exception("demo set-up failed")
            click.echo(f"demo set-up failed: {exc}", err=True)
            api_server.should_exit = True
            return
        click.echo(banner(host, port))
        click.echo(f"failover cluster simulator: {sim_url} (cluster CI1, nodes HYPERVCLLOUD13, HYPERVCLLOUD17)")
        click.echo(f"log in as admin / password; zone HVCluster {ids['zone']}, template {ids['template']}")
        sim = _cli_command()
        where = "" if sim_url == DEFAULT_SIM_URL else f" --sim {sim_url}"
        click.echo(f"fail a node:  {sim} sim node-down HYPERVCLLOUD17{where}   (bring it back: sim node-up)")
        if sim != "clusterstack":
            click.echo(f"              (clusterstack is {sim}; or `source {Path(sim).parent}/activate` first)")
        click.echo("stop with Ctrl-C; the data stays in " + str(directory))

    api_thread = threading.current_thread()
    threading.Thread(target=set_up, name="demo-setup", daemon=True).start()
    try:
        api_server.run()
        if not api_server.started:
            raise click.ClickException(f"the management server could not listen on {host}:{port} (is another "
                                       "clusterstack running? choose another --port)")
    finally:
        sim_server.should_exit = True
        sim_thread.join(timeout=10)

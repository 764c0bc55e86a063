"""What following N failover clusters costs one management server, idle, and whether it still notices at once.

    .venv/bin/python benchmarks/bench_follow_scale.py            # N = 1, 20, 100; 60 s idle windows
    .venv/bin/python benchmarks/bench_follow_scale.py --small    # N = 1, 5; 10 s windows, for CI

For each N, one process serves N simulated clusters (4 nodes and 50 VM roles each, every node on its own
address) and `clusterstack serve` (SQLite) follows them all. Once every host is Up and the server has settled,
an idle window measures the server process from /proc: CPU % of one core, threads, resident memory, and bytes
written to its log per minute. Then, on cluster 1: sync latency (a role moved out of band in the cluster, until
listVirtualMachines shows its new host; p50/p90 over 10 moves, 5 at CI size) and failure detection (a node
crashed, until its host is Alert, then Down). Prints a table; asserts nothing about time. Goals (issue 17): idle
<= 0.1 % of a core per cluster, Alert <= 1 s, sync p90 <= 200 ms, log < 10 MB a day at 100 clusters.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from loopback import answers, free_port_block

from clusterstack.demo import ApiClient

CLI = [sys.executable, "-m", "clusterstack.cli"]
NODES = 4
ROLES = 50
PORTS_PER_CLUSTER = 1 + NODES


def topology(index: int) -> str:
    nodes = "\n".join(f"    - {{name: N{index}-{j}, memory_mb: 262144, cpus: 64}}" for j in range(NODES))
    roles = "\n".join(f"    - {{name: vm-{index}-{r}, memory_mb: 512, disk: ClusterDisk1, owner: N{index}-{r % NODES}, "
                      f"priority: 2000}}" for r in range(ROLES))
    return f"""\
cluster:
  name: C{index}
  witness: disk
  witness_disk: Witness
  nodes:
{nodes}
  disks:
    - {{name: ClusterDisk1, capacity_gb: 100000, csv: 'C:\\ClusterStorage\\Volume1', owner: N{index}-0}}
    - {{name: Witness, capacity_gb: 1, owner: N{index}-0}}
  roles:
{roles}
"""


# ---- the simulators: N clusters in one process ------------------------------------------------------------

def serve_simulators(count: int, base_port: int, workdir: Path) -> None:
    """(In the child process.) Serve `count` simulated clusters on base_port + 5 i (nodes on the next four)."""
    import uvicorn

    from clusterstack.simulator.http_api import create_app
    from clusterstack.simulator.scenario import load_topology
    from clusterstack.simulator.service import SimulatedCluster

    servers = []
    for index in range(count):
        path = workdir / f"cluster-{index}.yaml"
        path.write_text(topology(index))
        port = base_port + PORTS_PER_CLUSTER * index
        sim = SimulatedCluster(load_topology(path), port=port, speed=1.0)
        config = uvicorn.Config(create_app(sim), host="127.0.0.1", port=port, log_level="warning")
        servers.append(uvicorn.Server(config))

    async def run() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    for server in servers:
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    asyncio.run(run())


# ---- measuring ------------------------------------------------------------------------------------------

def wait_for(predicate: Any, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"never: {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def proc_sample(pid: int) -> tuple[float, int, int]:
    """CPU seconds so far, threads, resident bytes of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return cpu, int(status["Threads"]), int(status["VmRSS"].split()[0]) * 1024


def measure(count: int, window: float, tmp: Path, moves: int = 10) -> dict[str, Any]:
    work = tmp / f"n{count}"
    work.mkdir()
    sim_port = free_port_block(PORTS_PER_CLUSTER * count)
    api_port = free_port_block(1)
    sims = subprocess.Popen([sys.executable, __file__, "--serve-simulators", str(count), str(sim_port), str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen([*CLI, "serve", "--port", str(api_port), "--data-dir", str(work / "ms"),
                               "--log-level", os.environ.get("BENCH_LOG_LEVEL", "info")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{api_port}/client/api"
    try:
        for index in range(count):
            wait_for(lambda i=index: answers(f"http://127.0.0.1:{sim_port + PORTS_PER_CLUSTER * i}/cluster"), 120,
                     "the simulators answer")
        wait_for(lambda: answers(endpoint), 60, "the server answers")
        keys = subprocess.run([*CLI, "admin", "create-keys", "--data-dir", str(work / "ms")], check=True,
                              capture_output=True, text=True).stdout
        values = dict(line.split(" = ", 1) for line in keys.splitlines() if " = " in line)
        api = ApiClient(endpoint, values["apikey"].strip(), values["secretkey"].strip())
        first = set_up(api, count, sim_port)
        wait_for(lambda: _all_up(api, count), 300, "every host Up")
        time.sleep(5)  # the first full passes, the first leases
        log = work / "ms" / "logs" / "management-server.log"
        cpu0, _, _ = proc_sample(server.pid)
        log0 = log.stat().st_size
        time.sleep(window)
        cpu1, threads, rss = proc_sample(server.pid)
        log_bytes = log.stat().st_size - log0
        sync = sync_latency(api, first, sim_port, moves)
        alert, down = failure_detection(api, sim_port)
        return {"n": count, "cpu": 100 * (cpu1 - cpu0) / window, "threads": threads, "rss": rss,
                "log_per_minute": log_bytes * 60 / window, "sync": sync, "alert": alert, "down": down}
    finally:
        for process in (server, sims):
            process.terminate()
        for process in (server, sims):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _all_up(api: ApiClient, count: int) -> bool:
    hosts = api("listHosts", type="Routing", pagesize=500, page=1).get("host", [])
    return len(hosts) == NODES * count and all(h["state"] == "Up" for h in hosts)


def set_up(api: ApiClient, count: int, sim_port: int) -> dict[str, str]:
    """Zone, pod, the N clusters with their hosts; on cluster 0, storage, an offering, a template and one
    instance whose role the latency measurement moves. Answers that instance."""
    zone = api("createZone", name="Scale", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1")["zone"]
    api("updateZone", id=zone["id"], allocationstate="Enabled")
    pod = api("createPod", name="P1", zoneid=zone["id"], gateway="10.1.0.1", netmask="255.255.255.0",
              startip="10.1.0.10", endip="10.1.0.200")["pod"]
    first_cluster = None
    for index in range(count):
        cluster = api("addCluster", clustername=f"C{index}", clustertype="CloudManaged", hypervisor="Hyperv",
                      zoneid=zone["id"], podid=pod["id"],
                      url=f"http://127.0.0.1:{sim_port + PORTS_PER_CLUSTER * index}")["cluster"][0]
        first_cluster = first_cluster or cluster
        for node in range(NODES):
            api("addHost", zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], hypervisor="Hyperv",
                url=f"http://N{index}-{node}", username="administrator", password="bench")
    assert first_cluster is not None
    api("createStoragePool", name="PS0", zoneid=zone["id"], podid=pod["id"], clusterid=first_cluster["id"],
        scope="CLUSTER", hypervisor="Hyperv", url="PreSetup://C0/C:\\ClusterStorage\\Volume1")
    offering = api("createServiceOffering", name="Bench", displaytext="Bench", cpunumber=1, cpuspeed=100, memory=128,
                   offerha=True)["serviceoffering"]
    os_type = api("listOsTypes")["ostype"][0]["id"]
    template = api("registerTemplate", name="Bench", displaytext="Bench", format="VHD", hypervisor="Hyperv",
                   ostypeid=os_type, zoneid=zone["id"], url="http://templates.example/bench.vhd",
                   ispublic=True)["template"][0]
    api("updateConfiguration", name="hyperv.root.disk.size.gb", value="1")
    wait_for(lambda: _all_up(api, count), 300, "every host Up")
    vm: dict[str, str] = api("deployVirtualMachine", zoneid=zone["id"], serviceofferingid=offering["id"],
                             templateid=template["id"], clusterid=first_cluster["id"],
                             name="moved")["virtualmachine"]
    return vm


def sync_latency(api: ApiClient, vm: dict[str, str], sim_port: int, moves: int) -> list[float]:
    samples = []
    sim = f"http://127.0.0.1:{sim_port}"
    for move in range(moves):
        current = api("listVirtualMachines", id=vm["id"])["virtualmachine"][0]["hostname"]
        target = f"N0-{(int(current.rsplit('-', 1)[1]) + 1 + move % 2) % NODES}"
        httpx.post(f"{sim}/roles/{vm['instancename']}/move", json={"node": target, "type": "live"}, timeout=30)
        wait_for(lambda t=target: httpx.get(f"{sim}/roles/{vm['instancename']}", timeout=30).json()["owner_node"]
                 == t, 60, "the move")
        samples.append(wait_for(lambda t=target: api("listVirtualMachines", id=vm["id"])["virtualmachine"][0]
                                ["hostname"] == t, 60, "the cloud follows the move"))
    return samples


def failure_detection(api: ApiClient, sim_port: int) -> tuple[float, float]:
    node = f"N0-{NODES - 1}"

    def state() -> str:
        return str(next(h["state"] for h in api("listHosts", name=node)["host"]))

    httpx.post(f"http://127.0.0.1:{sim_port}/faults/node-down", json={"node": node}, timeout=30)
    started = time.monotonic()
    wait_for(lambda: state() in ("Alert", "Down"), 60, "Alert")
    alert = time.monotonic() - started
    wait_for(lambda: state() == "Down", 120, "Down")
    return alert, time.monotonic() - started


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-simulators":
        serve_simulators(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="CI size: N = 1, 5, 10 s idle windows, 5 moves")
    parser.add_argument("--clusters", type=int, nargs="*", default=None)
    parser.add_argument("--window", type=float, default=None)
    args = parser.parse_args()
    sizes = args.clusters or ([1, 5] if args.small else [1, 20, 100])
    window = args.window or (10.0 if args.small else 60.0)
    print(f"one management server (SQLite) following N simulated clusters of {NODES} nodes and {ROLES} VM roles; "
          f"idle window {window:.0f} s")
    print(f"{'N':>4} {'CPU % core':>10} {'per cluster':>11} {'threads':>7} {'RSS MB':>7} {'log KB/min':>10} "
          f"{'sync p50':>8} {'sync p90':>8} {'Alert':>6} {'Down':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            row = measure(count, window, Path(tmp), 5 if args.small else 10)
            sync = sorted(row["sync"])
            p90 = sync[min(len(sync) - 1, int(len(sync) * 0.9))]
            print(f"{count:>4} {row['cpu']:>10.2f} {row['cpu'] / count:>11.3f} {row['threads']:>7} "
                  f"{row['rss'] / 2**20:>7.0f} {row['log_per_minute'] / 1024:>10.1f} "
                  f"{statistics.median(sync) * 1000:>6.0f}ms {p90 * 1000:>6.0f}ms {row['alert']:>5.1f}s "
                  f"{row['down']:>5.1f}s", flush=True)


if __name__ == "__main__":
    main()

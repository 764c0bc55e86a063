"""HA instances at speed, against the simulator through the real API.

1. Sync latency: a role moved out of band in the failover cluster (Move-ClusterVirtualMachineRole done by
   someone else) until listVirtualMachines shows the instance on its new host: median and p99 over N moves.
   Target: <= 1 s (CloudStack waits for its 60 s ping interval).
2. Deployments: N deployVirtualMachine calls through the API, all async jobs to completion, wall time.
   Target: 1,000 in <= 60 s on this 2-core machine.

`--small` runs the CI size. Figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from loopback import free_port_block, wait_until_answers

from clusterstack.demo import ApiClient, set_up_seed_cloud

TOPOLOGY = """\
cluster:
  name: CI1
  witness: disk
  witness_disk: ClusterDisk2
  nodes:
    - {name: HYPERVCLLOUD13, memory_mb: 1048576, cpus: 512}
    - {name: HYPERVCLLOUD17, memory_mb: 1048576, cpus: 512}
  disks:
    - {name: ClusterDisk1, capacity_gb: 100000, csv: 'C:\\ClusterStorage\\Volume1', owner: HYPERVCLLOUD13}
    - {name: ClusterDisk2, capacity_gb: 1, owner: HYPERVCLLOUD13}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="CI size: 20 moves, 50 deployments")
    parser.add_argument("--speed", type=float, default=50.0,
                        help="simulated seconds per wall second (50: a live migration takes 40 ms, not 2 s)")
    args = parser.parse_args()
    print(f"simulator at {args.speed:g}x real time")
    moves, deployments = (20, 50) if args.small else (100, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        topology = Path(tmp) / "topology.yaml"
        topology.write_text(TOPOLOGY)
        sim_port = free_port_block(3)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            api_port = sock.getsockname()[1]
        sim_url, endpoint = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{api_port}/client/api"
        data_dir = Path(tmp) / "ms"
        cli = [sys.executable, "-m", "clusterstack.cli"]
        processes = [
            subprocess.Popen([*cli, "sim", "serve", "--topology", str(topology), "--port", str(sim_port),
                              "--speed", str(args.speed)], stdout=subprocess.DEVNULL),
            subprocess.Popen([*cli, "serve", "--port", str(api_port), "--data-dir", str(data_dir)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        try:
            wait_until_answers(f"{sim_url}/cluster")
            wait_until_answers(endpoint)
            keys = subprocess.run([*cli, "admin", "create-keys", "--data-dir", str(data_dir)], check=True,
                                  capture_output=True, text=True).stdout
            values = dict(line.split(" = ", 1) for line in keys.splitlines() if " = " in line)
            api = ApiClient(endpoint, values["apikey"].strip(), values["secretkey"].strip())
            ids = set_up_seed_cloud(api, sim_url)
            offering = api("createServiceOffering", name="Bench", displaytext="Bench", cpunumber=1, cpuspeed=100,
                           memory=128, offerha=True)["serviceoffering"]
            api("updateConfiguration", name="hyperv.root.disk.size.gb", value="1")
            while any(h["state"] != "Up" for h in api("listHosts")["host"]):
                time.sleep(0.1)
            deploy(api, ids, offering["id"], deployments)
            latency(api, sim_url, moves)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)


def deploy(api: ApiClient, ids: dict[str, str], offering: str, count: int) -> None:
    """`count` deploys from 8 client threads; each waits for its job through queryAsyncJobResult (ApiClient.wait)."""
    started = time.perf_counter()

    def one(i: int) -> float:
        begun = time.perf_counter()
        api("deployVirtualMachine", zoneid=ids["zone"], serviceofferingid=offering, templateid=ids["template"],
            name=f"bench-{i}")
        return time.perf_counter() - begun

    with ThreadPoolExecutor(max_workers=8) as pool:
        each = sorted(pool.map(one, range(count)))
    elapsed = time.perf_counter() - started
    running = len([v for v in api("listVirtualMachines", listall=True, pagesize=500, page=1)["virtualmachine"]
                   if v["state"] == "Running"])
    p90 = each[min(len(each) - 1, int(len(each) * 0.9))]
    print(f"deployVirtualMachine x {count} through the API, jobs to completion: {elapsed:.1f} s "
          f"({count / elapsed:.1f} per second; target 1,000 in <= 60 s); one deploy, call to job result: median "
          f"{statistics.median(each) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms; first page Running: {running}")


def latency(api: ApiClient, sim_url: str, moves: int) -> None:
    vms = api("listVirtualMachines", listall=True, pagesize=moves, page=1)["virtualmachine"][:moves]
    samples = []
    for vm in vms:
        target = "HYPERVCLLOUD13" if vm["hostname"] == "HYPERVCLLOUD17" else "HYPERVCLLOUD17"
        httpx.post(f"{sim_url}/roles/{vm['instancename']}/move", json={"node": target, "type": "live"}, timeout=30)
        while httpx.get(f"{sim_url}/roles/{vm['instancename']}", timeout=30).json()["owner_node"] != target:
            time.sleep(0.005)
        done = time.perf_counter()  # the cluster completed the move
        while api("listVirtualMachines", id=vm["id"])["virtualmachine"][0]["hostname"] != target:
            time.sleep(0.005)
        samples.append(time.perf_counter() - done)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"out-of-band move -> visible in listVirtualMachines, {len(samples)} moves: median "
          f"{statistics.median(samples) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms "
          "(target <= 1 s)")


if __name__ == "__main__":
    main()

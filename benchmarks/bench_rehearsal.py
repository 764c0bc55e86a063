"""Failover rehearsal and HA admission control at size.

1. Rehearsal of one node's loss in a 64-node cluster with 8,000 roles:
   * engine   in-process: failover.rehearsal.rehearse on the cluster (scratch copy, the crash, every timer until
              the failover has settled, the answer); and building the engine's cluster from a report, which the
              server does once per report it follows;
   * api      rehearseFailoverClusterFailure through the management server over HTTP (signed, JSON), the server
              following a simulator that serves that cluster: the median of N calls (the first, which builds the
              engine's cluster from the followed report, is printed apart).
   Target: <= 50 ms median through the API.
2. HA admission control on a deploy into a 16-node cluster with 2,000 roles (k = 1): the hook's own time, in-process
   (the change made on a scratch copy, then the loss of each of the 16 nodes rehearsed); and, through the API,
   deployVirtualMachine to job completion with the setting at 0 and at 1 (medians). Target: <= 5 ms added.
3. Pacemaker's crm_simulate on a CIB of the same size (64 nodes, 8,000 resources), when it is installed.

    .venv/bin/python benchmarks/bench_rehearsal.py            # the sizes above
    .venv/bin/python benchmarks/bench_rehearsal.py --small    # CI: 16 nodes / 1,000 roles and 8 nodes / 400 roles

Figures only; nothing here asserts on time (machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from loopback import free_port_block, wait_until_answers

from clusterstack.demo import ApiClient, set_up_seed_cloud
from clusterstack.failover import Cluster
from clusterstack.failover.rehearsal import rehearse
from clusterstack.failover.rehearsal_state import cluster_from_state
from clusterstack.simulator.rehearsal_view import state_from_report
from clusterstack.simulator.scenario import load_topology

NODE_MB = 524288  # 512 GB nodes
SIZES = (1024, 2048, 2048, 4096)
PRIORITIES = (3000, 2000, 2000, 2000, 1000, 0)


def topology(nodes: int, roles: int) -> str:
    """A cluster of `nodes` nodes (the first two named as the seed's, so the demo's cloud set-up adds them) with
    `roles` running roles spread round robin, mixed sizes and priorities."""
    names = ["HYPERVCLLOUD13", "HYPERVCLLOUD17"] + [f"HVNODE{i:02d}" for i in range(3, nodes + 1)]
    lines = ["cluster:", "  name: CI1", "  witness: disk", "  witness_disk: ClusterDisk2", "  nodes:"]
    lines += [f"    - {{name: {n}, memory_mb: {NODE_MB}, cpus: 128}}" for n in names]
    lines += ["  disks:", "    - {name: ClusterDisk1, capacity_gb: 1000000, csv: 'C:\\ClusterStorage\\Volume1', "
              "owner: HYPERVCLLOUD13}", "    - {name: ClusterDisk2, capacity_gb: 1, owner: HYPERVCLLOUD13}",
              "  roles:"]
    lines += [f"    - {{name: r-{i:05d}, memory_mb: {SIZES[i % len(SIZES)]}, owner: {names[i % nodes]}, "
              f"priority: {PRIORITIES[i % len(PRIORITIES)]}}}" for i in range(roles)]
    return "\n".join(lines) + "\n"


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        begun = time.perf_counter()
        call()
        out.append(time.perf_counter() - begun)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {ms(statistics.median(ordered))}, p90 {ms(p90)} ({len(ordered)} runs)"


# ---- live simulator and management server ---------------------------------------------------------------------

@contextmanager
def cloud(text: str, nodes: int) -> Iterator[tuple[ApiClient, dict[str, str], str]]:
    """A simulator serving the topology and a management server following it, with the seed's cloud."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "topology.yaml"
        path.write_text(text)
        sim_port = free_port_block(nodes + 1)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            api_port = sock.getsockname()[1]
        sim_url, endpoint = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{api_port}/client/api"
        data_dir = Path(tmp) / "ms"
        cli = [sys.executable, "-m", "clusterstack.cli"]
        processes = [
            subprocess.Popen([*cli, "sim", "serve", "--topology", str(path), "--port", str(sim_port), "--speed",
                              "50"], stdout=subprocess.DEVNULL),
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
            api("updateConfiguration", name="hyperv.root.disk.size.gb", value="1")
            while any(h["state"] != "Up" for h in api("listHosts")["host"]):
                time.sleep(0.1)
            yield api, ids, sim_url
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)


# ---- 1. the rehearsal ------------------------------------------------------------------------------------------

def rehearsal(nodes: int, roles: int, runs: int, api_runs: int) -> None:
    text = topology(nodes, roles)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "topology.yaml"
        path.write_text(text)
        spec = load_topology(path)
    cluster = Cluster.from_spec(spec)
    victim = "HYPERVCLLOUD17"
    answer = rehearse(cluster, [victim])
    moved = [r for r in answer.roles if r.affected]
    print(f"rehearsal: {nodes} nodes, {roles} roles, losing {victim} ({len(moved)} roles affected, "
          f"{len(answer.restart_order())} restarted, {len(answer.stranded(ha_only=True))} HA and "
          f"{len(answer.stranded()) - len(answer.stranded(ha_only=True))} No Auto Start roles stay down, settled after "
          f"{answer.settled_after_seconds:g} s of cluster time)")
    print(f"  engine, rehearse() answering the roles the loss touches (as the API by default): "
          f"{figures(timed(lambda: rehearse(cluster, [victim], every_role=False), runs))}")
    print(f"  engine, rehearse() answering every role (listall): "
          f"{figures(timed(lambda: rehearse(cluster, [victim]), runs))}")
    with cloud(text, nodes) as (api, ids, sim_url):
        report = httpx.get(f"{sim_url}/cluster", timeout=120).json()
        state = state_from_report(report)
        print(f"  engine, cluster built from the report (once per followed report): "
              f"{figures(timed(lambda: cluster_from_state(state), max(3, runs // 10)))}")
        wait_followed(api, ids, roles)

        def call() -> None:
            api("rehearseFailoverClusterFailure", clusterid=ids["cluster"], nodes=victim)

        first = timed(call, 1)[0]
        print(f"  api, rehearseFailoverClusterFailure over HTTP: {figures(timed(call, api_runs))}; the first call "
              f"(builds the engine's cluster from the followed report): {ms(first)}; target <= 50 ms median")


def wait_followed(api: ApiClient, ids: dict[str, str], roles: int) -> None:
    deadline = time.monotonic() + 300
    while True:
        answer = api("listFailoverClusters", clusterid=ids["cluster"])["failovercluster"][0]
        if answer.get("rolecount") == roles or time.monotonic() > deadline:
            return
        time.sleep(0.5)


# ---- 2. admission control --------------------------------------------------------------------------------------

def admission(nodes: int, roles: int, runs: int, deploys: int) -> None:
    from clusterstack.server.orchestration.admission import Change, with_change, worst_case

    text = topology(nodes, roles)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "topology.yaml"
        path.write_text(text)
        cluster = Cluster.from_spec(load_topology(path))

    def hook() -> None:
        work = with_change(cluster, Change("i-2-99999-VM", 2048, 2000, "HYPERVCLLOUD13"))
        assert work is not None
        worst_case(work, 1)

    print(f"admission control (k = 1): {nodes} nodes, {roles} roles")
    print(f"  engine, the hook on one deploy (the change made on a scratch copy, then the loss of each of the {nodes} "
          f"nodes proved harmless or rehearsed): {figures(timed(hook, runs))}; target <= 5 ms added")

    def rehearse_every_loss() -> None:
        work = with_change(cluster, Change("i-2-99999-VM", 2048, 2000, "HYPERVCLLOUD13"))
        assert work is not None
        for node in list(work.nodes):
            rehearse(work, [node], every_role=False)

    print("  engine, for comparison: every loss fully rehearsed, no shortcut: "
          f"{figures(timed(rehearse_every_loss, 5))}")
    with cloud(text, nodes) as (api, ids, _):
        wait_followed(api, ids, roles)
        offering = api("createServiceOffering", name="Bench HA", displaytext="Bench HA", cpunumber=1, cpuspeed=100,
                       memory=512, offerha=True)["serviceoffering"]["id"]
        made = 0

        def deploy() -> None:
            nonlocal made
            made += 1
            api("deployVirtualMachine", zoneid=ids["zone"], serviceofferingid=offering, templateid=ids["template"],
                name=f"bench-{made}")

        timed(deploy, 2)  # warm up: first deploys copy the template
        results = {}
        for value in ("0", "1", "0", "1"):  # interleaved, twice, against drift
            api("updateConfiguration", name="hyperv.ha.admission.failures", value=value)
            time.sleep(2.5)  # settings are cached for 2 s
            results.setdefault(value, []).extend(timed(deploy, deploys))
        off, on = statistics.median(results["0"]), statistics.median(results["1"])
        print(f"  api, deployVirtualMachine to job completion: setting 0 {figures(results['0'])}; setting 1 "
              f"{figures(results['1'])}; added {ms(on - off)} (medians; a deploy's own noise is larger)")


# ---- 3. crm_simulate -------------------------------------------------------------------------------------------

def cib(nodes: int, roles: int) -> str:
    names = [f"node{i}" for i in range(1, nodes + 1)]
    out = ['<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">',
           "<configuration><crm_config><cluster_property_set id=\"cib-bootstrap-options\">",
           '<nvpair id="stonith" name="stonith-enabled" value="false"/>',
           "</cluster_property_set></crm_config><nodes>"]
    out += [f'<node id="{i}" uname="{n}"><utilization id="u{i}"><nvpair id="u{i}m" name="memory" '
            f'value="{NODE_MB}"/></utilization></node>' for i, n in enumerate(names, start=1)]
    out.append("</nodes><resources>")
    out += [f'<primitive id="r{i}" class="ocf" provider="pacemaker" type="Dummy"><utilization id="ru{i}">'
            f'<nvpair id="ru{i}m" name="memory" value="{SIZES[i % len(SIZES)]}"/></utilization></primitive>'
            for i in range(roles)]
    out.append("</resources><constraints>")
    out += [f'<rsc_location id="l{i}" rsc="r{i}" node="{names[i % nodes]}" score="100"/>' for i in range(roles)]
    out.append("</constraints></configuration><status>")
    out += [f'<node_state id="{i}" uname="{n}" in_ccm="true" crmd="online" join="member" expected="member"/>'
            for i, n in enumerate(names, start=1)]
    out.append("</status></cib>")
    return "\n".join(out)


def crm_simulate(nodes: int, roles: int, runs: int) -> None:
    tool = shutil.which("crm_simulate")
    if tool is None:
        print("crm_simulate: not installed here (apt-get install pacemaker-cli-utils), no figure beside ours")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cib.xml"
        path.write_text(cib(nodes, roles))
        env = {**os.environ, "CIB_file": str(path)}

        def one() -> None:
            subprocess.run([tool, "--xml-file", str(path), "--simulate", "--node-fail", "node2"], env=env,
                           check=True, capture_output=True)

        print(f"crm_simulate --simulate --node-fail on {nodes} nodes, {roles} resources (process included): "
              f"{figures(timed(one, runs))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="CI size: well under a minute")
    args = parser.parse_args()
    if args.small:
        rehearsal(16, 1000, runs=20, api_runs=10)
        admission(8, 400, runs=20, deploys=3)
        crm_simulate(16, 1000, runs=3)
    else:
        rehearsal(64, 8000, runs=50, api_runs=30)
        admission(16, 2000, runs=50, deploys=15)
        crm_simulate(64, 8000, runs=5)


if __name__ == "__main__":
    main()

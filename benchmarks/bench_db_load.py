"""Mixed deploy/destroy load on one database: deadlocks, server errors, and whether the cloud still matches the cluster.

    .venv/bin/python benchmarks/bench_db_load.py            # 4 clients for 30 s: SQLite, PostgreSQL, 2 servers on PG
    .venv/bin/python benchmarks/bench_db_load.py --small    # a few seconds each, for CI

Each client loops: deploy an instance (waiting for its job), and every other round destroy one of its own with
expunge=true (waiting for that job too). The same load runs on SQLite (one server), on PostgreSQL with one
server, and on PostgreSQL with two management servers sharing the database (clients alternate between them).

Afterwards, once every job has ended and the follower has had a few passes, the cloud is compared with the
failover cluster: every live instance has a role in the state its power state says, on the host it names, no role
is left without an instance, and every primary storage pool's allocated size is the sum of the volumes on it.

Prints, per configuration: operations, deadlocks (server log lines naming one), 5xx answers and failed jobs,
database/cluster mismatches, and the latency of one operation (call to job result) median and p99; then p99 on
PostgreSQL as a multiple of SQLite's. The issue's goal: 0 deadlocks, 0 5xx, 0 mismatches, p99 within 3x.
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
import sqlalchemy as sa
from loopback import free_port_block, wait_until_answers

from clusterstack.demo import ApiClient, set_up_seed_cloud

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
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
CLI = [sys.executable, "-m", "clusterstack.cli"]


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    server_errors: int = 0
    failed_jobs: int = 0
    refusals: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def fail(self, text: str) -> None:
        """ApiClient's message: "<command> failed: <text> (<code>)" for an answer, "job <id> failed: ..." for a job."""
        code = text.rsplit("(", 1)[-1].rstrip(")")
        with self.lock:
            if text.startswith("job "):
                self.failed_jobs += 1
            elif code.isdigit() and int(code) >= 500:
                self.server_errors += 1
            else:
                self.refusals += 1
            if len(self.errors) < 5:
                self.errors.append(text[:200])


def postgres_database(name: str) -> str:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_postgres_database(name: str) -> None:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run(label: str, tmp: Path, db_url: str, servers: int, clients: int, seconds: float) -> dict[str, Any]:
    work = tmp / label.replace(" ", "-")
    work.mkdir()
    topology = work / "topology.yaml"
    topology.write_text(TOPOLOGY)
    sim_port = free_port_block(3)
    sim_url = f"http://127.0.0.1:{sim_port}"
    processes: list[subprocess.Popen[bytes]] = [
        subprocess.Popen([*CLI, "sim", "serve", "--topology", str(topology), "--port", str(sim_port),
                          "--speed", "50"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    logs = [work / f"server-{i}.log" for i in range(servers)]
    endpoints = []
    try:
        wait_until_answers(f"{sim_url}/cluster", process=processes[0])
        subprocess.run([*CLI, "db", "upgrade", "--db", db_url], check=True, capture_output=True)
        for i in range(servers):
            if i:  # management servers sharing a database share its secret.key too (docs/security.md)
                (work / f"ms{i}").mkdir()
                shutil.copy(work / "ms0" / "secret.key", work / f"ms{i}" / "secret.key")
            port = free_port_block()
            with logs[i].open("wb") as out:
                processes.append(subprocess.Popen(
                    [*CLI, "serve", "--port", str(port), "--data-dir", str(work / f"ms{i}"), "--db", db_url,
                     "--log-level", "warning"], stdout=out, stderr=subprocess.STDOUT))
            endpoints.append(f"http://127.0.0.1:{port}/client/api")
            try:
                wait_until_answers(endpoints[-1], process=processes[-1])
            except RuntimeError:
                raise RuntimeError(logs[i].read_text(errors="replace")[-3000:]) from None
        keys = subprocess.run([*CLI, "admin", "create-keys", "--db", db_url, "--data-dir", str(work / "ms0")],
                              check=True, capture_output=True, text=True).stdout
        values = dict(line.split(" = ", 1) for line in keys.splitlines() if " = " in line)
        apis = [ApiClient(e, values["apikey"].strip(), values["secretkey"].strip()) for e in endpoints]
        ids = set_up_seed_cloud(apis[0], sim_url)
        offering = apis[0]("createServiceOffering", name="Load", displaytext="Load", cpunumber=1, cpuspeed=100,
                           memory=128, offerha=True)["serviceoffering"]["id"]
        apis[0]("updateConfiguration", name="hyperv.root.disk.size.gb", value="1")
        while any(h["state"] != "Up" for h in apis[0]("listHosts")["host"]):
            time.sleep(0.1)
        outcome = Outcome()
        stop_at = time.monotonic() + seconds
        threads = [threading.Thread(target=client, args=(apis[i % servers], ids, offering, i, stop_at, outcome))
                   for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(3)  # a few follower passes after the last job
        mismatches = compare(apis[0], sim_url)
        server_logs = logs + [work / f"ms{i}" / "logs" / "management-server.log" for i in range(servers)]
        deadlocks = sum(log.read_text(errors="replace").lower().count("deadlock") for log in server_logs
                        if log.exists())
        return {"label": label, "outcome": outcome, "mismatches": mismatches, "deadlocks": deadlocks}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def client(api: ApiClient, ids: dict[str, str], offering: str, number: int, stop_at: float,
           outcome: Outcome) -> None:
    mine: list[str] = []
    rounds = 0
    while time.monotonic() < stop_at:
        rounds += 1
        begun = time.perf_counter()
        try:
            if rounds % 2 == 0 and mine:
                vm = mine.pop(random.randrange(len(mine)))
                api("destroyVirtualMachine", id=vm, expunge=True)
            else:
                vm = api("deployVirtualMachine", zoneid=ids["zone"], serviceofferingid=offering,
                         templateid=ids["template"], name=f"load-{number}-{rounds}")["virtualmachine"]["id"]
                mine.append(vm)
            outcome.record(time.perf_counter() - begun)
        except click.ClickException as err:
            outcome.fail(err.message)


def compare(api: ApiClient, sim_url: str) -> list[str]:
    """Where the cloud and the failover cluster disagree, once everything has settled."""
    vms = api("listVirtualMachines", listall=True, pagesize=500, page=1).get("virtualmachine", [])
    roles = {r["name"]: r for r in httpx.get(f"{sim_url}/cluster", timeout=30).json()["roles"]}
    wrong: list[str] = []
    for vm in vms:
        role = roles.pop(vm["instancename"], None)
        if vm["state"] in ("Error", "Destroyed", "Expunging"):
            continue
        if role is None:
            wrong.append(f"{vm['name']} is {vm['state']} in the cloud but has no role")
        elif (vm["state"] == "Running") != (role["state"] == "Online"):
            wrong.append(f"{vm['name']} is {vm['state']} in the cloud, its role {role['state']}")
        elif vm["state"] == "Running" and vm.get("hostname") != role.get("owner_node"):
            wrong.append(f"{vm['name']} is on {vm.get('hostname')} in the cloud, on {role.get('owner_node')}")
    wrong += [f"role {name} has no instance in the cloud" for name in roles if name.startswith("i-")]
    volumes = api("listVolumes", listall=True, pagesize=500, page=1).get("volume", [])
    for pool in api("listStoragePools").get("storagepool", []):
        held = sum(v["size"] for v in volumes if v.get("storageid") == pool["id"] and v["state"] != "Expunged")
        if pool["disksizeallocated"] != held:
            wrong.append(f"pool {pool['name']} shows {pool['disksizeallocated']} bytes allocated, its volumes "
                         f"hold {held}")
    return wrong


def report(result: dict[str, Any]) -> float:
    outcome: Outcome = result["outcome"]
    samples = sorted(outcome.latencies) or [0.0]
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{result['label']:<22} {len(outcome.latencies):>5} ops  deadlocks {result['deadlocks']}  "
          f"5xx {outcome.server_errors}  failed jobs {outcome.failed_jobs}  refused {outcome.refusals}  "
          f"mismatches {len(result['mismatches'])}  latency median {statistics.median(samples) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms")
    for line in outcome.errors + result["mismatches"][:5]:
        print(f"    {line}")
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="CI size: 6 s per configuration")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    seconds = args.seconds or (6.0 if args.small else 30.0)
    name = f"bench_load_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"{args.clients} clients, deploy and destroy (expunge) in turn, {seconds:.0f} s per configuration")
        sqlite = report(run("SQLite, 1 server", tmp, f"sqlite:///{tmp / 'load.db'}", 1, args.clients, seconds))
        try:
            url = postgres_database(name)
            pg1 = report(run("PostgreSQL, 1 server", tmp, url, 1, args.clients, seconds))
            drop_postgres_database(name)
            url = postgres_database(name)
            pg2 = report(run("PostgreSQL, 2 servers", tmp, url, 2, args.clients, seconds))
        finally:
            drop_postgres_database(name)
        print(f"p99 on PostgreSQL as a multiple of SQLite's: 1 server {pg1 / sqlite:.2f}x, "
              f"2 servers {pg2 / sqlite:.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()

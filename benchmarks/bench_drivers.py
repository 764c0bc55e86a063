"""The two failover-cluster drivers side by side, on the same work against the same simulated cluster.

- json:  clusterstack.hypervisor.simulator.SimulatorDriver, the simulator's JSON HTTP API (plain HTTP, no auth,
         a long poll for role changes).
- winrm: clusterstack.hypervisor.hyperv.HyperVDriver, PowerShell remoting (WinRM + PSRP via pypsrp, NTLM over
         HTTPS with certificate validation) to the same simulator's WinRM endpoints: what the management server
         runs against a real Windows failover cluster.

The simulator runs as its own process (`clusterstack sim serve --winrm-prefix ...`, as `bench_vm_sync.py` runs
it), so client and cluster each have a core; all traffic is on 127.x.x.x. Both drivers are opened with
`registry.open_driver`, as the server opens them.

1. report() of a cluster with N roles (each an Off VM with one 8 GiB ROOT.vhdx, created beforehand through the
   JSON driver with start=False), repeated; median, p90, ratio. Plus what one report costs on the wire: WinRM
   pipelines (Connection.run calls), HTTP round trips and HTTP bytes (headers + bodies, before TLS), counted by
   wrapping the client's HTTP send in this process.
2. M deployments, one after another, each on a fresh simulator per driver: create_vm (start=True) then
   wait_for_role_change until the VM is Running. The WinRM driver has no change feed: it polls every
   `--poll-interval` seconds (the server's default, hyperv.winrm.poll.interval, is 0.5 s).
3. role(name), the cheapest read: the per-call protocol floor.

`--small` runs the CI size. Figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import requests.adapters

from clusterstack.hypervisor.base import (
    PRIORITY_MEDIUM,
    Credentials,
    DriverOptions,
    FailoverClusterDriver,
    RoleReport,
    VhdSpec,
    VmSpec,
)
from clusterstack.hypervisor.hyperv.connection import Connection
from clusterstack.hypervisor.registry import open_driver

SIM_USER = "CLUSTERSTACK\\Administrator"
SIM_PASSWORD = "Password1!"  # the simulator's built-in account (clusterstack.simulator.winrm)
GIB = 1024**3

# Two big nodes and a big CSV: room for 1,000 roles with an 8 GiB VHD each (the seed's CI1 has 64 GB nodes
# and a 100 GB CSV).
TOPOLOGY = """\
cluster:
  name: CI1
  profile: 2016
  witness: disk
  witness_disk: ClusterDisk2
  nodes:
    - {name: HYPERVCLLOUD13, memory_mb: 1048576, cpus: 512}
    - {name: HYPERVCLLOUD17, memory_mb: 1048576, cpus: 512}
  disks:
    - {name: ClusterDisk1, capacity_gb: 100000, csv: 'C:\\ClusterStorage\\Volume1', owner: HYPERVCLLOUD13}
    - {name: ClusterDisk2, capacity_gb: 1, owner: HYPERVCLLOUD13}
"""
TOPOLOGY_SUMMARY = ("CI1, 2 nodes (1 TB, 512 CPUs each), disk witness, one 100 TB CSV "
                    "C:\\ClusterStorage\\Volume1, profile 2016")


# ---- counting what goes over the wire (client side, this process) ---------------------------------------

@dataclass
class Wire:
    pipelines: int = 0  # WinRM: Connection.run calls (one PSRP pipeline each)
    requests: int = 0  # HTTP requests sent (either driver; NTLM handshakes included)
    bytes: int = 0  # HTTP headers + bodies, both ways, before TLS

    def reset(self) -> None:
        self.pipelines = self.requests = self.bytes = 0


WIRE = Wire()


def _header_bytes(headers: Any) -> int:
    return sum(len(str(k)) + len(str(v)) + 4 for k, v in headers.items())


def _count_the_wire() -> None:
    """Wrap Connection.run (PSRP pipelines), requests' HTTPAdapter.send (pypsrp's HTTP, NTLM round trips
    included) and httpx.Client.send (the JSON driver's HTTP)."""
    run, adapter_send, client_send = Connection.run, requests.adapters.HTTPAdapter.send, httpx.Client.send

    def counted_run(self: Connection, pipeline: Any) -> Any:
        WIRE.pipelines += 1
        return run(self, pipeline)

    def counted_adapter_send(self: requests.adapters.HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = adapter_send(self, request, *args, **kwargs)
        # The body by its Content-Length: reading it here would take the socket pypsrp's channel binding reads.
        WIRE.requests += 1
        WIRE.bytes += (_header_bytes(request.headers) + len(request.body or b"") + _header_bytes(response.headers)
                       + int(response.headers.get("Content-Length") or 0))
        return response

    def counted_client_send(self: httpx.Client, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
        response = client_send(self, request, *args, **kwargs)
        WIRE.requests += 1
        WIRE.bytes += (_header_bytes(request.headers) + len(request.content) + _header_bytes(response.headers)
                       + len(response.content))
        return response

    Connection.run = counted_run  # type: ignore[method-assign]
    requests.adapters.HTTPAdapter.send = counted_adapter_send  # type: ignore[method-assign]
    httpx.Client.send = counted_client_send  # type: ignore[method-assign]


# ---- a simulated cluster in its own process --------------------------------------------------------------

@dataclass
class Simulator:
    url: str  # the JSON API
    winrm: str  # the cluster's WinRM address (https://127.a.b.10:port)
    ca_file: str

    def open(self, kind: str, poll_interval: float) -> FailoverClusterDriver:
        if kind == "json":
            return open_driver(self.url, None, DriverOptions(timeout=60.0))
        return open_driver(self.winrm, Credentials(SIM_USER, SIM_PASSWORD),
                           DriverOptions(timeout=60.0, ca_file=self.ca_file, poll_interval=poll_interval))


@contextmanager
def simulator(topology: Path, speed: float) -> Iterator[Simulator]:
    port = _free_port_block(3)  # the API and one per node
    prefix, winrm_port = _winrm_prefix_and_port(3)  # the cluster name (.10) and the nodes (.11, .12)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "clusterstack.cli", "sim", "serve", "--topology", str(topology), "--port",
             str(port), "--speed", str(speed), "--winrm-prefix", prefix, "--winrm-port", str(winrm_port)],
            stdout=subprocess.DEVNULL, stderr=errors)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    addresses = httpx.get(f"{url}/winrm", timeout=2).raise_for_status().json()
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        errors.seek(0)
                        raise RuntimeError("the simulator did not start: "
                                           + errors.read().decode(errors="replace")[-2000:]) from None
                    time.sleep(0.1)
            yield Simulator(url, addresses["cluster"], addresses["ca_file"])
        finally:
            process.terminate()
            process.wait(timeout=30)


def _free_port_block(count: int) -> int:
    """`count` consecutive free ports on 127.0.0.1, below Linux's ephemeral range (as tests/conftest.py)."""
    for _ in range(200):
        base = random.randint(20000, 32700 - count)
        if all(_bindable("127.0.0.1", p) for p in range(base, base + count)):
            return base
    raise RuntimeError("no block of free ports")


def _winrm_prefix_and_port(addresses: int) -> tuple[str, int]:
    """A loopback prefix 127.<100-250>.<0-250> and a port free on its addresses .10 onwards."""
    for _ in range(200):
        prefix = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"
        port = random.randint(20000, 32700)
        if all(_bindable(f"{prefix}.{octet}", port) for octet in range(10, 10 + addresses)):
            return prefix, port
    raise RuntimeError("no free WinRM prefix")


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


# ---- figures ---------------------------------------------------------------------------------------------

def p90(samples: list[float]) -> float:
    """Nearest rank: of 5 samples, the slowest."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        begun = time.perf_counter()
        call()
        samples.append(time.perf_counter() - begun)
    return samples


def _wire(kind: str, calls: int, size: str) -> str:
    """What one call cost on the wire, averaged over `calls` calls."""
    pipelines = f"{WIRE.pipelines / calls:.3g} PSRP pipelines, " if kind == "winrm" else ""
    return f"{pipelines}{WIRE.requests / calls:.3g} HTTP round trips, {size}"


def vm_spec(name: str, memory_mb: int, start: bool) -> VmSpec:
    return VmSpec(name=name, cpus=1, memory_mb=memory_mb, priority=PRIORITY_MEDIUM,
                  vhds=(VhdSpec(f"C:\\ClusterStorage\\Volume1\\{name}\\ROOT.vhdx", 8 * GIB),), start=start)


# ---- 1 and 3: reads ----------------------------------------------------------------------------------------

def reads(topology: Path, speed: float, roles: int, runs: int, role_calls: int, poll_interval: float) -> None:
    with simulator(topology, speed) as sim:
        maker = sim.open("json", poll_interval)
        begun = time.perf_counter()
        names = [f"i-2-{k}-VM" for k in range(1, roles + 1)]
        for name in names:
            maker.create_vm(vm_spec(name, 128, start=False))
        maker.close()  # type: ignore[attr-defined]
        print(f"\n1. report() of {roles} roles (Off VMs, 128 MB, one 8 GiB VHD each; made through the JSON "
              f"driver with start=False in {time.perf_counter() - begun:.1f} s), {runs} runs each after one "
              "warm-up call")
        drivers = {kind: sim.open(kind, poll_interval) for kind in ("json", "winrm")}
        try:
            medians: dict[str, float] = {}
            floors: dict[str, float] = {}
            for kind, driver in drivers.items():
                begun = time.perf_counter()
                first = driver.report()  # the WinRM driver opens its session here (TLS, NTLM, runspace pool)
                cold = time.perf_counter() - begun
                vhds = sum(len(r.vhds) for r in first.roles)
                if len(first.roles) != roles or vhds != roles:
                    raise SystemExit(f"{kind}: report() has {len(first.roles)} roles and {vhds} VHDs, not {roles}")
                WIRE.reset()
                cpu = time.process_time()
                samples = timed(driver.report, runs)
                cpu = (time.process_time() - cpu) / runs
                medians[kind] = statistics.median(samples)
                wire = _wire(kind, runs, f"{WIRE.bytes / runs / 1e6:.2f} MB")
                print(f"   {kind:5}  median {ms(medians[kind]):>8}  p90 {ms(p90(samples)):>8}  "
                      f"(first call {ms(cold)}; client CPU {ms(cpu)} a call, the rest is the simulator and the "
                      f"wire)  one report on the wire: {wire}")
                floors[kind] = statistics.median(timed(lambda d=driver: d.role(names[len(names) // 2]), role_calls))
            print(f"   winrm / json: {medians['winrm'] / medians['json']:.1f}x")
            print(f"\n3. role(name), the cheapest read, median of {role_calls} calls (per-call protocol floor)")
            for kind, driver in drivers.items():
                WIRE.reset()
                driver.role(names[0])
                wire = _wire(kind, 1, f"{WIRE.bytes / 1e3:.1f} kB")
                print(f"   {kind:5}  median {ms(floors[kind]):>8}  one call on the wire: {wire}")
            print(f"   winrm / json: {floors['winrm'] / floors['json']:.1f}x")
        finally:
            for driver in drivers.values():
                driver.close()  # type: ignore[attr-defined]


# ---- 2: deployments ----------------------------------------------------------------------------------------

def deploy(topology: Path, speed: float, count: int, poll_interval: float) -> dict[str, tuple[float, list[float]]]:
    print(f"\n2. {count} deployments one after another, fresh simulator per driver: create_vm (512 MB, one 8 GiB "
          "ROOT.vhdx, start=True), then wait_for_role_change until Running (a simulated start takes 1 s / speed "
          f"= {1000 / speed:.0f} ms; JSON long-polls, WinRM polls every {poll_interval:g} s)")
    results: dict[str, tuple[float, list[float]]] = {}
    for kind in ("json", "winrm"):
        with simulator(topology, speed) as sim:
            driver = sim.open(kind, poll_interval)
            try:
                driver.report()  # open the session outside the timing (the server keeps its drivers open)
                creates: list[float] = []
                waits: list[float] = []
                WIRE.reset()
                started = time.perf_counter()
                for k in range(1, count + 1):
                    begun = time.perf_counter()
                    role: RoleReport | None = driver.create_vm(vm_spec(f"i-3-{k}-VM", 512, start=True))
                    created = time.perf_counter()
                    deadline = created + 60
                    while role is not None and role.vm_state != "Running":
                        remaining = deadline - time.perf_counter()
                        if remaining <= 0:
                            raise SystemExit(f"{kind}: i-3-{k}-VM not Running after 60 s: {role}")
                        role = driver.wait_for_role_change(role, timeout=remaining)
                    if role is None:
                        raise SystemExit(f"{kind}: i-3-{k}-VM vanished")
                    creates.append(created - begun)
                    waits.append(time.perf_counter() - created)
                elapsed = time.perf_counter() - started
            finally:
                driver.close()  # type: ignore[attr-defined]
        each = [c + w for c, w in zip(creates, waits, strict=True)]
        results[kind] = (elapsed, each)
        wire = _wire(kind, count, f"{WIRE.bytes / count / 1e3:.0f} kB")
        print(f"   {kind:5}  total {elapsed:6.1f} s  per deploy: median {ms(statistics.median(each)):>8}, p90 "
              f"{ms(p90(each)):>8} (create_vm median {ms(statistics.median(creates))}, wait for Running median "
              f"{ms(statistics.median(waits))})  per deploy on the wire: {wire}")
    json_total, winrm_total = results["json"][0], results["winrm"][0]
    print(f"   winrm / json: {winrm_total / json_total:.1f}x total, "
          f"{statistics.median(results['winrm'][1]) / statistics.median(results['json'][1]):.1f}x per-deploy median")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="CI size: 50 roles, 10 deployments")
    parser.add_argument("--speed", type=float, default=50.0, help="simulated seconds per wall second (default 50)")
    parser.add_argument("--poll-interval", type=float, default=0.5,
                        help="the WinRM driver's poll interval, seconds (default 0.5, the server's default)")
    parser.add_argument("--runs", type=int, default=None, help="timed report() calls per driver (default 5; 3 "
                        "with --small)")
    args = parser.parse_args()
    roles, deployments, role_calls, runs = (50, 10, 20, 3) if args.small else (1000, 100, 50, 5)
    runs = args.runs or runs
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come
    _count_the_wire()
    load = os.getloadavg()
    print(f"drivers: json (SimulatorDriver, JSON over HTTP) vs winrm (HyperVDriver, PSRP over WinRM, NTLM over "
          f"HTTPS); simulator at speed {args.speed:g} in its own process; topology {TOPOLOGY_SUMMARY}; "
          f"{roles} roles, {deployments} deployments; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        topology = Path(tmp) / "topology.yaml"
        topology.write_text(TOPOLOGY)
        reads(topology, args.speed, roles, runs, role_calls, args.poll_interval)
        deploy(topology, args.speed, deployments, args.poll_interval)
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()

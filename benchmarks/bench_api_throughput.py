"""Sustained signed API requests: a real `clusterstack serve` on SQLite, driven at a fixed rate from another process.

    .venv/bin/python benchmarks/bench_api_throughput.py                 # 200 rps for 30 s, server on 2 cores
    .venv/bin/python benchmarks/bench_api_throughput.py --small         # a few seconds, for CI
    .venv/bin/python benchmarks/bench_api_throughput.py --rate 400 --seconds 60 --db postgresql://...

The load is open-loop: request i is sent at start + i/rate whatever happened to the ones before, so a slow
server shows up as latency and a lower achieved rate rather than as a politely slower client. Every request is
signed (v3, as `cs` signs) and goes through authentication, authorization, parameter parsing and the
database. Prints the achieved rate, latency percentiles and errors; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

# The commands a dashboard or a client polling its cloud sends most: small lists and capabilities.
COMMAND_MIX: tuple[tuple[str, dict[str, str]], ...] = (
    ("listZones", {}),
    ("listServiceOfferings", {}),
    ("listCapabilities", {}),
    ("listPods", {"pagesize": "20", "page": "1"}),
)


def sign(params: dict[str, str], secret: str) -> str:
    text = "&".join(f"{k}={quote(v, safe='*')}" for k, v in sorted(params.items())).lower()
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def signed(command: str, extra: dict[str, str], key: str, secret: str) -> dict[str, str]:
    params = {"command": command, "response": "json", "apiKey": key, "signatureVersion": "3",
              "expires": (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S%z"), **extra}
    params["signature"] = sign(params, secret)
    return params


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, port: int, db_url: str | None, cores: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "clusterstack.cli", "serve", "--port", str(port), "--data-dir", str(data_dir),
               "--log-level", "WARNING"]
    if db_url:
        command += ["--db", db_url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if cores and hasattr(os, "sched_setaffinity"):
        available = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(process.pid, set(available[:cores]))
    endpoint = f"http://127.0.0.1:{port}/client/api"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(endpoint, timeout=2)
            return process
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"the management server did not start:\n{stderr}") from None
            time.sleep(0.1)


def admin_keys(data_dir: Path, db_url: str | None) -> tuple[str, str]:
    command = [sys.executable, "-m", "clusterstack.cli", "admin", "create-keys", "--data-dir", str(data_dir)]
    if db_url:
        command += ["--db", db_url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    pairs = dict(line.split(" = ", 1) for line in output.splitlines() if " = " in line)
    return pairs["apikey"], pairs["secretkey"]


def seed(endpoint: str, key: str, secret: str) -> None:
    """A zone with a few pods and offerings, so the lists have something to render."""
    with httpx.Client(timeout=30) as http:
        def call(command: str, **params: str) -> dict[str, Any]:
            response = http.get(endpoint, params=signed(command, params, key, secret))
            response.raise_for_status()
            return response.json()[f"{command.lower()}response"]

        zone = call("createZone", name="bench", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1")
        for i in range(5):
            call("createPod", zoneid=zone["zone"]["id"], name=f"pod{i}", gateway=f"10.{i}.0.1",
                 netmask="255.255.255.0", startip=f"10.{i}.0.10", endip=f"10.{i}.0.200")
            call("createServiceOffering", name=f"offering{i}", displaytext=f"offering {i}", cpunumber="2",
                 cpuspeed="1000", memory="2048")


async def _drive(endpoint: str, key: str, secret: str, rate: float, seconds: float,
                 connections: int) -> tuple[list[float], list[float], Counter[str], float]:
    """`connections` workers take request numbers in order and send request i at start + i/rate (at once when
    late). Latency is measured from the scheduled time, so time a request waited for a free worker counts
    (no coordinated omission); service time from the moment it was sent."""
    latencies: list[float] = []
    service: list[float] = []
    outcomes: Counter[str] = Counter()
    total = int(rate * seconds)
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        start = time.perf_counter()

        async def worker() -> None:
            for i in counter:
                scheduled = start + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                command, extra = COMMAND_MIX[i % len(COMMAND_MIX)]
                sent = time.perf_counter()
                try:
                    response = await http.get(endpoint, params=signed(command, extra, key, secret))
                    outcomes[str(response.status_code)] += 1
                    if response.status_code == 200:
                        done = time.perf_counter()
                        latencies.append(done - scheduled)
                        service.append(done - sent)
                except httpx.HTTPError as exc:
                    outcomes[type(exc).__name__] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    return latencies, service, outcomes, elapsed


def load_process(endpoint: str, key: str, secret: str, rate: float, seconds: float, connections: int,
                 results: Any) -> None:
    cpu = time.process_time()
    latencies, service, outcomes, elapsed = asyncio.run(_drive(endpoint, key, secret, rate, seconds, connections))
    results.put((latencies, service, outcomes, elapsed, time.process_time() - cpu))


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (Linux), to report CPU per request whatever else runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second to send (default 200)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to send them (default 30)")
    parser.add_argument("--small", action="store_true", help="a short run for CI (3 s at the given rate)")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary data dir)")
    parser.add_argument("--cores", type=int, default=2, help="pin the server to this many CPUs (0 = no pinning)")
    parser.add_argument("--connections", type=int, default=32,
                        help="concurrent requests (client workers, one connection each; default 32)")
    args = parser.parse_args()
    seconds = 3.0 if args.small else args.seconds

    with tempfile.TemporaryDirectory(prefix="clusterstack-bench-") as tmp:
        data_dir = Path(tmp)
        key, secret = admin_keys(data_dir, args.db)
        port = free_port()
        server = start_server(data_dir, port, args.db, args.cores)
        endpoint = f"http://127.0.0.1:{port}/client/api"
        try:
            seed(endpoint, key, secret)
            context = multiprocessing.get_context("spawn")
            results = context.Queue()
            driver = context.Process(target=load_process,
                                     args=(endpoint, key, secret, args.rate, seconds, args.connections, results))
            cpu_before = cpu_seconds(server.pid)
            driver.start()
            latencies, service, outcomes, elapsed, client_cpu = results.get()
            driver.join()
            cpu_after = cpu_seconds(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

    latencies.sort()
    service.sort()
    sent = sum(outcomes.values())
    ok = outcomes.get("200", 0)
    errors = {k: v for k, v in outcomes.items() if k != "200"}
    pinned = f"{args.cores} cores" if args.cores else "all cores"
    backend = (args.db or "sqlite").split(":")[0]
    print(f"clusterstack API throughput: server on {backend}, {pinned}; load from a second process (httpx), "
          f"open loop, commands {', '.join(c for c, _ in COMMAND_MIX)}")
    print(f"  target     {args.rate:.0f} req/s for {seconds:.0f} s ({sent} requests)")
    print(f"  achieved   {ok / elapsed:.1f} req/s successful ({ok} ok in {elapsed:.2f} s)")
    if latencies:
        print(f"  latency    p50 {percentile(latencies, 0.50) * 1000:.1f} ms   p90 "
              f"{percentile(latencies, 0.90) * 1000:.1f} ms   p99 {percentile(latencies, 0.99) * 1000:.1f} ms   "
              f"max {latencies[-1] * 1000:.1f} ms   mean {statistics.fmean(latencies) * 1000:.1f} ms "
              "(from each request's scheduled time)")
        print(f"  service    p50 {percentile(service, 0.50) * 1000:.1f} ms   "
              f"p99 {percentile(service, 0.99) * 1000:.1f} ms (from the moment it was sent)")
    print(f"  errors     {sum(errors.values())}" + (f" {dict(errors)}" if errors else ""))
    if cpu_before is not None and cpu_after is not None and sent:
        per_request = (cpu_after - cpu_before) / sent
        print(f"  server CPU {per_request * 1000:.2f} ms per request (user+system), i.e. about "
              f"{1 / per_request:.0f} req/s per fully available core")
    if sent:
        print(f"  client CPU {client_cpu / sent * 1000:.2f} ms per request (httpx, signing included)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  machine    {os.cpu_count()} CPUs, load average {load:.1f} at the end (other work skews latency)")


if __name__ == "__main__":
    main()

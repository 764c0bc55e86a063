"""`clusterstack demo` as the console's tests and the screenshot script run it: its own process, free ports."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clusterstack.demo import ApiClient


def free_port_block(count: int) -> int:
    """A base port with `count` consecutive free loopback ports (the simulator and its nodes)."""
    for _ in range(200):
        # Below Linux's ephemeral range (32768-60999): a port picked there can be taken by any outgoing
        # connection between our check and the server's bind.
        base = random.randint(20000, 32700 - count)
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no block of free ports on 127.0.0.1")


class ApiSession(ApiClient):
    """The CloudStack API with a login session (sessionkey + JSESSIONID), as the console itself calls it."""

    def __init__(self, endpoint: str, username: str, password: str, domain: str = "/") -> None:
        super().__init__(endpoint, "", "")
        answer = self.http.post(endpoint, data={"command": "login", "username": username, "password": password,
                                                "domain": domain, "response": "json"}).json()["loginresponse"]
        if "sessionkey" not in answer:
            raise RuntimeError(f"login as {username} failed: {answer}")
        self.sessionkey = answer["sessionkey"]

    def authenticate(self, query: dict[str, str]) -> None:
        query["sessionkey"] = self.sessionkey

    def items(self, command: str, key: str, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self(command, **params).get(key, [])
        return found


class DemoProcess:
    """`clusterstack demo` on free loopback ports with its own data directory."""

    def __init__(self, data_dir: Path, speed: float = 5.0, winrm: tuple[str, int] | None = None) -> None:
        """`winrm`: (loopback prefix, port) to run the demo with `--driver winrm` there."""
        self.data_dir = data_dir
        self.speed = speed
        self.winrm = winrm
        self.port = free_port_block(1)
        self.sim_port = free_port_block(3)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "demo-output.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    def start(self, timeout: float = 90) -> DemoProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "clusterstack.cli", "demo", "--data-dir", str(self.data_dir),
                 "--port", str(self.port), "--sim-port", str(self.sim_port), "--speed", str(self.speed),
                 *(["--driver", "winrm", "--winrm-prefix", self.winrm[0], "--winrm-port", str(self.winrm[1])]
                   if self.winrm else [])],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"clusterstack demo exited: {self.log.read_text()[-2000:]}")
            if b"\nlog in as admin / password;" in self.log.read_bytes():  # the banner, once the cloud is set up
                api = self.admin()
                hosts = api.items("listHosts", "host", type="Routing")
                if len(hosts) == 2 and all(h["state"] == "Up" for h in hosts):
                    return self
            time.sleep(0.25)
        raise RuntimeError(f"clusterstack demo did not come up: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def admin(self) -> ApiSession:
        return ApiSession(f"{self.base_url}/client/api", "admin", "password")

    def sim(self, *args: str) -> str:
        """Run `clusterstack sim ...` against this demo's simulator, as an operator would."""
        done = subprocess.run([sys.executable, "-m", "clusterstack.cli", "sim", *args, "--sim", self.sim_url],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"clusterstack sim {' '.join(args)} failed: {done.stderr or done.stdout}")
        return done.stdout

    def seed_ids(self, api: ApiSession) -> dict[str, str]:
        """Ids of the seed's zone, template and offerings, for deploying."""
        offerings = {o["name"]: o["id"] for o in api.items("listServiceOfferings", "serviceoffering")}
        return {
            "zone": api.items("listZones", "zone")[0]["id"],
            "template": api.items("listTemplates", "template", templatefilter="executable")[0]["id"],
            "ha": offerings["HA Offering"], "small": offerings["Small Instance"],
        }

    def host_id(self, api: ApiSession, name: str) -> str:
        return next(h["id"] for h in api.items("listHosts", "host", type="Routing") if h["name"] == name)

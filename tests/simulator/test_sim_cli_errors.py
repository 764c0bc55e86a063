"""`clusterstack sim` client commands say what happened in the operator's words, and a command that cannot do what it
says (a quarantined node without --clear-quarantine, a node that does not exist, an address that is not the
simulator) exits non-zero with one clear line."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

N17 = "HYPERVCLLOUD17"


def sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clusterstack.cli", "sim", *args], capture_output=True, text=True,
                          timeout=120)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def wait_for(simulator: Any, node: str, state: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        states = {n["name"]: n["state"] for n in simulator.report()["nodes"]}
        if states[node] == state:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{node} never became {state}: {states}")
        time.sleep(0.05)


def quarantine(simulator: Any, node: str = N17) -> None:
    """Crash the node three times (each crash noticed: 10 s, 1 s at 10x), restarting it after the first two."""
    for crash in range(3):
        simulator.fault("node-down", node=node)
        wait_for(simulator, node, "Quarantined" if crash == 2 else "Down")
        if crash < 2:
            simulator.fault("node-up", node=node)
            wait_for(simulator, node, "Up")


class _Answers(http.server.BaseHTTPRequestHandler):
    body = b"<!doctype html><html><body>CloudStack console</body></html>"
    content_type = "text/html"

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


class _JsonAnswers(_Answers):
    body = b'{"listapisresponse": {}}'
    content_type = "application/json"


@pytest.fixture(params=[_Answers, _JsonAnswers], ids=["html", "other-json"])
def not_the_simulator(request: pytest.FixtureRequest) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["node-down", N17], ["node-up", N17],
                                     ["heal"], ["drain", N17], ["resume", N17]])
def test_an_address_that_is_not_the_simulator_is_one_line_and_a_failure(not_the_simulator: str,
                                                                        command: list[str]) -> None:
    line = one_error_line(sim(*command, "--sim", not_the_simulator))
    assert f"{not_the_simulator} is not a clusterstack simulator" in line and "--sim" in line


def test_faults_say_what_happened_in_the_operators_words(simulator: Any) -> None:
    down = sim("node-down", N17, "--sim", simulator.url)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == (f"{N17} is down; the cluster will notice within 10 s (1 s of wall time at --speed "
                                   "10) and fail its roles over to the other nodes")
    assert "cursor" not in down.stdout and "done" not in down.stdout
    wait_for(simulator, N17, "Down")
    twice = sim("node-down", N17, "--sim", simulator.url)
    assert twice.stdout.strip() == (f"{N17} is down; the cluster already had it Down, so there is nothing for it "
                                    "to notice")
    up = sim("node-up", N17, "--sim", simulator.url)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip().startswith(f"{N17} is starting; it joins the cluster within 2 s")
    wait_for(simulator, N17, "Up")
    again = sim("node-up", N17, "--sim", simulator.url)
    assert (again.returncode, again.stdout.strip()) == (0, f"{N17} is already running (Up)")
    cut = sim("partition", N17, "--sim", simulator.url)
    assert cut.stdout.startswith(f"{N17} is cut off from every other node; the cluster will notice within 10 s")
    healed = sim("heal", "--sim", simulator.url)
    assert healed.stdout.startswith("Every network path between nodes is back; cut-off nodes rejoin within 1 s")
    failed = sim("disk-fail", "ClusterDisk1", "--sim", simulator.url)
    assert failed.stdout.strip() == "ClusterDisk1 has failed; the roles on it have failed with it"


def test_a_node_that_does_not_exist_is_one_line_and_a_failure(simulator: Any) -> None:
    for command in (["node-down", "HYPERVCLLOUD99"], ["node-up", "HYPERVCLLOUD99"],
                    ["node-up", "HYPERVCLLOUD99", "--clear-quarantine"], ["drain", "HYPERVCLLOUD99"]):
        line = one_error_line(sim(*command, "--sim", simulator.url))
        assert "HYPERVCLLOUD99 is not a node of cluster CI1" in line
    assert {n["state"] for n in simulator.report()["nodes"]} == {"Up"}


def test_node_up_of_a_quarantined_node_fails_until_it_is_cleared(simulator: Any) -> None:
    quarantine(simulator)
    refused = sim("node-up", N17, "--sim", simulator.url)
    line = one_error_line(refused)
    assert f"{N17} runs but is Quarantined" in line and "--clear-quarantine" in line
    assert refused.stdout == ""
    wait_for(simulator, N17, "Quarantined")

    cleared = sim("node-up", N17, "--clear-quarantine", "--sim", simulator.url)
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.startswith(f"{N17} is out of quarantine and starting; it joins the cluster within 2 s")
    wait_for(simulator, N17, "Up")
    node = next(n for n in simulator.report()["nodes"] if n["name"] == N17)
    assert node["current_vote"] == 1


def test_the_clear_quarantine_route(simulator: Any) -> None:
    import httpx

    refused = httpx.post(f"{simulator.url}/nodes/{N17}/clear-quarantine", json={}, timeout=30)
    assert refused.status_code == 409 and refused.json()["error"] == "invalid_state"
    assert "not Quarantined" in refused.json()["message"]
    assert httpx.post(f"{simulator.url}/nodes/HYPERVCLLOUD99/clear-quarantine", timeout=30).status_code == 404
    quarantine(simulator)  # the machine is off after the third crash: clearing must wait for it to run
    off = httpx.post(f"{simulator.url}/nodes/{N17}/clear-quarantine", json={}, timeout=30)
    assert off.status_code == 409 and "machine is not running" in off.json()["message"]
    answer = simulator.fault("node-up", node=N17)
    assert answer["node"]["state"] == "Quarantined" and answer["node"]["machine_running"] is True
    assert answer["node"]["quarantined_until"] > answer["time"]
    node = httpx.post(f"{simulator.url}/nodes/{N17}/clear-quarantine", json={}, timeout=30).json()
    assert node["name"] == N17 and node["state"] == "Joining"
    wait_for(simulator, N17, "Up")

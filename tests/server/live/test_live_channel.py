"""The console's live channel (GET /client/live, server-sent events) against a real server over HTTP.

Each test reads the stream with a real HTTP client on a thread of its own and waits, with generous timeouts,
for the messages it expects; nothing asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from clusterstack.demo import ApiClient, set_up_seed_cloud

ADMIN_PASSWORD = "password"
WAIT = 60.0


@dataclass
class Message:
    event: str
    data: Any = None
    comment: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def _parse(lines: Iterator[str]) -> Iterator[Message]:
    """Server-sent events as the browser's EventSource reads them (comments kept, for the keepalive)."""
    event, data, fields = "message", [], {}
    for line in lines:
        if line == "":
            if data:
                yield Message(event, json.loads("\n".join(data)) if data else None, fields=fields)
            event, data, fields = "message", [], {}
        elif line.startswith(":"):
            yield Message("comment", comment=line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            else:
                fields[name] = value


class LiveStream:
    """One open GET /client/live, read on a background thread into a queue of messages."""

    def __init__(self, base_url: str, session_key: str, session_id: str) -> None:
        self.http = httpx.Client(base_url=base_url, cookies={"JSESSIONID": session_id},
                                 timeout=httpx.Timeout(WAIT))
        self._context = self.http.stream("GET", "/client/live", params={"sessionkey": session_key})
        self.response = self._context.__enter__()
        self.messages: queue.Queue[Message | None] = queue.Queue()
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in _parse(self.response.iter_lines()):
                self.messages.put(message)
        except Exception:  # closed under us (the test went away) or the connection broke
            pass
        finally:
            self.ended.set()
            self.messages.put(None)

    def next(self, timeout: float = WAIT) -> Message | None:
        """The next message, or None once the stream has ended."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message from the live channel within {timeout:.0f} s") from None

    def until(self, wanted: Callable[[Message], bool], timeout: float = WAIT) -> list[Message]:
        """Every message up to and including the first that `wanted` accepts."""
        deadline = time.monotonic() + timeout
        seen: list[Message] = []
        while True:
            message = self.next(max(0.1, deadline - time.monotonic()))
            if message is None:
                raise AssertionError(f"the live channel ended before the awaited message; got {seen}")
            seen.append(message)
            if wanted(message):
                return seen

    def topics_until(self, wanted: set[str], timeout: float = WAIT) -> tuple[set[str], list[str], list[Message]]:
        """Read changes until their topics together include `wanted`: (all topics, all job ids, messages)."""
        topics: set[str] = set()
        jobs: list[str] = []

        def collect(message: Message) -> bool:
            if message.event == "change":
                topics.update(message.data["topics"])
                jobs.extend(message.data["jobs"])
            return wanted <= topics

        messages = self.until(collect, timeout)
        return topics, jobs, messages

    def close(self) -> None:
        """Hang up as a closed browser tab does: the connection goes at once (closing the response alone would
        wait for the reading thread to be woken by the next message)."""
        sock = self.response.extensions["network_stream"].get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self._context.__exit__(None, None, None)
        self.http.close()
        self._thread.join(WAIT)


def _login(server: Any, username: str = "admin", password: str = ADMIN_PASSWORD) -> tuple[str, str]:
    response = httpx.post(server.endpoint, data={"command": "login", "username": username, "password": password,
                                                 "response": "json"})
    assert response.status_code == 200, response.text
    return response.json()["loginresponse"]["sessionkey"], response.cookies["JSESSIONID"]


@pytest.fixture
def streams() -> Iterator[Callable[..., LiveStream]]:
    opened: list[LiveStream] = []

    def open_stream(server: Any, session: tuple[str, str] | None = None) -> LiveStream:
        key, session_id = session or _login(server)
        stream = LiveStream(server.base_url, key, session_id)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


def _hello(stream: LiveStream) -> Message:
    messages = stream.until(lambda m: m.event == "hello")
    assert [m.event for m in messages] == ["hello"], messages
    return messages[-1]


def _feed(server: Any) -> Any:
    return server.state.services["live"]


def _wait(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


# ---- authentication ----------------------------------------------------------------------------------------

def test_the_channel_needs_the_sessionkey_of_the_sessions_cookie(live_server: Any) -> None:
    url = f"{live_server.base_url}/client/live"
    key, session_id = _login(live_server)
    other_key, other_session_id = _login(live_server)
    refused = [
        httpx.get(url),
        httpx.get(url, params={"sessionkey": key}),  # no cookie
        httpx.get(url, cookies={"JSESSIONID": session_id}),  # cookie alone
        httpx.get(url, params={"sessionkey": key}, cookies={"JSESSIONID": other_session_id}),  # not its session
        httpx.get(url, params={"sessionkey": "made-up"}, cookies={"JSESSIONID": session_id}),
    ]
    for response in refused:
        assert response.status_code == 401, response.text
        assert response.json()["errorresponse"]["errorcode"] == 401
    api = httpx.get(live_server.endpoint, params={"command": "logout", "response": "json",
                                                  "sessionkey": other_key}, cookies={"JSESSIONID": other_session_id})
    assert api.status_code == 200
    gone = httpx.get(url, params={"sessionkey": other_key}, cookies={"JSESSIONID": other_session_id})
    assert gone.status_code == 401


def test_a_stream_says_hello_with_the_server_time_and_the_retry(live_server: Any,
                                                                 streams: Callable[..., LiveStream]) -> None:
    stream = streams(live_server)
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert stream.response.headers["cache-control"] == "no-cache"
    assert "content-length" not in stream.response.headers
    hello = _hello(stream)
    assert hello.data["time"].endswith("+0000") and hello.data["keepalive"] == 15
    assert hello.fields == {"retry": "2000"}
    assert _feed(live_server).listeners == 1


# ---- what changes are told ---------------------------------------------------------------------------------

def test_a_new_event_is_told_as_a_change_of_events(live_server: Any, streams: Callable[..., LiveStream]) -> None:
    stream = streams(live_server)
    _hello(stream)
    _login(live_server)  # records USER.LOGIN
    topics, jobs, _ = stream.topics_until({"events"})
    assert jobs == []
    assert not any(t.startswith("failovercluster:") for t in topics)


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    key, secret = live_server.admin_keys()
    api = ApiClient(live_server.endpoint, key, secret)
    ids = set_up_seed_cloud(api, simulator.url)
    client = live_server.cs(key, secret, fetch_result=False)
    hosts = {h["name"]: h["id"] for h in api("listHosts")["host"]}
    _wait(lambda: all(h["state"] == "Up" for h in api("listHosts")["host"]))
    offerings = {o["name"]: o["id"] for o in api("listServiceOfferings")["serviceoffering"]}
    return {"api": api, "cs": client, "sim": simulator, "hosts": hosts, "offerings": offerings, **ids}


def _deploy(seed: dict[str, Any], name: str, host: str) -> dict[str, Any]:
    answer: dict[str, Any] = seed["api"]("deployVirtualMachine", zoneid=seed["zone"], name=name,
                                         serviceofferingid=seed["offerings"]["HA Offering"],
                                         templateid=seed["template"], hostid=seed["hosts"][host])
    return answer["virtualmachine"]


def test_a_stopped_instance_and_its_finished_job_are_told(live_server: Any, seed: dict[str, Any],
                                                          streams: Callable[..., LiveStream]) -> None:
    vm = _deploy(seed, "LIVEVM1", "HYPERVCLLOUD17")
    stream = streams(live_server)
    _hello(stream)
    job_id = seed["cs"].stopVirtualMachine(id=vm["id"])["jobid"]
    _, jobs, _ = stream.topics_until({"vms", "jobs"})
    if job_id not in jobs:  # the job was told as submitted first; its end comes in a later change
        stream.until(lambda m: m.event == "change" and job_id in m.data["jobs"])
    job = seed["api"]("queryAsyncJobResult", jobid=job_id)
    assert job["jobstatus"] == 1
    assert seed["api"]("listVirtualMachines", id=vm["id"])["virtualmachine"][0]["state"] == "Stopped"


def test_a_node_down_is_told_as_hosts_instances_and_its_failover_cluster(
        live_server: Any, seed: dict[str, Any], streams: Callable[..., LiveStream]) -> None:
    _deploy(seed, "LIVEVM2", "HYPERVCLLOUD17")
    stream = streams(live_server)
    _hello(stream)
    seed["sim"].fault("node-down", node="HYPERVCLLOUD17")
    cluster_topic = f"failovercluster:{seed['cluster']}"
    # the host goes Down, the cluster restarts the HA instance on the surviving node (vms), events and alerts
    # are recorded, and the failover cluster's own state (node, role owner) changed
    stream.topics_until({"hosts", cluster_topic, "vms", "events", "alerts"})
    _wait(lambda: seed["api"]("listVirtualMachines", name="LIVEVM2")["virtualmachine"][0]["hostname"]
          == "HYPERVCLLOUD13")


def test_a_plain_user_hears_only_its_own_changes(live_server: Any, seed: dict[str, Any],
                                                 streams: Callable[..., LiveStream]) -> None:
    api = seed["api"]
    api("createAccount", accounttype=0, account="alice", username="alice", password="secret1",
        email="alice@example.com", firstname="Alice", lastname="Smith")
    user_stream = streams(live_server, _login(live_server, "alice", "secret1"))
    admin_stream = streams(live_server)
    _hello(user_stream)
    _hello(admin_stream)
    vm = _deploy(seed, "LIVEVM3", "HYPERVCLLOUD13")
    job_id = seed["cs"].stopVirtualMachine(id=vm["id"])["jobid"]
    _, admin_jobs, _ = admin_stream.topics_until({"vms", "jobs"})
    if job_id not in admin_jobs:
        admin_stream.until(lambda m: m.event == "change" and job_id in m.data["jobs"])
    seed["sim"].fault("node-down", node="HYPERVCLLOUD17")
    admin_stream.topics_until({"hosts", f"failovercluster:{seed['cluster']}"})
    _login(live_server, "alice", "secret1")  # an event of alice's own account
    _, jobs, messages = user_stream.topics_until({"events"})
    told = set().union(*(m.data["topics"] for m in messages if m.event == "change"))
    assert told == {"events"}, told
    assert jobs == []


# ---- the connection itself ---------------------------------------------------------------------------------

def test_a_client_that_goes_away_is_forgotten_and_polling_stops(live_server: Any,
                                                                 streams: Callable[..., LiveStream]) -> None:
    feed = _feed(live_server)
    first, second = streams(live_server), streams(live_server)
    _hello(first)
    _hello(second)
    assert feed.listeners == 2
    first.close()
    _wait(lambda: feed.listeners == 1)
    second.close()
    _wait(lambda: feed.listeners == 0)
    # nobody listens: the feed reads nothing (at most a poll already under way finishes)
    polls = feed.polls
    time.sleep(3 * feed.interval)
    assert feed.polls <= polls + 1


def test_logging_out_ends_the_stream(live_server: Any, streams: Callable[..., LiveStream]) -> None:
    key, session_id = _login(live_server)
    stream = streams(live_server, (key, session_id))
    _hello(stream)
    logout = httpx.get(live_server.endpoint, params={"command": "logout", "response": "json", "sessionkey": key},
                       cookies={"JSESSIONID": session_id})
    assert logout.status_code == 200, logout.text
    messages = stream.until(lambda m: m.event == "goodbye")
    assert messages[-1].data == {"reason": "session"}
    assert stream.next() is None
    _wait(lambda: _feed(live_server).listeners == 0)


def test_the_server_stops_with_a_stream_open(live_server_factory: Any, sqlite_url: str,
                                             streams: Callable[..., LiveStream]) -> None:
    server = live_server_factory(sqlite_url)
    stream = streams(server)
    _hello(stream)
    thread = server._thread
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    messages = stream.until(lambda m: m.event == "goodbye")
    assert messages[-1].data == {"reason": "shutdown"}
    assert stream.next() is None
    stopper.join(WAIT)
    assert not stopper.is_alive() and thread is not None and not thread.is_alive()

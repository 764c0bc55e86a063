"""Failed logins are throttled (per username and per source address), never an anonymous lockout.

The waits are checked on the throttle's injected clock and its state, never by measuring time.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from clusterstack.server import settings
from clusterstack.server.api.dispatch import ApiAnswer, Dispatcher
from clusterstack.server.db.models.events import Event
from clusterstack.server.identity.login_throttle import LoginThrottle, ThrottlePolicy

from .conftest import PASSWORD, World


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def configure(world: World, **values: str) -> None:
    with world.server.state.database.session() as db:
        for name, value in values.items():
            settings.put(db, name, value)


def login_over_http(world: World, username: str, password: str) -> int:
    return world.api(command="login", username=username, password=password).status_code


def login_via(dispatcher: Dispatcher, username: str, password: str, source: str) -> ApiAnswer:
    params = {"command": "login", "username": username, "password": password, "response": "json"}
    return dispatcher.handle(params, {}, {}, source)


def test_anonymous_failures_never_disable_the_root_admin_nor_its_keys(sqlite_world: World) -> None:
    world = sqlite_world
    configure(world, **{"login.throttle.delay.seconds": "3600"})  # no wait ends during this test
    for _ in range(12):
        assert login_over_http(world, "admin", "guess") == 531
    admin = world.admin.listUsers(username="admin")["user"][0]
    assert admin["state"] == "enabled"
    assert world.admin.listZones() is not None  # its API keys still work
    # the right password is refused while the wait lasts, with the same answer as a wrong one
    answer = world.api(command="login", username="admin", password="password")
    assert answer.status_code == 531
    assert answer.json()["loginresponse"]["errortext"] == (
        "Failed to authenticate user admin; please provide valid credentials")


def test_the_wait_grows_with_each_failure_and_ends(sqlite_world: World) -> None:
    world = sqlite_world
    world.account(name="tina")
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    dispatcher = Dispatcher(world.server.state, throttle)
    for _ in range(3):  # login.throttle.free.attempts
        assert login_via(dispatcher, "tina", "guess", "10.0.0.1").status == 531
    assert throttle.wait_left("tina", "10.0.0.9") == 2.0
    assert login_via(dispatcher, "tina", PASSWORD, "10.0.0.9").status == 531  # waiting: not even checked
    assert throttle.failures(LoginThrottle.user_key("tina")) == 3  # a refused attempt does not count
    clock.now += 2
    assert login_via(dispatcher, "tina", "guess", "10.0.0.9").status == 531
    assert throttle.wait_left("tina", "10.0.0.9") == 4.0
    clock.now += 4
    assert login_via(dispatcher, "tina", "guess", "10.0.0.9").status == 531
    assert throttle.wait_left("tina", "10.0.0.9") == 8.0
    clock.now += 8
    answer = login_via(dispatcher, "tina", PASSWORD, "10.0.0.9")
    assert answer.status == 200, answer.payload
    assert throttle.failures(LoginThrottle.user_key("tina")) == 0  # success clears the username


def test_one_address_guessing_many_usernames_is_throttled(sqlite_world: World) -> None:
    world = sqlite_world
    world.account(name="uma")
    clock = FakeClock()
    dispatcher = Dispatcher(world.server.state, LoginThrottle(clock))
    for name in ("a1", "a2", "a3"):
        assert login_via(dispatcher, name, "guess", "192.0.2.7").status == 531
    assert login_via(dispatcher, "uma", PASSWORD, "192.0.2.7").status == 531
    assert login_via(dispatcher, "uma", PASSWORD, "192.0.2.8").status == 200


def test_waits_double_up_to_the_ceiling() -> None:
    policy = ThrottlePolicy(free_attempts=3, first_delay=2, max_delay=600)
    assert [policy.wait_after(n) for n in (1, 2, 3, 4, 5, 9, 100_000)] == [0, 0, 2, 4, 8, 128, 600]


@pytest.fixture
def lock_after_three(sqlite_world: World) -> World:
    configure(sqlite_world, **{"incorrect.login.attempts.allowed": "3", "login.throttle.free.attempts": "100"})
    return sqlite_world


def test_a_configured_lock_stops_password_logins_only(lock_after_three: World,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    world = lock_after_three
    account = world.account(name="vera")
    client = world.client(account)
    user_id = account["user"][0]["id"]
    with caplog.at_level(logging.WARNING, logger="clusterstack.server.identity"):
        for _ in range(3):
            assert login_over_http(world, "vera", "guess") == 531
    assert login_over_http(world, "vera", PASSWORD) == 531
    assert world.admin.listUsers(id=user_id)["user"][0]["state"] == "enabled"
    assert client.listZones() is not None  # API-key requests are never locked
    assert any("vera" in r.getMessage() and "locked" in r.getMessage() for r in caplog.records)
    with world.server.state.database.session() as db:
        locks = list(db.scalars(select(Event).where(Event.type == "USER.LOCK")))
    assert [e.resource_uuid for e in locks] == [user_id]
    world.admin.enableUser(id=user_id)
    assert login_over_http(world, "vera", PASSWORD) == 200


def test_the_last_enabled_root_admin_is_never_locked(lock_after_three: World) -> None:
    world = lock_after_three
    for _ in range(5):
        assert login_over_http(world, "admin", "guess") == 531
    assert login_over_http(world, "admin", "password") == 200
    # with a second enabled root admin, the first one can be locked
    world.account(name="root2", accounttype=1)
    for _ in range(3):
        assert login_over_http(world, "admin", "guess") == 531
    assert login_over_http(world, "admin", "password") == 531
    assert login_over_http(world, "root2", PASSWORD) == 200

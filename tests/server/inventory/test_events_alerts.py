"""listEvents / archiveEvents / deleteEvents / listEventTypes and the alert commands, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from clusterstack.server.db.models.events import Event
from clusterstack.server.db.models.identity import Account, User
from clusterstack.server.events import Actor, raise_alert, record_event

from .conftest import Cloud, refused


def _record_for(cloud: Cloud, username: str, event_type: str, description: str, **extra: Any) -> str:
    """Record an event against a user's account, as the server does for that user's actions."""
    with cloud.server.state.database.session() as db:
        user = db.scalar(select(User).where(User.username == username))
        account = db.get(Account, user.account_id)
        event = record_event(db, event_type, description, Actor(user.id, account.id, account.domain_id), **extra)
        db.flush()
        return event.uuid


def test_event_filters(cloud: Cloud) -> None:
    zone = cloud.zone("Z1")
    cloud.cs.updateZone(id=zone["id"], name="Z1b")
    cloud.pod(zone, "P1")
    _record_for(cloud, "admin", "HOST.UPDATE", "Host HYPERVCLLOUD17 went Down", level="WARN")

    assert [e["type"] for e in cloud.events(type="ZONE.EDIT")] == ["ZONE.EDIT"]
    warnings = cloud.events(level="WARN")
    assert [e["description"] for e in warnings] == ["Host HYPERVCLLOUD17 went Down"]
    assert {e["type"] for e in cloud.events(keyword="pod")} == {"POD.CREATE"}
    newest_first = [e["type"] for e in cloud.events()]
    assert newest_first == ["HOST.UPDATE", "POD.CREATE", "ZONE.EDIT", "ZONE.CREATE"]
    first = cloud.events()[0]
    assert (first["username"], first["account"], first["domain"]) == ("admin", "admin", "ROOT")

    today = datetime.now(UTC).strftime("%Y-%m-%d")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    assert len(cloud.events(startdate=today, enddate=today)) == 4  # a date-only enddate covers the whole day
    assert cloud.events(enddate=yesterday) == []
    assert refused(cloud.cs.listEvents, startdate=today, enddate=yesterday).errorcode == 431
    assert refused(cloud.cs.listEvents, startdate="25/11/2026").errorcode == 431
    assert cloud.cs.listEvents(level="DEBUG") == {}  # CloudStack compares the level: nothing matches
    assert refused(cloud.cs.listEvents, id="nope").errorcode == 431


def test_pending_events_by_duration_and_entrytime(cloud: Cloud) -> None:
    with cloud.server.state.database.session() as db:
        admin = db.scalar(select(User).where(User.username == "admin"))
        account = db.get(Account, admin.account_id)
        actor = Actor(admin.id, account.id, account.domain_id)
        now = datetime.now(UTC)
        slow = record_event(db, "VM.START", "Starting VM i-2-1-VM", actor, state="Started")
        slow.created = now - timedelta(minutes=10)
        done = record_event(db, "VM.START", "Starting VM i-2-2-VM", actor, state="Started")
        done.created = now - timedelta(minutes=10)
        db.flush()
        closing = record_event(db, "VM.START", "Started VM i-2-2-VM", actor)
        closing.start_id = done.id
        slow_uuid = slow.uuid
    pending = cloud.events(duration=300, entrytime=3600)
    assert [e["id"] for e in pending] == [slow_uuid]
    assert "Entry time must be greater than duration" in refused(cloud.cs.listEvents, duration=60, entrytime=30).text
    assert refused(cloud.cs.listEvents, duration=60).errorcode == 431


def test_users_see_and_archive_only_their_own_events(cloud: Cloud) -> None:
    cloud.zone("Z1")
    user = cloud.user_client("alice")
    mine = _record_for(cloud, "alice", "VM.CREATE", "Created VM web-1")
    theirs = cloud.events(type="ZONE.CREATE")[0]["id"]

    assert [e["id"] for e in user.listEvents()["event"]] == [mine]
    assert user.listEvents(listall=True)["event"][0]["id"] == mine
    assert refused(user.listEvents, account="admin").errorcode == 531
    assert {e["id"] for e in cloud.events()} >= {mine, theirs}  # the root admin sees every account's
    assert [e["id"] for e in cloud.cs.listEvents()["event"]] != [mine]  # without listall: the admin's own

    others = refused(user.archiveEvents, ids=theirs)
    assert others.errorcode == 431 and theirs in others.text
    assert user.archiveEvents(ids=mine)["success"] is True
    assert user.listEvents() == {}
    assert user.listEvents(archived=True)["event"][0]["id"] == mine
    assert cloud.events(type="ZONE.CREATE")[0]["id"] == theirs  # untouched


def test_archive_and_delete_events_by_type_and_date(cloud: Cloud) -> None:
    zone = cloud.zone("Z1")
    for name in ("P1", "P2", "P3"):
        pod = cloud.pod(zone, name)
    cloud.cs.updatePod(id=pod["id"], name="P3b")

    none_given = refused(cloud.cs.archiveEvents)
    assert none_given.errorcode == 431 and "either ids, type or enddate must be specified" in none_given.text
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert "enddate must be specified" in refused(cloud.cs.deleteEvents, startdate=today).text
    assert len(cloud.events()) == 5

    assert cloud.cs.archiveEvents(type="POD.CREATE")["success"] is True
    assert sorted(e["type"] for e in cloud.events()) == ["POD.EDIT", "ZONE.CREATE"]
    assert len(cloud.events(archived=True)) == 3

    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    assert cloud.cs.deleteEvents(enddate=yesterday)["success"] is True  # nothing that old
    assert len(cloud.events()) == 2
    edit = cloud.events(type="POD.EDIT")[0]["id"]
    assert cloud.cs.deleteEvents(ids=edit)["success"] is True
    assert [e["type"] for e in cloud.events()] == ["ZONE.CREATE"]
    assert cloud.cs.deleteEvents(startdate=today, enddate=today)["success"] is True
    assert cloud.events() == [] and cloud.events(archived=True) == []
    with cloud.server.state.database.session() as db:
        assert db.scalar(select(Event.id)) is None


def test_list_event_types(sqlite_cloud: Cloud) -> None:
    names = [t["name"] for t in sqlite_cloud.cs.listEventTypes()["eventtype"]]
    assert names == sorted(names)
    assert {"ZONE.CREATE", "POD.DELETE", "VM.CREATE", "UPDATE.PS", "CONFIGURATION.VALUE.EDIT"} <= set(names)
    assert sqlite_cloud.user_client().listEventTypes()["count"] == len(names)


def test_alerts_list_archive_delete(cloud: Cloud) -> None:
    with cloud.server.state.database.session() as db:
        raise_alert(db, "ALERT.HOST", "Host HYPERVCLLOUD17 is down", "No answer from HYPERVCLLOUD17")
        raise_alert(db, "ALERT.STORAGE", "Primary storage PS1 is 95% full")
        raise_alert(db, "ALERT.MANAGEMENT", "Management server restarted")
    alerts = cloud.cs.listAlerts()["alert"]
    assert [a["name"] for a in alerts] == ["ALERT.MANAGEMENT", "ALERT.STORAGE", "ALERT.HOST"]
    host_alert = alerts[2]
    assert (host_alert["type"], host_alert["subject"]) == (7, "Host HYPERVCLLOUD17 is down")
    assert host_alert["description"] == "No answer from HYPERVCLLOUD17" and "sent" in host_alert
    assert [a["name"] for a in cloud.cs.listAlerts(type="7")["alert"]] == ["ALERT.HOST"]
    assert [a["name"] for a in cloud.cs.listAlerts(keyword="full")["alert"]] == ["ALERT.STORAGE"]

    assert "either ids, type or enddate" in refused(cloud.cs.archiveAlerts).text
    assert cloud.cs.archiveAlerts(ids=host_alert["id"])["success"] is True
    assert cloud.cs.listAlerts()["count"] == 2
    assert cloud.cs.deleteAlerts(type="ALERT.STORAGE")["success"] is True
    assert [a["name"] for a in cloud.cs.listAlerts()["alert"]] == ["ALERT.MANAGEMENT"]

    user = cloud.user_client()
    for command in (user.listAlerts, user.archiveAlerts, user.deleteAlerts):
        assert refused(command, type="14").errorcode == 432
    assert cloud.cs.listAlerts()["count"] == 1

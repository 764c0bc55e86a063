"""Events and alerts: listEvents, archiveEvents, deleteEvents, listEventTypes, listAlerts, archiveAlerts,
deleteAlerts.

Events belong to the account they were recorded against (a user sees its own, a domain admin its subtree, the
root admin all); alerts are for administrators. Archived rows are kept but no longer listed by default.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session, aliased

from clusterstack.server.api.access import scope_owned
from clusterstack.server.api.caller import Caller
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, paged_list, scope_of_id
from clusterstack.server.api.lookup import keyword_pattern, matches_value
from clusterstack.server.api.registry import (
    ACCOUNT_SCOPE_PARAMS,
    ADMIN,
    ALL_ROLES,
    PAGING_PARAMS,
    Param,
    api_command,
    define_entity,
)
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.events import Alert, Event
from clusterstack.server.db.models.identity import Account, Domain, User
from clusterstack.server.events import ALERT_TYPES

EVENT_LEVELS = ("INFO", "WARN", "ERROR")

# Event types listEventTypes answers besides those already recorded: CloudStack's (EventTypes.java) for what
# clusterstack does, and clusterstack's own where CloudStack records nothing (cluster, host, pool create/delete).
KNOWN_EVENT_TYPES = (
    "VM.CREATE", "VM.DESTROY", "VM.START", "VM.STOP", "VM.REBOOT", "VM.UPDATE", "VM.UPGRADE", "VM.DYNAMIC.SCALE",
    "VM.MIGRATE", "VM.RESTORE", "VM.EXPUNGE", "VM.RECOVER",
    "VOLUME.CREATE", "VOLUME.DELETE", "VOLUME.ATTACH", "VOLUME.DETACH", "VOLUME.RESIZE", "VOLUME.DESTROY",
    "TEMPLATE.CREATE", "TEMPLATE.DELETE", "TEMPLATE.UPDATE", "ISO.CREATE", "ISO.DELETE", "ISO.UPDATE",
    "SERVICE.OFFERING.CREATE", "SERVICE.OFFERING.EDIT", "SERVICE.OFFERING.DELETE",
    "DISK.OFFERING.CREATE", "DISK.OFFERING.EDIT", "DISK.OFFERING.DELETE",
    "DOMAIN.CREATE", "DOMAIN.DELETE", "DOMAIN.UPDATE",
    "ACCOUNT.CREATE", "ACCOUNT.DELETE", "ACCOUNT.UPDATE", "ACCOUNT.ENABLE", "ACCOUNT.DISABLE",
    "USER.LOGIN", "USER.LOGOUT", "USER.CREATE", "USER.DELETE", "USER.UPDATE", "USER.ENABLE", "USER.DISABLE",
    "USER.LOCK", "REGISTER.USER.KEY",
    "ROLE.CREATE", "ROLE.UPDATE", "ROLE.DELETE",
    "ZONE.CREATE", "ZONE.EDIT", "ZONE.DELETE", "POD.CREATE", "POD.EDIT", "POD.DELETE",
    "CLUSTER.CREATE", "CLUSTER.UPDATE", "CLUSTER.DELETE",
    "HOST.RECONNECT", "HOST.UPDATE", "HOST.DELETE", "MAINT.PREPARE", "MAINT.CANCEL",
    "CREATE.PS", "UPDATE.PS", "ENABLE.PS", "DISABLE.PS", "DELETE.PS", "MAINT.PREPARE.PS", "MAINT.CANCEL.PS",
    "CONFIGURATION.VALUE.EDIT", "RESOURCE.LIMIT.UPDATE", "ALERT.GENERATE",
)

define_entity("event", [
    ("id", "string", "the ID of the event"),
    ("username", "string", "the name of the user who performed the action (can be different from the account if "
     "an admin is performing an action for a user, e.g. starting/stopping a user's virtual machine)"),
    ("type", "string", "the type of the event (see event types)"),
    ("level", "string", "the event level (INFO, WARN, ERROR)"),
    ("description", "string", "a brief description of the event"),
    ("account", "string", "the account name for the account that owns the object being acted on in the event "
     "(e.g. the owner of the virtual machine, ip address, or security group)"),
    ("domainid", "string", "the id of the account's domain"),
    ("domain", "string", "the name of the account's domain"),
    ("created", "date", "the date the event was created"),
    ("state", "state", "the state of the event"),
    ("parentid", "string", "whether the event is parented"),
    ("resourceid", "string", "the id of the resource"),
    ("resourcetype", "string", "the type of the resource"),
    ("resourcename", "string", "the name of the resource"),
    ("archived", "boolean", "whether the event has been archived or not"),
])
define_entity("alert", [
    ("id", "string", "the id of the alert"),
    ("type", "short", "One of the following alert types: MEMORY = 0, CPU = 1, STORAGE = 2, STORAGE_ALLOCATED = 3, "
     "PUBLIC_IP = 4, PRIVATE_IP = 5, SECONDARY_STORAGE = 6, HOST = 7, USERVM = 8, DOMAIN_ROUTER = 9, "
     "CONSOLE_PROXY = 10, ROUTING = 11, STORAGE_MISC = 12, USAGE_SERVER = 13, MANAGEMENT_NODE = 14, "
     "DOMAIN_ROUTER_MIGRATE = 15, CONSOLE_PROXY_MIGRATE = 16, USERVM_MIGRATE = 17, VLAN = 18, SSVM = 19, "
     "USAGE_SERVER_RESULT = 20, STORAGE_DELETE = 21, UPDATE_RESOURCE_COUNT = 22, USAGE_SANITY_RESULT = 23, "
     "DIRECT_ATTACHED_PUBLIC_IP = 24, LOCAL_STORAGE = 25, RESOURCE_LIMIT_EXCEEDED = 26, SYNC = 27"),
    ("name", "string", "the name of the alert"),
    ("subject", "string", "the subject of the alert"),
    ("description", "string", "description of the alert"),
    ("sent", "date", "the date and time the alert was sent"),
])
define_entity("eventtype", [("name", "string", "Event Type")])


def end_of_day(value: datetime) -> datetime:
    """A date-only `enddate` covers the whole day (CloudStack reads yyyy-MM-dd as 23:59:59 for end dates)."""
    if value.timetz().replace(tzinfo=None) == time(0, 0):
        return value + timedelta(days=1) - timedelta(microseconds=1)
    return value


def _date_range(p: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    start = p.get("startdate")
    end = end_of_day(p["enddate"]) if "enddate" in p else None
    if start is not None and end is not None and start > end:
        raise param_error("Invalid parameter startdate: startdate must not be later than enddate")
    return start, end


def render_event(db: Session, event: Event) -> dict[str, Any]:
    user = db.get(User, event.user_id) if event.user_id is not None else None
    account = db.get(Account, event.account_id) if event.account_id is not None else None
    domain = db.get(Domain, event.domain_id) if event.domain_id is not None else None
    parent = db.get(Event, event.start_id) if event.start_id is not None else None
    return {
        "id": event.uuid,
        "username": user.username if user else None,
        "type": event.type,
        "level": event.level,
        "description": event.description,
        "account": account.name if account else None,
        "domainid": domain.uuid if domain else None,
        "domain": domain.name if domain else None,
        "created": event.created,
        "state": event.state,
        "parentid": parent.uuid if parent else None,
        "resourceid": event.resource_uuid,
        "resourcetype": event.resource_type,
        "resourcename": event.resource_name,
        "archived": event.archived,
    }


def _pending(query: Select[Any], p: dict[str, Any]) -> Select[Any]:
    """duration + entrytime: Started events older than `duration` seconds (but younger than `entrytime`) that
    no Completed event has closed yet, i.e. work that is taking too long."""
    duration, entry = p["duration"], p["entrytime"]
    if entry <= duration:
        raise param_error("Entry time must be greater than duration")
    now = utcnow()
    closing = aliased(Event)
    closed = select(closing.id).where(closing.start_id == Event.id, closing.state == "Completed")
    return query.where(Event.state == "Started", Event.created >= now - timedelta(seconds=entry),
                       Event.created <= now - timedelta(seconds=duration), ~closed.exists())


@api_command(
    "listEvents", description="A command to list events.", response="event", roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="the ID of the event"),
        Param("type", description="the event type (see event types)"),
        Param("level", description="the event level (INFO, WARN, ERROR)"),
        Param("startdate", "date", description="the start date range of the list you want to retrieve (use format "
              "\"yyyy-MM-dd\" or the new format \"yyyy-MM-dd HH:mm:ss\")"),
        Param("enddate", "date", description="the end date range of the list you want to retrieve (use format "
              "\"yyyy-MM-dd\" or the new format \"yyyy-MM-dd HH:mm:ss\")"),
        Param("duration", "integer", description="the duration of the event", minimum=0),
        Param("entrytime", "integer", description="the time the event was entered", minimum=0),
        Param("startid", "uuid", description="the parent/start ID of the event, when provided this will list all "
              "the events with the start/parent ID including the parent event"),
        Param("archived", "boolean", description="true to list archived events otherwise false", since="4.19.0"),
        Param("resourceid", description="the ID of the resource associated with the event", since="4.17.0"),
        Param("resourcetype", description="the type of the resource associated with the event", since="4.17.0"),
        *ACCOUNT_SCOPE_PARAMS,
        *PAGING_PARAMS,
    ],
)
def list_events(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    if ("duration" in p) != ("entrytime" in p):
        raise param_error("duration and entrytime must be given together")
    if "resourceid" in p and "resourcetype" not in p:
        raise param_error("Invalid parameter resourceid: resourcetype is required with resourceid")
    start, end = _date_range(p)
    query = select(Event).where(Event.removed.is_(None), Event.archived.is_(bool(p.get("archived", False))))
    query = scope_owned(db, ctx.user, query, Event, scope_of_id(p)).order_by(Event.created.desc(), Event.id.desc())
    if "id" in p:
        query = query.where(Event.uuid == p["id"])
    if "type" in p:
        query = query.where(Event.type == p["type"])
    if "level" in p:
        query = query.where(matches_value(Event.level, p["level"], EVENT_LEVELS))
    if start is not None:
        query = query.where(Event.created >= start)
    if end is not None:
        query = query.where(Event.created <= end)
    if "startid" in p:
        parent = db.scalar(select(Event.id).where(Event.uuid == p["startid"]))
        query = query.where((Event.id == parent) | (Event.start_id == parent))
    if "resourcetype" in p:
        query = query.where(Event.resource_type.ilike(p["resourcetype"]))
    if "resourceid" in p:
        query = query.where(Event.resource_uuid == p["resourceid"])
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        query = query.where(Event.type.ilike(pattern, escape="\\") | Event.description.ilike(pattern, escape="\\")
                            | Event.level.ilike(pattern, escape="\\"))
    if "duration" in p:
        query = _pending(query, p)
    return paged_list(db, "event", query, p, lambda e: render_event(db, e))


def _permitted(db: Session, caller: Caller, query: Select[Any]) -> Select[Any]:
    """Which events a caller may archive or delete: all (root admin), its subtree (domain admin), its own."""
    if caller.is_root_admin:
        return query
    if caller.is_domain_admin:
        subtree = select(Domain.id).where(Domain.path.startswith(caller.domain_path, autoescape=True))
        return query.where(Event.domain_id.in_(subtree))
    return query.where(Event.account_id == caller.account_id)


_BULK_PARAMS = [
    Param("ids", "list", collection_type="uuid", description="the IDs of the events"),
    Param("type", description="archive by event type"),
    Param("startdate", "date", description="the start date range of the events (use format \"yyyy-MM-dd\" or "
          "\"yyyy-MM-dd HH:mm:ss\")"),
    Param("enddate", "date", description="the end date range of the events (use format \"yyyy-MM-dd\" or "
          "\"yyyy-MM-dd HH:mm:ss\")"),
]


def _selected(db: Session, model: Any, p: dict[str, Any], permitted: Any) -> list[int]:
    """The ids of the rows archiveX/deleteX would touch; refuses when nothing selects or an id is unknown."""
    if "ids" not in p and "type" not in p and "enddate" not in p:
        raise param_error("either ids, type or enddate must be specified")
    if "startdate" in p and "enddate" not in p:
        raise param_error("enddate must be specified with startdate parameter")
    start, end = _date_range(p)
    query = permitted(select(model.id, model.uuid).where(model.removed.is_(None)))
    if "ids" in p:
        query = query.where(model.uuid.in_(p["ids"]))
    if "type" in p:
        if model is Event:
            query = query.where(Event.type == p["type"])
        else:
            query = query.where((Alert.name == p["type"]) | (Alert.type == _alert_type_number(p["type"])))
    if start is not None:
        query = query.where(model.created >= start)
    if end is not None:
        query = query.where(model.created <= end)
    rows = db.execute(query).all()
    if "ids" in p:
        missing = sorted(set(p["ids"]) - {uuid for _, uuid in rows})
        if missing:
            entity = "event" if model is Event else "alert"
            raise param_error(f"Unable to find {entity}s with specified ids: {', '.join(missing)}")
    return [row_id for row_id, _ in rows]


def _alert_type_number(value: str) -> int:
    if value.isdigit():
        return int(value)
    return ALERT_TYPES.get(value, -1)


@api_command("archiveEvents", description="Archive one or more events.", response="success", roles=ALL_ROLES,
             params=_BULK_PARAMS)
def archive_events(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    ids = _selected(ctx.db, Event, p, lambda q: _permitted(ctx.db, ctx.user, q))
    if ids:
        ctx.db.execute(update(Event).where(Event.id.in_(ids)).values(archived=True))
    return {"success": True}


@api_command("deleteEvents", description="Delete one or more events.", response="success", roles=ALL_ROLES,
             params=_BULK_PARAMS)
def delete_events(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    ids = _selected(ctx.db, Event, p, lambda q: _permitted(ctx.db, ctx.user, q))
    if ids:
        ctx.db.execute(update(Event).where(Event.start_id.in_(ids)).values(start_id=None))
        ctx.db.execute(delete(Event).where(Event.id.in_(ids)))
    return {"success": True}


@api_command("listEventTypes", description="List Event Types", response="eventtype", roles=ALL_ROLES)
def list_event_types(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    recorded = set(ctx.db.scalars(select(Event.type).distinct()))
    names = sorted(recorded | set(KNOWN_EVENT_TYPES))
    return ListResponse("eventtype", [{"name": n} for n in names], len(names))


def render_alert(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.uuid,
        "type": alert.type,
        "name": alert.name,
        "subject": alert.subject,
        "description": alert.description,
        "sent": alert.last_sent or alert.created,
    }


@api_command(
    "listAlerts", description="Lists all alerts.", response="alert", roles=ADMIN,
    params=[
        Param("id", "uuid", description="the ID of the alert"),
        Param("type", description="list by alert type"),
        Param("name", description="list by alert name", since="4.3"),
        *PAGING_PARAMS,
    ],
)
def list_alerts(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    query = select(Alert).where(Alert.removed.is_(None), Alert.archived.is_(False))
    query = query.order_by(Alert.created.desc(), Alert.id.desc())
    if "id" in p:
        query = query.where(Alert.uuid == p["id"])
    if "type" in p:
        query = query.where(Alert.type == _alert_type_number(p["type"]))
    if "name" in p:
        query = query.where(Alert.name == p["name"])
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        query = query.where(Alert.subject.ilike(pattern, escape="\\") | Alert.name.ilike(pattern, escape="\\"))
    return paged_list(ctx.db, "alert", query, p, render_alert)


_ALERT_BULK_PARAMS = [
    Param("ids", "list", collection_type="uuid", description="the IDs of the alerts"),
    Param("type", description="archive by alert type (its number or its name, e.g. 7 or ALERT.HOST)"),
    *_BULK_PARAMS[2:],
]


@api_command("archiveAlerts", description="Archive one or more alerts.", response="success", roles=ADMIN,
             params=_ALERT_BULK_PARAMS)
def archive_alerts(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    ids = _selected(ctx.db, Alert, p, lambda q: q)
    if ids:
        ctx.db.execute(update(Alert).where(Alert.id.in_(ids)).values(archived=True))
    return {"success": True}


@api_command("deleteAlerts", description="Delete one or more alerts.", response="success", roles=ADMIN,
             params=_ALERT_BULK_PARAMS)
def delete_alerts(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    ids = _selected(ctx.db, Alert, p, lambda q: q)
    if ids:
        ctx.db.execute(delete(Alert).where(Alert.id.in_(ids)))
    return {"success": True}

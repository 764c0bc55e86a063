"""Writing CloudStack events and alerts. Every state change records one (listEvents / listAlerts)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.events import Alert, Event

log = logging.getLogger("clusterstack.server.events")


@dataclass(frozen=True)
class Actor:
    """Who an event is recorded against (the caller, or the system for background work)."""

    user_id: int | None = None
    account_id: int | None = None
    domain_id: int | None = None


SYSTEM = Actor(user_id=1, account_id=1, domain_id=1)


def record_event(
    db: Session,
    event_type: str,
    description: str,
    actor: Actor = SYSTEM,
    *,
    level: str = "INFO",
    state: str = "Completed",
    resource_type: str | None = None,
    resource_uuid: str | None = None,
    resource_name: str | None = None,
) -> Event:
    event = Event(
        type=event_type,
        description=description,
        level=level,
        state=state,
        user_id=actor.user_id,
        account_id=actor.account_id,
        domain_id=actor.domain_id,
        resource_type=resource_type,
        resource_uuid=resource_uuid,
        resource_name=resource_name,
    )
    db.add(event)
    return event


# CloudStack's AlertManager alert types (AlertService.AlertType), the ones clusterstack raises.
ALERT_TYPES: dict[str, int] = {
    "ALERT.MEMORY": 0,
    "ALERT.CPU": 1,
    "ALERT.STORAGE": 2,
    "ALERT.STORAGE.ALLOCATED": 3,
    "ALERT.HOST": 7,
    "ALERT.USERVM": 8,
    "ALERT.STORAGE.MISC": 12,
    "ALERT.MANAGEMENT": 14,
    "ALERT.USERVM.MIGRATE": 17,
    "ALERT.RESOURCE.EXCEED": 26,
    "ALERT.SYNC": 27,
}


def raise_alert(
    db: Session,
    name: str,
    subject: str,
    description: str = "",
    *,
    zone_id: int | None = None,
    pod_id: int | None = None,
    cluster_id: int | None = None,
    resource_uuid: str | None = None,
) -> Alert:
    if name not in ALERT_TYPES:
        raise ValueError(f"unknown alert name {name!r}")
    alert = Alert(
        type=ALERT_TYPES[name],
        name=name,
        subject=subject,
        description=description or subject,
        zone_id=zone_id,
        pod_id=pod_id,
        cluster_id=cluster_id,
        resource_uuid=resource_uuid,
        last_sent=utcnow(),
    )
    db.add(alert)
    log.warning("Alert %s: %s", name, subject)
    return alert

"""OS types and categories: listOsTypes, listOsCategories; CloudStack's common guest OS entries seeded.

The entries are seeded when the management server starts (and by `ensure_guest_os` wherever a database is
used without a server, as the benchmarks do). Their UUIDs are derived from their names, so every installation
shows the same ids and two servers seeding one database at once insert the same rows.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from clusterstack.server import app
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.listing import ListResponse, page_window, paged_list
from clusterstack.server.api.lookup import filter_row_id, keyword_pattern
from clusterstack.server.api.registry import ALL_ROLES, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.models.catalog import (
    GUEST_OS_CATEGORIES,
    GUEST_OS_TYPES,
    GuestOS,
    GuestOSCategory,
    seed_uuid,
)
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.catalog")

define_entity("ostype", [
    ("id", "string", "the ID of the OS type"),
    ("name", "string", "the name of the OS type"),
    ("description", "string", "the name/description of the OS type"),
    ("oscategoryid", "string", "the ID of the OS category"),
    ("oscategoryname", "string", "the name of the OS category"),
    ("isuserdefined", "boolean", "is the guest OS user defined"),
    ("fordisplay", "boolean", "is the guest OS visible for the users"),
])
define_entity("oscategory", [
    ("id", "string", "the ID of the OS category"),
    ("name", "string", "the name of the OS category"),
])


def ensure_guest_os(db: Session) -> None:
    """Insert the categories and OS types that are missing (idempotent)."""
    categories = {c.name: c for c in db.scalars(select(GuestOSCategory))}
    for name in GUEST_OS_CATEGORIES:
        if name not in categories:
            category = GuestOSCategory(uuid=seed_uuid("guest_os_category", name), name=name)
            db.add(category)
            categories[name] = category
    db.flush()
    known = set(db.scalars(select(GuestOS.display_name)))
    for category_name, display_name in GUEST_OS_TYPES:
        if display_name not in known:
            db.add(GuestOS(uuid=seed_uuid("guest_os", display_name), display_name=display_name,
                           category_id=categories[category_name].id))
    db.flush()


class GuestOSSeed:
    """Started with the server: makes sure the guest OS entries exist."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def start(self) -> None:
        try:
            with self.state.database.session() as db:
                ensure_guest_os(db)
        except (IntegrityError, OperationalError):
            # another management server seeded the same rows at the same moment; check they are there
            with self.state.database.session() as db:
                ensure_guest_os(db)
            log.info("Another management server seeded the guest OS types first")

    def stop(self) -> None:
        pass


app.register_service("guest-os", GuestOSSeed)


def render_os_type(os_type: GuestOS, category: GuestOSCategory) -> dict[str, Any]:
    return {
        "id": os_type.uuid,
        "name": os_type.display_name,
        "description": os_type.display_name,
        "oscategoryid": category.uuid,
        "oscategoryname": category.name,
        "isuserdefined": os_type.is_user_defined,
        "fordisplay": os_type.for_display,
    }


@api_command(
    "listOsTypes", description="Lists all supported OS types for this cloud.", response="ostype",
    roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="list by Os type Id"),
        Param("oscategoryid", "uuid", description="list by Os Category id"),
        Param("description", description="list os by description"),
        Param("fordisplay", "boolean", description="list resources by display flag (admins only)"),
        *PAGING_PARAMS,
    ],
)
def list_os_types(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = (select(GuestOS, GuestOSCategory).join(GuestOSCategory, GuestOS.category_id == GuestOSCategory.id)
             .where(GuestOS.removed.is_(None)).order_by(GuestOS.id))
    if "id" in p:
        query = query.where(GuestOS.uuid == p["id"])
    if "oscategoryid" in p:
        query = query.where(GuestOS.category_id == filter_row_id(db, GuestOSCategory, p["oscategoryid"],
                                                                 "OS category", "oscategoryid"))
    if "description" in p:
        query = query.where(GuestOS.display_name.ilike(keyword_pattern(p["description"]), escape="\\"))
    if "keyword" in p:
        query = query.where(GuestOS.display_name.ilike(keyword_pattern(p["keyword"]), escape="\\"))
    if not ctx.user.is_root_admin:
        query = query.where(GuestOS.for_display.is_(True))
    elif "fordisplay" in p:
        query = query.where(GuestOS.for_display.is_(p["fordisplay"]))
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    offset, limit = page_window(db, p) or (0, None)
    rows = db.execute(query.offset(offset).limit(limit)).all()
    return ListResponse("ostype", [render_os_type(o, c) for o, c in rows], total)


@api_command(
    "listOsCategories", description="Lists all supported OS categories for this cloud.", response="oscategory",
    roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="list Os category by id"),
        Param("name", description="list os category by name"),
        *PAGING_PARAMS,
    ],
)
def list_os_categories(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = select(GuestOSCategory).where(GuestOSCategory.removed.is_(None)).order_by(GuestOSCategory.id)
    if "id" in p:
        query = query.where(GuestOSCategory.uuid == p["id"])
    if "name" in p:
        query = query.where(GuestOSCategory.name == p["name"])
    if "keyword" in p:
        query = query.where(GuestOSCategory.name.ilike(keyword_pattern(p["keyword"]), escape="\\"))
    return paged_list(db, "oscategory", query, p, lambda c: {"id": c.uuid, "name": c.name})

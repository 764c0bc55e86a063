"""Paging for list commands: page/pagesize with the server's maximum, and the count of all matches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from clusterstack.server import settings
from clusterstack.server.api.errors import param_error


@dataclass
class ListResponse:
    """A list answer: `{"count": N, "<entity>": [...]}`, or `{}` when nothing matched."""

    entity: str
    items: list[dict[str, Any]]
    count: int


def page_window(db: Session, params: dict[str, Any]) -> tuple[int, int] | None:
    """(offset, limit) for the requested page, or None for everything up to the server maximum."""
    maximum = settings.get(db, settings.DEFAULT_PAGE_SIZE)
    page = params.get("page")
    pagesize = params.get("pagesize")
    if pagesize is not None and pagesize > maximum:
        raise param_error(f"Page size can't exceed max allowed page size value: {maximum}")
    if page is None and pagesize is None:
        return (0, maximum)
    if page is not None and pagesize is None:
        raise param_error("pagesize parameter is required when page is specified")
    size = pagesize if pagesize is not None else maximum
    return ((page or 1) - 1) * size, size


def paged(db: Session, query: Select[Any], params: dict[str, Any]) -> tuple[list[Any], int]:
    """Run `query` (an ORM select of one entity) for the requested page; returns (rows, total count)."""
    window = page_window(db, params)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    offset, limit = window if window is not None else (0, None)
    rows = list(db.scalars(query.offset(offset).limit(limit)))
    return rows, total


def paged_list(db: Session, entity: str, query: Select[Any], params: dict[str, Any], render: Any) -> ListResponse:
    rows, total = paged(db, query, params)
    return ListResponse(entity, [render(row) for row in rows], total)


def scope_of_id(params: dict[str, Any]) -> dict[str, Any]:
    """The scope parameters of a listing by id. CloudStack's buildACLSearchParameters scopes a listing with an id
    and neither account nor domainid as listall does: an id names one object, and whether the caller may see it
    is for the scope rules (the root admin sees any, a domain admin its subtree, a user its own account)."""
    if "id" in params and "account" not in params and "domainid" not in params and not params.get("listall"):
        return {**params, "listall": True}
    return params

"""Finding a row a command names by its UUID, with CloudStack's message when there is none."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.server.api.errors import param_error

T = TypeVar("T")


def find_by_uuid(db: Session, model: type[T], uuid: str, entity: str, param: str = "id") -> T:
    """The live (not removed) row of `model` with this UUID, or 431 naming the parameter and the value."""
    row = db.scalar(select(model).where(model.uuid == uuid, model.removed.is_(None)))  # type: ignore[attr-defined]
    if row is None:
        raise param_error(f"Unable to find {entity} with specified {param}: {uuid}")
    return row


def optional_by_uuid(db: Session, model: type[T], params: dict[str, Any], param: str, entity: str) -> T | None:
    uuid = params.get(param)
    return None if uuid is None else find_by_uuid(db, model, uuid, entity, param)


def keyword_pattern(keyword: str) -> str:
    """A LIKE pattern matching `keyword` anywhere, with LIKE's own wildcards taken literally."""
    escaped = keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

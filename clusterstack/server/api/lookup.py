"""Finding a row a command names by its UUID, with CloudStack's message when there is none, and the filters of
list commands that name other rows or a hypervisor."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from clusterstack.server.api.errors import param_error
from clusterstack.server.api.params import given_uuid
from clusterstack.server.db.models.infrastructure import hypervisor_type

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


def filter_row_id(db: Session, model: type[T], uuid: str, entity: str, param: str) -> int:
    """The internal id a list filter names, resolved as CloudStack's ParamProcessWorker does: "-1" and the UUID
    of a removed row resolve (and so match nothing live: an empty list), a UUID no row ever had is refused."""
    if uuid == "-1":
        return -1
    row_id = db.scalar(select(model.id).where(model.uuid == uuid))  # type: ignore[attr-defined]
    if row_id is None:
        raise param_error(f"Unable to find {entity} with specified {param}: {uuid}")
    return int(row_id)


def matches_hypervisor(column: Any, name: str) -> ColumnElement[bool]:
    """A list filter on a hypervisor column: CloudStack's name, any spelling clusterstack accepts; any other
    hypervisor matches nothing (CloudStack compares the string, it does not refuse it)."""
    known = hypervisor_type(name)
    return column == known if known is not None else false()


def matches_value(column: Any, value: str, known: tuple[str, ...]) -> ColumnElement[bool]:
    """A list filter on a column of named values (states, types): any case of a known value filters by it, any
    other value matches nothing. CloudStack compares these filters as given rather than refusing them."""
    canonical = next((k for k in known if k.lower() == value.lower()), None)
    return column == canonical if canonical is not None else false()


def unused_uuid(db: Session, model: Any, param: str, value: str, what: str) -> str:
    """The UUID a caller chose for a new object: a well-formed one that no row of `model` has (removed or not)."""
    chosen = given_uuid(param, value)
    if db.scalar(select(model.id).where(model.uuid == chosen)) is not None:
        raise param_error(f"Invalid parameter {param} value={chosen}: a {what} with this id already exists")
    return chosen

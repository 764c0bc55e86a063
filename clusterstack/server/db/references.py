"""What still uses a row: every live row of any table whose foreign key points at it.

Deleting a zone, pod, cluster, host or storage pool is refused while something references it. The check
reads the foreign keys from the models' metadata, so tables added later (instances on a host, volumes on a
pool) count without any edit here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from clusterstack.server.db.base import Base

# How a referencing table is named in a message (one, several); anything else by its table name.
_NAMES = {
    "host_pod_ref": ("pod", "pods"),
    "cluster": ("cluster", "clusters"),
    "host": ("host", "hosts"),
    "storage_pool": ("primary storage pool", "primary storage pools"),
    "vm_instance": ("instance", "instances"),
    "volumes": ("volume", "volumes"),
    "service_offering": ("service offering", "service offerings"),
    "disk_offering": ("disk offering", "disk offerings"),
    "vm_template": ("template", "templates"),
}
# References that record history rather than use: an instance's last host does not hold that host.
_IGNORED = {("vm_instance", "last_host_id")}
_SAMPLE = 5


@dataclass(frozen=True)
class Usage:
    what: str  # "pod", "hosts", ...
    count: int
    names: tuple[str, ...]  # up to five of their names

    def describe(self) -> str:
        shown = ", ".join(self.names)
        more = "" if self.count <= len(self.names) else ", ..."
        return f"{self.count} {self.what}" + (f" ({shown}{more})" if shown else "")


def usages(db: Session, table: Table, row_id: int) -> list[Usage]:
    """Every table that references `table`'s row `row_id` through a foreign key, with live rows counted."""
    found: list[Usage] = []
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or (other.name, fk.parent.name) in _IGNORED:
                continue
            condition = fk.parent == row_id
            if "removed" in other.c:
                condition = condition & other.c.removed.is_(None)
            count = db.scalar(select(func.count()).select_from(other).where(condition)) or 0
            if not count:
                continue
            names: tuple[str, ...] = ()
            if "name" in other.c:
                names = tuple(str(n) for n in db.scalars(
                    select(other.c.name).where(condition).order_by(other.c.id).limit(_SAMPLE)))
            one, many = _NAMES.get(other.name, (other.name, other.name))
            found.append(Usage(one if count == 1 else many, count, names))
    return found


def describe_usages(found: list[Usage]) -> str:
    return ", ".join(u.describe() for u in found)

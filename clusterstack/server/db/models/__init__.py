"""All ORM models. Each module holds one area; importing this package registers every table.

Modules are discovered, so adding a model file needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil

from clusterstack.server.db.base import Base


def load_all() -> type[Base]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return Base


load_all()

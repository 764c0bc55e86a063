"""What a running management server holds: its database, data directory and services.

Services are attached by the layers that own them while the app is built (jobs, secrets, drivers),
so that command handlers reach them through `ctx.server` without importing each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterstack.server.db.engine import Database


@dataclass
class ServerState:
    database: Database
    data_dir: Path
    # a per-process id: names this management server in job leases and logs ("msid" in CloudStack)
    msid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    services: dict[str, Any] = field(default_factory=dict)

    def service(self, name: str) -> Any:
        try:
            return self.services[name]
        except KeyError:
            raise RuntimeError(f"management server service '{name}' is not running") from None

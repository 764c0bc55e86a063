"""The context a command handler runs in: the unit of work, the caller, the server."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from clusterstack.server.api.caller import Caller
from clusterstack.server.events import Actor
from clusterstack.server.state import ServerState


@dataclass
class CallContext:
    db: Session
    caller: Caller | None  # None only for commands that need no authentication (login)
    server: ServerState
    command: str
    request_id: str
    job_uuid: str | None = None  # set when running inside an async job
    response_cookies: dict[str, str] = field(default_factory=dict)
    clear_cookies: list[str] = field(default_factory=list)

    @property
    def user(self) -> Caller:
        if self.caller is None:
            raise RuntimeError(f"{self.command} needs an authenticated caller")
        return self.caller

    @property
    def actor(self) -> Actor:
        return self.caller.actor if self.caller is not None else Actor()

"""The API command registry: every command, its parameters, its response fields, who may call it.

A command module declares commands with `@api_command`; `listApis` and the dispatcher read this registry.
Command modules live in clusterstack/server/api/commands/ and are discovered, so adding one needs no edit
elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clusterstack.server.api.context import CallContext

# Who may call a command by default; roles' rules are seeded from this (CloudStack's commands.properties).
ADMIN = 1
DOMAIN_ADMIN = 4
USER = 8
ALL_ROLES = ADMIN | DOMAIN_ADMIN | USER

PARAM_TYPES = ("string", "uuid", "integer", "long", "short", "boolean", "date", "map", "list", "float")


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"
    required: bool = False
    description: str = ""
    length: int = 255
    since: str = ""
    collection_type: str | None = None  # element type of a "list" parameter
    choices: tuple[str, ...] | None = None  # allowed values, compared case-insensitively
    minimum: int | None = None
    maximum: int | None = None
    sentinel: str | None = None  # a value a uuid parameter also takes as is (CloudStack's zoneid=-1: every zone)

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name}: unknown type {self.type}")


@dataclass(frozen=True)
class ResponseField:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class JobTarget:
    """What an async job works on: CloudStack's jobinstancetype and the resource's UUID."""

    instance_type: str  # VirtualMachine, Host, Volume, StoragePool, ...
    instance_uuid: str | None


Handler = Callable[["CallContext", dict[str, Any]], Any]
Prepare = Callable[["CallContext", dict[str, Any]], "JobTarget | None"]


@dataclass
class ApiCommand:
    name: str
    handler: Handler
    params: tuple[Param, ...]
    description: str
    response_object: str | None
    response_fields: tuple[ResponseField, ...]
    isasync: bool = False
    since: str = "4.0.0"
    roles: int = ALL_ROLES
    authenticated: bool = True
    prepare: Prepare | None = None  # async commands: the synchronous part (validate, create the row)
    related: tuple[str, ...] = ()
    resumable: bool = False  # an interrupted job of this command may simply be run again
    param_index: dict[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.param_index = {p.name.lower(): p for p in self.params}


_COMMANDS: dict[str, ApiCommand] = {}
_ENTITIES: dict[str, tuple[ResponseField, ...]] = {}


def define_entity(name: str, fields: list[tuple[str, str, str]]) -> tuple[ResponseField, ...]:
    """Declare an entity's response fields (name, type, description) for listApis."""
    declared = tuple(ResponseField(*f) for f in fields)
    _ENTITIES[name] = declared
    return declared


def entity_fields(name: str) -> tuple[ResponseField, ...]:
    return _ENTITIES.get(name, ())


SUCCESS_FIELDS = (
    ResponseField("success", "boolean", "true if operation is executed successfully"),
    ResponseField("displaytext", "string", "any text associated with the success or failure"),
)


def api_command(
    name: str,
    *,
    description: str,
    params: list[Param] | tuple[Param, ...] = (),
    response: str | None = None,
    isasync: bool = False,
    since: str = "4.0.0",
    roles: int = ALL_ROLES,
    authenticated: bool = True,
    prepare: Prepare | None = None,
    related: tuple[str, ...] = (),
    resumable: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a command. `response` names the entity of the response (e.g. "zone"), or "success"."""

    def register(handler: Handler) -> Handler:
        key = name.lower()
        if key in _COMMANDS:
            raise RuntimeError(f"API command {name} registered twice")
        if response == "success":
            fields = SUCCESS_FIELDS
        else:
            fields = entity_fields(response) if response else ()
        _COMMANDS[key] = ApiCommand(
            name=name,
            handler=handler,
            params=tuple(params),
            description=description,
            response_object=response,
            response_fields=fields,
            isasync=isasync,
            since=since,
            roles=roles,
            authenticated=authenticated,
            prepare=prepare,
            related=related,
            resumable=resumable,
        )
        return handler

    return register


_loaded = False


def load_commands() -> dict[str, ApiCommand]:
    """Import every module under api/commands so that their commands register."""
    global _loaded
    if not _loaded:
        from clusterstack.server.api import commands

        for module in pkgutil.iter_modules(commands.__path__):
            importlib.import_module(f"{commands.__name__}.{module.name}")
        _loaded = True
    return _COMMANDS


def find_command(name: str) -> ApiCommand | None:
    return load_commands().get(name.lower())


def all_commands() -> list[ApiCommand]:
    return sorted(load_commands().values(), key=lambda c: c.name.lower())


# Parameters shared by list commands (CloudStack's BaseListCmd and BaseListAccountResourcesCmd).
PAGING_PARAMS: tuple[Param, ...] = (
    Param("keyword", description="List by keyword"),
    Param("page", "integer", description="The page number of the results, starting at 1", minimum=1),
    Param("pagesize", "integer", description="The number of results per page", minimum=1),
)
ACCOUNT_SCOPE_PARAMS: tuple[Param, ...] = (
    Param("account", description="list resources by account. Must be used with the domainId parameter."),
    Param("domainid", "uuid", description="list only resources belonging to the domain specified"),
    Param("isrecursive", "boolean",
          description="defaults to false, but if true, lists all resources from the parent specified by "
          "the domainId till leaves."),
    Param("listall", "boolean",
          description="If set to false, list only resources belonging to the command's caller; if set to "
          "true - list resources that the caller is authorized to see. Default value is false"),
    Param("projectid", "uuid", description="list objects by project; projects are not supported and ignored"),
)
TAGS_PARAM = Param("tags", "map", description="List resources by tags (key/value pairs)")

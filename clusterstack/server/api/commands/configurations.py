"""listConfigurations, updateConfiguration, resetConfiguration over the server's settings (server/settings.py).

Settings are global: clusterstack has no zone-, cluster-, account- or domain-scoped values, so a scoped
listing is empty and a scoped update is refused with a message saying so.
"""

from __future__ import annotations

from typing import Any

from clusterstack.server import events, settings
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, page_window
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.settings import Setting, SettingError

EVENT_CONFIGURATION_VALUE_EDIT = "CONFIGURATION.VALUE.EDIT"
_SCOPE_PARAMS = ("zoneid", "clusterid", "storageid", "accountid", "domainid", "imagestoreid")
_TYPE_NAMES = {bool: "Boolean", int: "Number", float: "Decimal", str: "String"}

define_entity("configuration", [
    ("category", "string", "the category of the configuration"),
    ("name", "string", "the name of the configuration"),
    ("value", "string", "the value of the configuration"),
    ("defaultvalue", "string", "the default value of the configuration"),
    ("description", "string", "the description of the configuration"),
    ("scope", "string", "scope(zone/cluster/pool/account) of the parameter that needs to be updated"),
    ("isdynamic", "boolean", "true if the configuration is dynamic"),
    ("type", "string", "the type of the configuration value"),
    ("options", "string", "the possible options of the configuration value"),
    ("displaytext", "string", "the display text of the configuration"),
    ("component", "string", "the component of the configuration"),
    ("group", "string", "the group of the configuration"),
    ("subgroup", "string", "the subgroup of the configuration"),
])

_SCOPE_ARGS = [
    Param("zoneid", "uuid", description="the ID of the Zone to update the parameter value for corresponding zone"),
    Param("clusterid", "uuid", description="the ID of the Cluster to update the parameter value for corresponding "
          "cluster"),
    Param("storageid", "uuid", description="the ID of the Storage pool to update the parameter value for "
          "corresponding storage pool"),
    Param("accountid", "uuid", description="the ID of the Account to update the parameter value for corresponding "
          "account"),
    Param("domainid", "uuid", description="the ID of the Domain to update the parameter value for corresponding "
          "domain"),
    Param("imagestoreid", "uuid", description="the ID of the Image Store to update the parameter value for "
          "corresponding image store"),
]


def render_setting(setting: Setting, value: Any) -> dict[str, Any]:
    return {
        "category": setting.category,
        "name": setting.name,
        "value": setting.render(value),
        "defaultvalue": setting.render(setting.default),
        "description": setting.description,
        "scope": "global",
        "isdynamic": setting.dynamic,
        "type": _TYPE_NAMES.get(setting.type, "String"),
        "options": ",".join(setting.render(c) for c in setting.choices) if setting.choices else None,
        "displaytext": setting.name,
        "component": "ManagementServer",
        "group": "Miscellaneous",
        "subgroup": "Others",
    }


def _refuse_scope(p: dict[str, Any], name: str) -> None:
    for key in _SCOPE_PARAMS:
        if key in p:
            raise param_error(f"Invalid parameter {key}: configuration {name} is global and cannot be set for a "
                              f"single {key.removesuffix('id')}")


# Settings CloudStack has (and its own tests set) for features clusterstack does not have: listed with CloudStack's
# defaults so that a client reading them finds them; setting the default is accepted, any other value is refused
# with the reason, never stored and ignored.
_NOT_HONOURED: dict[str, str] = {}


def _cloudstack_only(name: str, default: Any, description: str, reason: str) -> None:
    settings.define_setting(name, default, "Advanced", description, choices=(default,))
    _NOT_HONOURED[name] = reason


_LEASES = ("clusterstack has no instance leases: deployVirtualMachine takes no leaseduration or leaseexpiryaction, "
           "and nothing would stop or destroy an instance when its lease ends")
# CloudStack's VMLeaseManager (api/src/main/java/org/apache/cloudstack/vm/lease/VMLeaseManager.java)
_cloudstack_only("instance.lease.enabled", False, "Indicates whether to enable the Instance lease, will be applicable "
                 "only on instances created after lease is enabled", _LEASES)
_cloudstack_only("instance.lease.scheduler.interval", 3600, "VM Lease Scheduler interval in seconds", _LEASES)
_cloudstack_only("instance.lease.eventscheduler.interval", 86400, "Lease expiry event Scheduler interval in seconds",
                 _LEASES)
_cloudstack_only("instance.lease.expiryevent.daysbefore", 7, "Indicates how many days in advance, expiry events "
                 "will be created before expiry.", _LEASES)


def _lookup(name: str) -> Setting:
    try:
        return settings.lookup(name)
    except SettingError:
        # CloudStack's ConfigurationManagerImpl.updateConfiguration, word for word
        raise param_error(f"Config parameter with name {name} doesn't exist") from None


def _check_honoured(setting: Setting, raw: str | None) -> None:
    reason = _NOT_HONOURED.get(setting.name)
    if reason is None or raw in (None, ""):
        return
    try:
        value = setting.parse(raw)
    except SettingError:
        value = None
    if value != setting.default:
        raise param_error(f"Configuration {setting.name} stays {setting.render(setting.default)} in clusterstack: "
                          f"{reason}")


@api_command(
    "listConfigurations", description="Lists all configurations.", response="configuration", roles=ADMIN,
    params=[
        Param("category", description="lists configurations by category"),
        Param("name", description="lists configuration by name"),
        Param("group", description="lists configuration by group name (primarily used for UI)", since="4.18.0"),
        Param("subgroup", description="lists configuration by subgroup name (primarily used for UI)",
              since="4.18.0"),
        Param("parent", description="lists configuration by parent name (primarily used for UI)", since="4.18.0"),
        *_SCOPE_ARGS,
        *PAGING_PARAMS,
    ],
)
def list_configurations(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    if any(k in p for k in _SCOPE_PARAMS):
        return ListResponse("configuration", [], 0)  # no setting has a scoped value
    chosen = settings.all_settings()
    if "category" in p:
        chosen = [s for s in chosen if s.category.lower() == p["category"].lower()]
    if "name" in p:
        chosen = [s for s in chosen if p["name"].lower() in s.name.lower()]
    if "keyword" in p:
        word = p["keyword"].lower()
        chosen = [s for s in chosen if word in s.name.lower() or word in s.description.lower()]
    if p.get("group", "Miscellaneous") != "Miscellaneous" or p.get("subgroup", "Others") != "Others" or "parent" in p:
        chosen = []
    offset, limit = page_window(ctx.db, p) or (0, len(chosen))
    page = chosen[offset:offset + limit]
    return ListResponse("configuration", [render_setting(s, settings.get(ctx.db, s)) for s in page], len(chosen))


@api_command(
    "updateConfiguration", description="Updates a configuration.", response="configuration", roles=ADMIN,
    params=[
        Param("name", required=True, description="the name of the configuration"),
        Param("value", length=4096, description="the value of the configuration"),
        *_SCOPE_ARGS,
    ],
)
def update_configuration(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    setting = _lookup(p["name"])
    _refuse_scope(p, setting.name)
    raw = p.get("value")
    _check_honoured(setting, raw)
    try:
        value = settings.put(ctx.db, setting.name, raw if raw not in (None, "") else None)
    except SettingError as exc:
        raise param_error(f"Invalid parameter value for configuration {setting.name}: {exc}") from None
    shown = setting.render(value)
    events.record_event(ctx.db, EVENT_CONFIGURATION_VALUE_EDIT,
                        f"Successfully edited configuration value: {setting.name} = {shown}", ctx.actor,
                        resource_type="Configuration", resource_name=setting.name)
    return {"configuration": render_setting(setting, value)}


@api_command(
    "resetConfiguration", description="Resets a configuration. The configuration will be set to default value "
    "for global setting, and removed from account_details or domain_details for Account/Domain settings",
    response="configuration", roles=ADMIN, since="4.16.0",
    params=[Param("name", required=True, description="the name of the configuration"), *_SCOPE_ARGS],
)
def reset_configuration(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    setting = _lookup(p["name"])
    _refuse_scope(p, setting.name)
    value = settings.put(ctx.db, setting.name, None)
    events.record_event(ctx.db, EVENT_CONFIGURATION_VALUE_EDIT,
                        f"Successfully reset configuration {setting.name} to its default {setting.render(value)}",
                        ctx.actor, resource_type="Configuration", resource_name=setting.name)
    return {"configuration": render_setting(setting, value)}

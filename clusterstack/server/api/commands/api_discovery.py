"""listApis, listCapabilities and getCloudIdentifier: what a client learns about the server before using it.

`listApis` is what CloudMonkey's `sync` stores: every command the caller may call, with its parameters
(name, type, required, description, length, since, related), its response fields and whether it is async.
CloudMonkey reads `name`, `isasync`, `description` and `params` of every api and `name`, `type`, `required`,
`description` of every parameter, so those are always present.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from typing import Any

from sqlalchemy import select

from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import not_found, param_error, permission_denied
from clusterstack.server.api.listing import ListResponse
from clusterstack.server.api.registry import (
    ALL_ROLES,
    ApiCommand,
    Param,
    ResponseField,
    all_commands,
    api_command,
    define_entity,
    entity_fields,
    find_command,
)
from clusterstack.server.api.responses import CLOUDSTACK_VERSION
from clusterstack.server.db.models.identity import Account, Domain, User
from clusterstack.server.identity import authentication, secret_store
from clusterstack.server.identity.secret_store import SecretStoreError
from clusterstack.server.settings import DEFAULT_PAGE_SIZE, SettingError, define_setting
from clusterstack.server.settings import get as get_setting
from clusterstack.server.settings import lookup as lookup_setting
from clusterstack.server.settings import put as put_setting

define_entity("api", [
    ("name", "string", "the name of the api command"),
    ("description", "string", "description of the api"),
    ("since", "string", "version of CloudStack the api was introduced in"),
    ("isasync", "boolean", "true if api is asynchronous"),
    ("related", "string", "comma separated related apis"),
    ("params", "set", "the list params the api accepts"),
    ("response", "set", "api response fields"),
])

define_entity("capability", [
    ("securitygroupsenabled", "boolean", "true if security groups support is enabled, false otherwise"),
    ("dynamicrolesenabled", "boolean", "true if dynamic role-based api checker is enabled, false otherwise"),
    ("cloudstackversion", "string", "version of the cloud stack"),
    ("userpublictemplateenabled", "boolean",
     "true if user and domain admins can set templates to be shared, false otherwise"),
    ("supportELB", "string", "true if region supports elastic load balancer on basic zones"),
    ("projectinviterequired", "boolean", "If invitation confirmation is required when add account to project"),
    ("allowusercreateprojects", "boolean", "true if regular user is allowed to create projects"),
    ("customdiskofferingminsize", "long",
     "minimum size that can be specified when create disk from disk offering with custom size"),
    ("customdiskofferingmaxsize", "long",
     "maximum size that can be specified when create disk from disk offering with custom size"),
    ("regionsecondaryenabled", "boolean", "true if region wide secondary is enabled, false otherwise"),
    ("kvmsnapshotenabled", "boolean", "true if snapshot is supported for KVM host, false otherwise"),
    ("allowuserviewdestroyedvm", "boolean",
     "true if the user is allowed to view destroyed virtualmachines, false otherwise"),
    ("allowuserexpungerecovervm", "boolean",
     "true if the user can recover and expunge virtualmachines, false otherwise"),
    ("allowuserexpungerecovervolume", "boolean",
     "true if the user can recover and expunge volumes, false otherwise"),
    ("allowuserviewalldomainaccounts", "boolean",
     "true if users can see all accounts within the same domain, false otherwise"),
    ("kubernetesserviceenabled", "boolean", "true if Kubernetes Service plugin is enabled, false otherwise"),
    ("kubernetesclusterexperimentalfeaturesenabled", "boolean",
     "true if experimental features for Kubernetes cluster such as Docker private registry are enabled, "
     "false otherwise"),
    ("defaultuipagesize", "long", "default page size in the UI for various views, value set in the configurations"),
    ("instancesstatsretentiontime", "integer", "the retention time for Instances stats"),
    ("instancesstatsuseronly", "boolean",
     "true if stats are collected only for user instances, false if system instance stats are also collected"),
    ("instancesdisksstatsretentionenabled", "boolean",
     "true if stats are retained for instance disks otherwise false"),
    ("instancesdisksstatsretentiontime", "integer", "the retention time for Instances disks stats"),
])

define_entity("cloudidentifier", [
    ("cloudidentifier", "string", "the cloud identifier"),
    ("signature", "string", "the signed response for the cloud identifier"),
    ("userid", "string", "the user ID for the cloud identifier"),
])

# CloudStack keeps the installation's identity in its configuration table under this name (category Hidden).
CLOUD_IDENTIFIER = define_setting(
    "cloud.identifier", "", "Hidden", "A unique identifier for this cloud, created on first use",
)


def _setting_or(db: Any, name: str, default: Any) -> Any:
    """A setting other modules may define (the console's page size, the VM policies); its default otherwise."""
    try:
        setting = lookup_setting(name)
    except SettingError:
        return default
    return get_setting(db, setting)


UNKNOWN_API_TEXT = "Api Discovery plugin was unable to find an api by that name or process any apis"


# Parameters whose name does not spell their entity ("storageid" is a primary storage pool, ...).
_PARAM_ENTITIES = {"storageid": "storagepool", "ipaddressid": "publicipaddress", "ostypeid": "ostype",
                   "oscategoryid": "oscategory"}
_VERBS = re.compile(r"^(create|delete|update|list|register|get|enable|disable|lock|add|remove|archive|reset)")


def list_commands_by_entity() -> dict[str, str]:
    """entity -> the list command that returns it (zone -> listZones; the shortest name when several do)."""
    found: dict[str, str] = {}
    for command in all_commands():
        entity = command.response_object
        if entity and entity != "success" and command.name.startswith("list"):
            current = found.get(entity)
            if current is None or len(command.name) < len(current):
                found[entity] = command.name
    return found


def _entity_in(noun: str, lists: dict[str, str]) -> str | None:
    """The entity a noun names: itself, else the longest entity it ends with or starts with."""
    if noun in lists:
        return noun
    candidates = [e for e in lists if noun.endswith(e) or noun.startswith(e)]
    return max(candidates, key=len) if candidates else None


def related_list_command(command: ApiCommand, param: Param, lists: dict[str, str]) -> str | None:
    """The list command whose ids this uuid parameter takes (CloudMonkey completes values with it)."""
    if param.type != "uuid" and not (param.type == "list" and param.collection_type == "uuid"):
        return None
    name = param.name.lower()
    if name in ("id", "ids"):
        entity = command.response_object
        if not entity or entity == "success" or entity not in lists:
            entity = _entity_in(_VERBS.sub("", command.name.lower()), lists)
    elif name.endswith(("id", "ids")):
        single = name[:-1] if name.endswith("ids") else name
        entity = _PARAM_ENTITIES.get(single) or _entity_in(single[:-2], lists)
    else:
        return None
    return lists.get(entity) if entity else None


def _param_entry(command: ApiCommand, param: Param, lists: dict[str, str]) -> dict[str, Any]:
    return {
        "name": param.name,
        "description": param.description,
        "type": param.type,
        "length": param.length,
        "required": param.required,
        "since": param.since or None,
        "related": related_list_command(command, param, lists),
    }


def _response_entry(field: ResponseField) -> dict[str, Any]:
    return {"name": field.name, "description": field.description, "type": field.type}


def _response_fields(command: ApiCommand) -> tuple[ResponseField, ...]:
    # Looked up again so that an entity defined after its command still shows its fields.
    if command.response_object and command.response_object != "success":
        return entity_fields(command.response_object) or command.response_fields
    return command.response_fields


def api_entry(command: ApiCommand, lists: dict[str, str] | None = None) -> dict[str, Any]:
    """One command as listApis describes it (CloudStack's ApiDiscoveryResponse)."""
    lists = list_commands_by_entity() if lists is None else lists
    params = sorted(command.params, key=lambda p: p.name.lower())
    return {
        "name": command.name,
        "description": command.description,
        "isasync": command.isasync,
        "since": command.since or None,
        "related": ",".join(command.related) or None,
        "params": [_param_entry(command, p, lists) for p in params],
        "response": [_response_entry(f) for f in _response_fields(command)],
    }


@api_command(
    "listApis",
    description="lists all available apis on the server, provided by the Api Discovery plugin",
    params=[Param("name", description="API name")],
    response="api",
    since="4.1.0",
    roles=ALL_ROLES,
)
def list_apis(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    assert ctx.caller is not None
    name = p.get("name")
    if name is not None:
        command = find_command(name)
        if command is None or not authentication.is_allowed(ctx.db, ctx.caller, command):
            raise param_error(UNKNOWN_API_TEXT)
        candidates = [command]
    else:
        candidates = [c for c in all_commands() if authentication.is_allowed(ctx.db, ctx.caller, c)]
    lists = list_commands_by_entity()
    items = [api_entry(c, lists) for c in candidates]
    return ListResponse("api", items, len(items))


@api_command(
    "listCapabilities",
    description="Lists capabilities",
    response="capability",
    roles=ALL_ROLES,
)
def list_capabilities(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    return {"capability": {
        "securitygroupsenabled": False,
        "dynamicrolesenabled": True,
        "cloudstackversion": CLOUDSTACK_VERSION,
        "userpublictemplateenabled": True,
        "supportELB": "false",
        "projectinviterequired": False,
        "allowusercreateprojects": False,
        "customdiskofferingminsize": 1,
        "customdiskofferingmaxsize": 1024,
        "regionsecondaryenabled": False,
        "kvmsnapshotenabled": False,
        "allowuserviewdestroyedvm": _setting_or(db, "allow.user.view.destroyed.vm", False),
        "allowuserexpungerecovervm": _setting_or(db, "allow.user.expunge.recover.vm", False),
        "allowuserexpungerecovervolume": _setting_or(db, "allow.user.expunge.recover.volume", True),
        "allowuserviewalldomainaccounts": _setting_or(db, "allow.user.view.all.domain.accounts", False),
        "kubernetesserviceenabled": False,
        "kubernetesclusterexperimentalfeaturesenabled": False,
        "defaultuipagesize": min(_setting_or(db, "default.ui.page.size", 20), get_setting(db, DEFAULT_PAGE_SIZE)),
        "instancesstatsretentiontime": 720,
        "instancesstatsuseronly": False,
        "instancesdisksstatsretentionenabled": False,
        "instancesdisksstatsretentiontime": 720,
    }}


def cloud_identifier(ctx: CallContext) -> str:
    """This installation's identifier, created (and kept in the configuration table) on first use."""
    current = get_setting(ctx.db, CLOUD_IDENTIFIER)
    if current:
        return str(current)
    created = str(uuid.uuid4())
    put_setting(ctx.db, CLOUD_IDENTIFIER.name, created)
    return created


@api_command(
    "getCloudIdentifier",
    description="Retrieves a cloud identifier.",
    params=[Param("userid", "uuid", required=True, description="the user ID for the cloud identifier")],
    response="cloudidentifier",
    roles=ALL_ROLES,
)
def get_cloud_identifier(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.caller
    assert caller is not None
    row = ctx.db.execute(
        select(User, Domain)
        .join(Account, User.account_id == Account.id)
        .join(Domain, Account.domain_id == Domain.id)
        .where(User.uuid == p["userid"], User.removed.is_(None))
    ).first()
    if row is None:
        raise not_found("user", p["userid"])
    user, domain = row
    if user.id != caller.user_id and not (
        caller.is_root_admin or (caller.is_domain_admin and caller.owns_domain_path(domain.path))
    ):
        raise permission_denied(f"Account {caller.account_name} does not have permission to access user "
                                f"{p['userid']}")
    identifier = cloud_identifier(ctx)
    signature = ""
    if user.secret_key_encrypted:
        try:
            secret = secret_store.for_data_dir(ctx.server.data_dir).decrypt(user.secret_key_encrypted)
        except SecretStoreError:
            secret = None
        if secret:
            digest = hmac.new(secret.encode(), identifier.encode(), hashlib.sha1).digest()
            signature = base64.b64encode(digest).decode()
    return {"cloudidentifier": {"cloudidentifier": identifier, "signature": signature, "userid": user.uuid}}

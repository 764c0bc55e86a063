"""Dynamic roles: listRoles, createRole, updateRole, deleteRole and their rules (createRolePermission,
listRolePermissions, updateRolePermission, deleteRolePermission).

A role's rules are checked in order, first match wins (`allow` or `deny`, a command name or a pattern with `*`);
when no rule matches, the command's default roles decide; the default Root Admin role may call everything.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from clusterstack.server import events
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import in_use, param_error, permission_denied
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import keyword_pattern
from clusterstack.server.api.registry import ADMIN, ALL_ROLES, PAGING_PARAMS, Param, api_command
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.identity import (
    ACCOUNT_TYPE_FOR_ROLE_TYPE,
    ROLE_TYPE_ADMIN,
    ROLE_TYPE_DOMAIN_ADMIN,
    ROLE_TYPE_USER,
    Account,
    Role,
    RolePermission,
)
from clusterstack.server.identity.rendering import render_role, render_role_permission

ROLE_TYPES = tuple(ACCOUNT_TYPE_FOR_ROLE_TYPE)
PERMISSIONS = ("allow", "deny")
RULE_PATTERN = re.compile(r"^[A-Za-z0-9_*]+$")


def _role_type(given: str) -> str:
    for role_type in ROLE_TYPES:
        if role_type.lower() == given.lower():
            return role_type
    raise param_error(f"Invalid role type {given}; valid types are {', '.join(ROLE_TYPES)}")


def _find_role(ctx: CallContext, uuid: str, param: str = "id") -> Role:
    role = ctx.db.scalar(select(Role).where(Role.uuid == uuid, Role.removed.is_(None)))
    if role is None:
        raise param_error(f"Unable to find role with specified {param}: {uuid}")
    return role


def _name_taken(ctx: CallContext, name: str, except_id: int | None = None) -> bool:
    query = select(Role.id).where(func.lower(Role.name) == name.lower(), Role.removed.is_(None))
    if except_id is not None:
        query = query.where(Role.id != except_id)
    return ctx.db.scalar(query.limit(1)) is not None


def _record(ctx: CallContext, event_type: str, text: str, role: Role) -> None:
    events.record_event(ctx.db, event_type, text, ctx.actor, resource_type="Role", resource_uuid=role.uuid,
                        resource_name=role.name)


def visible_role_types(ctx: CallContext) -> tuple[str, ...]:
    caller = ctx.user
    if caller.is_root_admin:
        return ROLE_TYPES
    if caller.is_domain_admin:
        return (ROLE_TYPE_DOMAIN_ADMIN, ROLE_TYPE_USER)
    return (ROLE_TYPE_USER,)


@api_command(
    "listRoles",
    description="Lists dynamic roles in CloudStack",
    params=[
        Param("id", "uuid", description="List role by role ID."),
        Param("name", description="List role by role name."),
        Param("type", description="List role by role type, valid options are: Admin, ResourceAdmin, DomainAdmin, "
              "User."),
        *PAGING_PARAMS,
    ],
    response="role",
    roles=ALL_ROLES,
    since="4.9.0",
)
def list_roles(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    query = select(Role).where(Role.removed.is_(None), Role.role_type.in_(visible_role_types(ctx)))
    if "id" in p:
        query = query.where(Role.uuid == p["id"])
    if "name" in p:
        query = query.where(func.lower(Role.name) == p["name"].lower())
    if "type" in p:
        query = query.where(Role.role_type == _role_type(p["type"]))
    if "keyword" in p:
        query = query.where(Role.name.like(keyword_pattern(p["keyword"]), escape="\\"))
    return paged_list(ctx.db, "role", query.order_by(Role.id), p, render_role)


@api_command(
    "createRole",
    description="Creates a role",
    params=[
        Param("name", required=True, description="Creates a role with this unique name"),
        Param("type", description="The type of the role, valid options are: Admin, ResourceAdmin, DomainAdmin, "
              "User"),
        Param("roleid", "uuid", description="ID of the role to be cloned from. Either roleid or type must be "
              "passed in"),
        Param("description", description="The description of the role"),
        Param("ispublic", "boolean", description="Indicates whether the role will be visible to all users "
              "(public) or only to root admins (private). If this parameter is not specified during the creation "
              "of the role its value will be defaulted to true (public)."),
    ],
    response="role",
    roles=ADMIN,
    since="4.9.0",
)
def create_role(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    if ("type" in p) == ("roleid" in p):
        raise param_error("Either of the parameters roleid or type must be passed in, but not both")
    name = p["name"].strip()
    if not name:
        raise param_error("Empty role name provided")
    if _name_taken(ctx, name):
        raise param_error(f"Role with name {name} already exists")
    source = _find_role(ctx, p["roleid"], "roleid") if "roleid" in p else None
    role_type = source.role_type if source is not None else _role_type(p["type"])
    role = Role(name=name, role_type=role_type, description=p.get("description", ""), is_default=False)
    ctx.db.add(role)
    ctx.db.flush()
    if source is not None:
        for rule in source.rules:
            if rule.removed is None:
                ctx.db.add(RolePermission(role_id=role.id, rule=rule.rule, permission=rule.permission,
                                          description=rule.description, sort_order=rule.sort_order))
    _record(ctx, "ROLE.CREATE", f"Created role {name} of type {role_type}", role)
    return {"role": render_role(role)}


def _changeable(role: Role, action: str) -> None:
    if role.is_default:
        raise permission_denied(f"Default roles cannot be {action}")


@api_command(
    "updateRole",
    description="Updates a role",
    params=[
        Param("id", "uuid", required=True, description="ID of the role"),
        Param("name", description="creates a role with this unique name"),
        Param("type", description="The type of the role, valid options are: Admin, ResourceAdmin, DomainAdmin, "
              "User"),
        Param("description", description="The description of the role"),
        Param("ispublic", "boolean", description="Indicates whether the role will be visible to all users "
              "(public) or only to root admins (private)."),
    ],
    response="role",
    roles=ADMIN,
    since="4.9.0",
)
def update_role(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    role = _find_role(ctx, p["id"])
    _changeable(role, "updated")
    if "name" in p:
        name = p["name"].strip()
        if not name:
            raise param_error("Empty role name provided")
        if _name_taken(ctx, name, except_id=role.id):
            raise param_error(f"Role with name {name} already exists")
        role.name = name
    if "type" in p:
        role_type = _role_type(p["type"])
        if role_type != role.role_type:
            used = ctx.db.scalar(select(Account.id).where(Account.role_id == role.id, Account.removed.is_(None))
                                 .limit(1))
            if used is not None:
                raise in_use("The role type of a role used by accounts can't be changed")
            role.role_type = role_type
    if "description" in p:
        role.description = p["description"]
    _record(ctx, "ROLE.UPDATE", f"Updated role {role.name}", role)
    return {"role": render_role(role)}


@api_command(
    "deleteRole",
    description="Deletes a role",
    params=[Param("id", "uuid", required=True, description="ID of the role")],
    response="success",
    roles=ADMIN,
    since="4.9.0",
)
def delete_role(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    role = _find_role(ctx, p["id"])
    _changeable(role, "deleted")
    used = ctx.db.scalar(select(func.count()).select_from(Account)
                         .where(Account.role_id == role.id, Account.removed.is_(None)))
    if used:
        raise in_use(f"Role {role.name} is in use by {used} account(s) and can't be deleted")
    for rule in list(role.rules):
        ctx.db.delete(rule)
    role.removed = utcnow()
    role.name = f"{role.name}-removed-{role.uuid}"  # the unique name is free again
    _record(ctx, "ROLE.DELETE", f"Deleted role {role.uuid}", role)
    return {"success": True}


def _rule_role(ctx: CallContext, uuid: str) -> Role:
    role = _find_role(ctx, uuid, "roleid")
    if role.is_default and role.role_type == ROLE_TYPE_ADMIN:
        raise permission_denied("The default Root Admin role may call every command; its rules can't be changed")
    return role


@api_command(
    "createRolePermission",
    description="Adds an API permission to a role",
    params=[
        Param("roleid", "uuid", required=True, description="ID of the role"),
        Param("rule", required=True, description="The API name or wildcard rule such as list*"),
        Param("permission", required=True, description="The rule permission, allow or deny. Default: deny.",
              choices=PERMISSIONS),
        Param("description", description="The description of the role permission"),
    ],
    response="rolepermission",
    roles=ADMIN,
    since="4.9.0",
)
def create_role_permission(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    role = _rule_role(ctx, p["roleid"])
    rule = p["rule"].strip()
    if not RULE_PATTERN.match(rule):
        raise param_error(f"Only API names and wildcards are allowed, invalid rule provided: {rule}")
    exists = ctx.db.scalar(select(RolePermission.id).where(RolePermission.role_id == role.id,
                                                          RolePermission.rule == rule))
    if exists is not None:
        raise param_error(f"Rule {rule} already exists for role {role.name}")
    last = ctx.db.scalar(select(func.max(RolePermission.sort_order)).where(RolePermission.role_id == role.id))
    permission = RolePermission(role_id=role.id, rule=rule, permission=p["permission"].lower(),
                                description=p.get("description", ""), sort_order=(last or 0) + 1)
    ctx.db.add(permission)
    ctx.db.flush()
    _record(ctx, "ROLE.PERMISSION.CREATE", f"Added rule {rule} ({permission.permission}) to role {role.name}", role)
    return {"rolepermission": render_role_permission(role, permission)}


@api_command(
    "listRolePermissions",
    description="Lists role permissions",
    params=[Param("roleid", "uuid", description="ID of the role")],
    response="rolepermission",
    roles=ADMIN,
    since="4.9.0",
)
def list_role_permissions(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    query = select(RolePermission, Role).join(Role, RolePermission.role_id == Role.id).where(Role.removed.is_(None))
    if "roleid" in p:
        role = _find_role(ctx, p["roleid"], "roleid")
        query = query.where(Role.id == role.id)
    rows = ctx.db.execute(query.order_by(Role.id, RolePermission.sort_order, RolePermission.id)).all()
    items = [render_role_permission(role, permission) for permission, role in rows]
    return ListResponse("rolepermission", items, len(items))


@api_command(
    "updateRolePermission",
    description="Updates a role permission order",
    params=[
        Param("roleid", "uuid", required=True, description="ID of the role"),
        Param("ruleorder", "list", collection_type="uuid", description="The parent role permission uuid, use 0 to "
              "move this rule at the top of the list"),
        Param("ruleid", "uuid", description="Role permission rule id"),
        Param("permission", description="Rule permission, can be: allow or deny", choices=PERMISSIONS),
    ],
    response="success",
    roles=ADMIN,
    since="4.9.0",
)
def update_role_permission(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    role = _rule_role(ctx, p["roleid"])
    rules = {r.uuid: r for r in ctx.db.scalars(select(RolePermission).where(RolePermission.role_id == role.id))}
    if "ruleorder" in p:
        if "ruleid" in p or "permission" in p:
            raise param_error("Parameters permission and ruleid must be mutually exclusive with ruleorder")
        order: list[str] = p["ruleorder"]
        if sorted(order) != sorted(rules):
            raise param_error("Provided rule order is inconsistent with the rules of the role; list every rule "
                              "of the role exactly once")
        for position, uuid in enumerate(order):
            rules[uuid].sort_order = position
        text = f"Reordered the rules of role {role.name}"
    else:
        if "ruleid" not in p or "permission" not in p:
            raise param_error("Either the ruleorder, or both ruleid and permission must be provided")
        rule = rules.get(p["ruleid"])
        if rule is None:
            raise param_error(f"Unable to find role permission with specified ruleid: {p['ruleid']}")
        rule.permission = p["permission"].lower()
        text = f"Changed rule {rule.rule} of role {role.name} to {rule.permission}"
    _record(ctx, "ROLE.PERMISSION.UPDATE", text, role)
    return {"success": True}


@api_command(
    "deleteRolePermission",
    description="Deletes a role permission",
    params=[Param("id", "uuid", required=True, description="ID of the role permission")],
    response="success",
    roles=ADMIN,
    since="4.9.0",
)
def delete_role_permission(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    permission = ctx.db.scalar(select(RolePermission).where(RolePermission.uuid == p["id"]))
    if permission is None:
        raise param_error(f"Unable to find role permission with specified id: {p['id']}")
    role = _rule_role(ctx, ctx.db.get(Role, permission.role_id).uuid)  # type: ignore[union-attr]
    ctx.db.delete(permission)
    _record(ctx, "ROLE.PERMISSION.DELETE", f"Removed rule {permission.rule} from role {role.name}", role)
    return {"success": True}

"""How domains, accounts, users and roles look on the API (CloudStack's response objects).

Nothing secret is rendered here: password hashes never, the secret key never (only getUserKeys and
registerUserKeys answer it, to the owner or an admin). The api key is shown to whoever may see the user.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from clusterstack.server.api.registry import define_entity
from clusterstack.server.db.models.identity import Account, Domain, Role, RolePermission, User

DOMAIN_FIELDS = define_entity("domain", [
    ("id", "string", "the ID of the domain"),
    ("name", "string", "the name of the domain"),
    ("level", "integer", "the level of the domain"),
    ("parentdomainid", "string", "the domain ID of the parent domain"),
    ("parentdomainname", "string", "the domain name of the parent domain"),
    ("haschild", "boolean", "whether the domain has one or more sub-domains"),
    ("networkdomain", "string", "the network domain"),
    ("path", "string", "the path of the domain"),
    ("state", "string", "the state of the domain"),
    ("created", "date", "the date when this domain was created"),
])

USER_FIELDS = define_entity("user", [
    ("id", "string", "the user ID"),
    ("username", "string", "the user name"),
    ("firstname", "string", "the user firstname"),
    ("lastname", "string", "the user lastname"),
    ("email", "string", "the user email address"),
    ("created", "date", "the date and time the user account was created"),
    ("state", "string", "the user state"),
    ("account", "string", "the account name of the user"),
    ("accountid", "string", "the account ID of the user"),
    ("accounttype", "integer", "the account type of the user"),
    ("roleid", "string", "the ID of the role"),
    ("roletype", "string", "the type of the role"),
    ("rolename", "string", "the name of the role"),
    ("domainid", "string", "the domain ID of the user"),
    ("domain", "string", "the domain name of the user"),
    ("timezone", "string", "the timezone user was created in"),
    ("apikey", "string", "the api key of the user"),
    ("isdefault", "boolean", "true if user is default, false otherwise"),
    ("iscallerchilddomain", "boolean", "the boolean value representing if the updating target is in caller's "
     "child domain"),
    ("usersource", "string", "the source type of the user in lowercase, such as native, ldap, saml2"),
])

ACCOUNT_FIELDS = define_entity("account", [
    ("id", "string", "the id of the account"),
    ("name", "string", "the name of the account"),
    ("accounttype", "integer", "account type (admin, domain-admin, user)"),
    ("roleid", "string", "the ID of the role"),
    ("roletype", "string", "the type of the role (Admin, ResourceAdmin, DomainAdmin, User)"),
    ("rolename", "string", "the name of the role"),
    ("domainid", "string", "id of the Domain the account belongs to"),
    ("domain", "string", "name of the Domain the account belongs to"),
    ("domainpath", "string", "path of the Domain the account belongs to"),
    ("networkdomain", "string", "the network domain"),
    ("state", "string", "the state of the account"),
    ("created", "date", "the date when this account was created"),
    ("isdefault", "boolean", "true if account is default, false otherwise"),
    ("user", "list", "the list of users associated with account"),
])

ROLE_FIELDS = define_entity("role", [
    ("id", "string", "the ID of the role"),
    ("name", "string", "the name of the role"),
    ("type", "string", "the type of the role"),
    ("description", "string", "the description of the role"),
    ("isdefault", "boolean", "true if role is default, false otherwise"),
])

ROLE_PERMISSION_FIELDS = define_entity("rolepermission", [
    ("id", "string", "the ID of the role permission"),
    ("roleid", "string", "the ID of the role to which the role permission belongs"),
    ("rolename", "string", "the name of the role to which the role permission belongs"),
    ("rule", "string", "the api name or wildcard rule"),
    ("permission", "string", "the permission type of the api name or wildcard rule, allow/deny"),
    ("description", "string", "the description of the role permission"),
])


def display_path(domain: Domain) -> str:
    """CloudStack shows domain paths from ROOT: "ROOT", "ROOT/Child", "ROOT/Child/Grandchild"."""
    return "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT"


def render_domain(db: Session, domain: Domain) -> dict[str, Any]:
    parent = db.get(Domain, domain.parent_id) if domain.parent_id is not None else None
    has_child = db.scalar(
        select(exists().where(Domain.parent_id == domain.id, Domain.removed.is_(None)))
    )
    return {
        "id": domain.uuid,
        "name": domain.name,
        "level": domain.level,
        "parentdomainid": parent.uuid if parent else None,
        "parentdomainname": parent.name if parent else None,
        "haschild": bool(has_child),
        "networkdomain": domain.network_domain,
        "path": display_path(domain),
        "state": domain.state,
        "created": domain.created,
    }


def render_user(db: Session, user: User, caller_domain_path: str | None = None) -> dict[str, Any]:
    account = db.get(Account, user.account_id)
    assert account is not None
    domain = db.get(Domain, account.domain_id)
    role = db.get(Role, account.role_id)
    assert domain is not None and role is not None
    answer: dict[str, Any] = {
        "id": user.uuid,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "email": user.email,
        "created": user.created,
        "state": user.state,
        "account": account.name,
        "accountid": account.uuid,
        "accounttype": account.type,
        "roleid": role.uuid,
        "roletype": role.role_type,
        "rolename": role.name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "timezone": user.timezone,
        "apikey": user.api_key,
        "isdefault": user.is_default,
        "usersource": "native",
    }
    if caller_domain_path is not None:
        answer["iscallerchilddomain"] = domain.path.startswith(caller_domain_path) and domain.path != caller_domain_path
    return answer


def render_account(db: Session, account: Account, *, with_users: bool = True) -> dict[str, Any]:
    domain = db.get(Domain, account.domain_id)
    role = db.get(Role, account.role_id)
    assert domain is not None and role is not None
    answer: dict[str, Any] = {
        "id": account.uuid,
        "name": account.name,
        "accounttype": account.type,
        "roleid": role.uuid,
        "roletype": role.role_type,
        "rolename": role.name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": display_path(domain),
        "networkdomain": account.network_domain,
        "state": account.state,
        "created": account.created,
        "isdefault": account.id == 1,
    }
    if with_users:
        users = db.scalars(
            select(User).where(User.account_id == account.id, User.removed.is_(None)).order_by(User.id)
        )
        answer["user"] = [render_user(db, u) for u in users]
    return answer


def render_role(role: Role) -> dict[str, Any]:
    return {
        "id": role.uuid,
        "name": role.name,
        "type": role.role_type,
        "description": role.description,
        "isdefault": role.is_default,
    }


def render_role_permission(role: Role, permission: RolePermission) -> dict[str, Any]:
    return {
        "id": permission.uuid,
        "roleid": role.uuid,
        "rolename": role.name,
        "rule": permission.rule,
        "permission": permission.permission,
        "description": permission.description,
    }

"""Domains, accounts, users, roles and role rules (CloudStack's dynamic roles)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clusterstack.server.db.base import Base, Entity, UtcDateTime

# CloudStack's Account.Type numbers
ACCOUNT_TYPE_USER = 0
ACCOUNT_TYPE_ADMIN = 1
ACCOUNT_TYPE_DOMAIN_ADMIN = 2

# CloudStack's RoleType names, and the account type each one goes with
ROLE_TYPE_ADMIN = "Admin"
ROLE_TYPE_DOMAIN_ADMIN = "DomainAdmin"
ROLE_TYPE_USER = "User"
ACCOUNT_TYPE_FOR_ROLE_TYPE = {
    ROLE_TYPE_ADMIN: ACCOUNT_TYPE_ADMIN,
    ROLE_TYPE_DOMAIN_ADMIN: ACCOUNT_TYPE_DOMAIN_ADMIN,
    ROLE_TYPE_USER: ACCOUNT_TYPE_USER,
}


class Domain(Entity, Base):
    __tablename__ = "domain"

    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("domain.id"), nullable=True, index=True)
    # "/" for ROOT, "/Child/", "/Child/Grandchild/": a subtree is every path with this prefix
    path: Mapped[str] = mapped_column(String(767), index=True)
    level: Mapped[int] = mapped_column(Integer, default=0)
    network_domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="Active")


class Role(Entity, Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    role_type: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    rules: Mapped[list[RolePermission]] = relationship(
        back_populates="role", order_by="RolePermission.sort_order", cascade="all, delete-orphan"
    )


class RolePermission(Entity, Base):
    """One rule of a role: a command name or wildcard pattern, allowed or denied; first match wins."""

    __tablename__ = "role_permissions"
    __table_args__ = (UniqueConstraint("role_id", "rule", name="uq_role_rule"),)

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(255))
    permission: Mapped[str] = mapped_column(String(8))  # allow | deny
    description: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[Role] = relationship(back_populates="rules")


class Account(Entity, Base):
    __tablename__ = "account"

    name: Mapped[str] = mapped_column(String(255), index=True)
    type: Mapped[int] = mapped_column(Integer, default=ACCOUNT_TYPE_USER)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    state: Mapped[str] = mapped_column(String(16), default="enabled")  # enabled, disabled, locked, removed
    network_domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # CloudStack's account.needs_cleanup: a removed account whose resources are not all released yet; a retry of
    # deleteAccount (or of deleteDomain cleanup=true) finishes the cleanup
    needs_cleanup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class User(Entity, Base):
    __tablename__ = "user"

    username: Mapped[str] = mapped_column(String(255), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    firstname: Mapped[str] = mapped_column(String(255), default="")
    lastname: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="enabled")  # enabled, disabled, locked
    api_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    secret_key_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    login_attempts: Mapped[int] = mapped_column(Integer, default=0)
    password_changed: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    is_default: Mapped[bool] = mapped_column(default=False)

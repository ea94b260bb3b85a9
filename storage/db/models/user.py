"""Users of tagen (requestors, approvers, knowledge managers, admins) and their role grants."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import Base, TimestampMixin, UUIDPrimaryKeyMixin, owned_rows

if TYPE_CHECKING:
    from storage.db.models.audit_log import AuditLog
    from storage.db.models.request import Request
    from storage.db.models.role import Role


class User(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """A person known to tagen, local or from an external identity provider.

    `hashed_password` (local accounts only) is an argon2 hash from storage.passwords, never the
    password. Additions: `(auth_provider, external_id)` is unique, so one identity maps to one
    user; usernames are unique regardless of case (`ann` and `ANN` are one person).
    `requests` and `audit_logs` are read-only views: a user with history is deactivated, never
    deleted (the foreign keys refuse it).
    """

    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_email_auth_provider", "email", "auth_provider"),
        Index("uq_users_username_lower", text("lower(username)"), unique=True),
        UniqueConstraint("auth_provider", "external_id", name="uq_users_auth_provider_external_id"),
    )

    username: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    hashed_password: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    auth_provider: Mapped[str] = mapped_column(
        String(50), default="local", server_default=text("'local'")
    )
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    last_login: Mapped[datetime | None]

    roles: Mapped[list[Role]] = relationship(
        secondary="user_roles",
        primaryjoin="User.id == UserRole.user_id",
        secondaryjoin="Role.id == UserRole.role_id",
        lazy="raise",
        viewonly=True,
        order_by="Role.name",
    )
    role_grants: Mapped[list[UserRole]] = owned_rows(
        back_populates="user", foreign_keys="UserRole.user_id"
    )
    requests: Mapped[list[Request]] = relationship(
        primaryjoin="User.id == Request.created_by",
        lazy="raise",
        viewonly=True,
        order_by="Request.created_at",
    )
    audit_logs: Mapped[list[AuditLog]] = relationship(
        primaryjoin="User.id == AuditLog.user_id",
        lazy="raise",
        viewonly=True,
        order_by="AuditLog.timestamp",
    )

    def __repr__(self) -> str:  # never shows hashed_password
        return f"User(username={self.username!r})"


class UserRole(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """A role granted to a user: who granted it and when. One grant per (user, role)."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), index=True
    )
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    assigned_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user: Mapped[User] = relationship(
        foreign_keys=[user_id], back_populates="role_grants", lazy="raise"
    )
    role: Mapped[Role] = relationship(lazy="joined")

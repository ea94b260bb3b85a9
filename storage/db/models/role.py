"""Roles: the four seed roles with their descriptions and permission lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import Base, TimestampMixin, UUIDPrimaryKeyMixin, pg_enum
from storage.db.enums import UserRoleEnum

if TYPE_CHECKING:
    from storage.db.models.user import User


class Role(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """`users` is a read-only view; grants are written through RoleRepository."""

    __tablename__ = "roles"

    name: Mapped[UserRoleEnum] = mapped_column(pg_enum(UserRoleEnum, "user_role"), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    permissions: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))

    users: Mapped[list[User]] = relationship(
        secondary="user_roles",
        primaryjoin="Role.id == UserRole.role_id",
        secondaryjoin="User.id == UserRole.user_id",
        lazy="raise",
        viewonly=True,
        order_by="User.username",
    )

    def __repr__(self) -> str:
        return f"Role(name={self.name!s})"

"""Roles: the four seed roles with their descriptions and permission lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db.base import Base, TimestampMixin, UUIDPrimaryKeyMixin, pg_enum
from storage.db.enums import UserRoleEnum


class Role(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    __tablename__ = "roles"

    name: Mapped[UserRoleEnum] = mapped_column(pg_enum(UserRoleEnum, "user_role"), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    permissions: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))

    def __repr__(self) -> str:
        return f"Role(name={self.name!s})"

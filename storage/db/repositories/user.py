"""Users: lookups by name, email and external identity, search, role membership."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from storage.db.enums import UserRoleEnum
from storage.db.models import Role, User, UserRole
from storage.db.passwords import verify_password
from storage.db.repositories.base import BaseRepository, to_enum


def like_pattern(q: str) -> str:
    """An ILIKE pattern matching `q` literally anywhere."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class UserRepository(BaseRepository[User]):
    model = User

    async def get_by_username(self, username: str) -> User | None:
        return await self.session.scalar(select(User).where(User.username == username))

    async def create_unless_exists(self, data: dict[str, Any]) -> tuple[User, bool]:
        """Insert unless `data["username"]` is taken: (user, created); safe under concurrency."""
        return await self._create_unless_exists(data, unique="username")

    async def get_by_email(self, email: str) -> User | None:
        """Case-insensitive: mail addresses are compared as people type them."""
        stmt = select(User).where(func.lower(User.email) == email.strip().lower())
        return await self.session.scalar(stmt)

    async def get_by_external_id(self, external_id: str, provider: str) -> User | None:
        stmt = select(User).where(User.external_id == external_id, User.auth_provider == provider)
        return await self.session.scalar(stmt)

    async def get_with_roles(self, user_id: uuid.UUID) -> User | None:
        stmt = select(User).where(User.id == user_id).options(selectinload(User.roles))
        return await self.session.scalar(stmt)

    async def search_users(self, q: str, skip: int = 0, limit: int = 50) -> list[User]:
        pattern = like_pattern(q)
        stmt = (
            select(User)
            .where(
                or_(
                    User.username.ilike(pattern),
                    User.email.ilike(pattern),
                    User.full_name.ilike(pattern),
                )
            )
            .order_by(User.username)
            .offset(skip)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def get_users_by_role(self, role: UserRoleEnum | str) -> list[User]:
        name = to_enum(UserRoleEnum, role, "role")
        stmt = (
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .join(Role, Role.id == UserRole.role_id)
            .where(Role.name == name)
            .order_by(User.username)
        )
        return list((await self.session.scalars(stmt)).all())

    async def get_role_names(self, user_id: uuid.UUID) -> set[UserRoleEnum]:
        stmt = (
            select(Role.name)
            .join(UserRole, UserRole.role_id == Role.id)
            .where(UserRole.user_id == user_id)
        )
        return set((await self.session.scalars(stmt)).all())

    async def update_last_login(self, user_id: uuid.UUID) -> User:
        user = await self.get(user_id)
        user.last_login = func.clock_timestamp()
        async with self._write():
            await self.session.flush()
        await self.session.refresh(user)
        return user

    async def authenticate(self, username: str, password: str) -> User | None:
        """The active user `username` when `password` matches their hash, else None (unknown
        user, inactive, no password set, or a mismatch all look the same to the caller)."""
        user = await self.get_by_username(username)
        hashed = user.hashed_password if user is not None and user.is_active else None
        if not verify_password(hashed, password):
            return None
        return user

"""Roles and role grants; the default roles are created idempotently in the database."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from storage.db.enums import UserRoleEnum
from storage.db.errors import NotFoundError
from storage.db.models import Role, User, UserRole
from storage.db.repositories.base import BaseRepository, to_enum

DEFAULT_ROLES: dict[UserRoleEnum, tuple[str, list[str]]] = {
    UserRoleEnum.REQUESTOR: (
        "Submits TA requests with log samples and downloads the resulting add-on.",
        ["request:create", "request:read:own", "sample:upload", "ta:download:own"],
    ),
    UserRoleEnum.APPROVER: (
        "Approves or rejects requests at the approval gate (never their own).",
        ["request:read", "request:approve", "request:reject", "ta:download"],
    ),
    UserRoleEnum.ADMIN: (
        "Manages users, roles, runtime configuration and retention; may approve.",
        [
            "request:read",
            "request:approve",
            "request:reject",
            "ta:download",
            "user:manage",
            "role:manage",
            "config:manage",
            "retention:manage",
            "audit:read",
        ],
    ),
    UserRoleEnum.KNOWLEDGE_MANAGER: (
        "Adds and curates the knowledge documents that generation retrieves from.",
        ["knowledge:create", "knowledge:update", "knowledge:delete", "knowledge:read"],
    ),
}


class RoleRepository(BaseRepository[Role]):
    model = Role

    async def get_by_name(self, name: UserRoleEnum | str) -> Role | None:
        role = to_enum(UserRoleEnum, name, "role")
        return await self.session.scalar(select(Role).where(Role.name == role))

    async def assign_role_to_user(
        self, user_id: uuid.UUID, role_id: uuid.UUID, assigned_by: uuid.UUID | None = None
    ) -> UserRole:
        """Grant a role; granting it again keeps the first grant (idempotent)."""
        for model, key in ((User, user_id), (Role, role_id)):
            if await self.session.get(model, key) is None:
                raise NotFoundError(model.__name__, key)
        if assigned_by is not None and await self.session.get(User, assigned_by) is None:
            raise NotFoundError("User", assigned_by)
        stmt = (
            insert(UserRole)
            .values(user_id=user_id, role_id=role_id, assigned_by=assigned_by)
            .on_conflict_do_nothing(index_elements=[UserRole.user_id, UserRole.role_id])
        )
        async with self._write():
            await self.session.execute(stmt)
        grant = await self.session.scalar(
            select(UserRole)
            .where(UserRole.user_id == user_id, UserRole.role_id == role_id)
            .execution_options(populate_existing=True)
        )
        assert grant is not None  # inserted above or already present
        return grant

    async def remove_role_from_user(self, user_id: uuid.UUID, role_id: uuid.UUID) -> bool:
        """Revoke a role; False when the user did not hold it."""
        stmt = (
            delete(UserRole)
            .where(UserRole.user_id == user_id, UserRole.role_id == role_id)
            .returning(UserRole.id)
        )
        async with self._write():
            removed = (await self.session.execute(stmt)).scalar_one_or_none()
        return removed is not None

    async def ensure_default_roles(self) -> list[Role]:
        """Create the four seed roles if missing (existing ones are left as they are)."""
        rows = [
            {"name": name, "description": description, "permissions": permissions}
            for name, (description, permissions) in DEFAULT_ROLES.items()
        ]
        stmt = insert(Role).values(rows).on_conflict_do_nothing(index_elements=[Role.name])
        async with self._write():
            await self.session.execute(stmt)
        result = await self.session.scalars(select(Role).order_by(Role.name))
        return list(result.all())

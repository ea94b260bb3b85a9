"""Users for the demo and the CLI: ensure a user exists with the given roles (idempotent)."""

from __future__ import annotations

from storage.db.enums import AuditAction, UserRoleEnum
from storage.db.unit_of_work import UnitOfWork
from tasks.runtime import audit


async def ensure_user(
    username: str, *, roles: tuple[UserRoleEnum, ...], email: str | None = None
) -> str:
    """The id of `username`, created (audited) with `roles` when missing; roles are granted."""
    async with UnitOfWork() as uow:
        user, created = await uow.users.create_unless_exists(
            {"username": username, "email": email or f"{username}@example.com"}
        )
        if created:
            await audit(
                uow,
                action=AuditAction.CREATE,
                entity_type="User",
                entity_id=user.id,
                details={"username": username, "roles": [str(r) for r in roles]},
            )
        await uow.roles.ensure_default_roles()
        for name in roles:
            role = await uow.roles.get_by_name(name)
            assert role is not None  # ensured above
            await uow.roles.assign_role_to_user(user.id, role.id)
        await uow.commit()
        return str(user.id)

"""Users: the one way they are created (the CLI's `users create`, the demo, the tests), audited.

Passwords arrive hashed (storage.db.passwords): the hash is stored and only whether there is one
is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db.enums import AuditAction, AuditEntity, UserRoleEnum
from storage.db.errors import InvalidValueError, NotFoundError
from storage.db.models import User
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import unit_of_work
from tasks.runtime import audit


@dataclass(frozen=True)
class NewUser:
    username: str
    email: str | None = None
    """None: `<username>@example.com` (demo and test users)."""
    roles: tuple[UserRoleEnum, ...] = ()
    full_name: str | None = None
    is_superuser: bool = False
    hashed_password: str | None = None


@dataclass(frozen=True)
class UserCreated:
    user_id: str
    username: str
    created: bool
    """False: the user already existed (`exist_ok`); the roles were granted all the same."""


async def create_user(new: NewUser, *, exist_ok: bool = False, via: str) -> UserCreated:
    """Create `new` with its roles (the default roles first, if missing), audited; an existing
    username is a DuplicateError unless `exist_ok`, which grants the roles to that user."""
    username = new.username.strip()
    email = (new.email or f"{username}@example.com").strip()
    if not username or "@" not in email:
        raise InvalidValueError("the username must not be empty and the e-mail must contain '@'")
    data = {
        "username": username,
        "email": email,
        "full_name": new.full_name,
        "is_superuser": new.is_superuser,
        "hashed_password": new.hashed_password,
    }
    async with unit_of_work() as uow:
        await uow.roles.ensure_default_roles()
        if exist_ok:
            user, created = await uow.users.create_unless_exists(data)
        else:
            user, created = await uow.users.create(data), True
        if created:
            await audit(
                uow,
                action=AuditAction.CREATE,
                entity=AuditEntity.USER,
                entity_id=user.id,
                details={
                    "username": username,
                    "roles": [str(role) for role in new.roles],
                    "local_password": new.hashed_password is not None,
                    "via": via,
                },
            )
        await _grant(uow, user, new.roles)
        await uow.commit()
        return UserCreated(str(user.id), user.username, created)


async def ensure_user(
    username: str, *, roles: tuple[UserRoleEnum, ...], email: str | None = None
) -> str:
    """The id of `username`, created with `roles` when missing; the roles are granted."""
    made = await create_user(NewUser(username, email, roles), exist_ok=True, via="seed")
    return made.user_id


async def set_password(username: str, hashed_password: str, *, via: str) -> None:
    """Give `username` a (new) local password, audited without it: an approver needs one to
    decide requests."""
    async with unit_of_work() as uow:
        user = await uow.users.get_by_username(username)
        if user is None:
            raise NotFoundError("User", username, field="username")
        await uow.users.update(user.id, {"hashed_password": hashed_password})
        await audit(
            uow,
            action=AuditAction.UPDATE,
            entity=AuditEntity.USER,
            entity_id=user.id,
            user_id=user.id,
            details={"username": user.username, "local_password": True, "via": via},
        )
        await uow.commit()


async def _grant(uow: UnitOfWork, user: User, roles: tuple[UserRoleEnum, ...]) -> None:
    for name in roles:
        role = await uow.roles.get_by_name(name)
        assert role is not None  # ensure_default_roles ran first
        await uow.roles.assign_role_to_user(user.id, role.id)

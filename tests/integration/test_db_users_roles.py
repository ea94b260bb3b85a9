"""UserRepository and RoleRepository against real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db.enums import UserRoleEnum
from storage.db.errors import DuplicateError, InvalidValueError, NotFoundError
from storage.db.repositories import DEFAULT_ROLES
from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import Builder, unique


async def test_lookups_by_username_email_and_external_identity(uow: UnitOfWork, build: Builder):
    name, external = unique("jdoe"), unique("00u")
    user = await build.user(
        username=name,
        email=f"{name.upper()}@Example.org",
        auth_provider="okta",
        external_id=external,
    )
    assert (await uow.users.get_by_username(name)).id == user.id
    assert await uow.users.get_by_username(name.upper()) is None
    assert (await uow.users.get_by_email(f"{name}@example.org")).id == user.id
    assert (await uow.users.get_by_external_id(external, "okta")).id == user.id
    assert await uow.users.get_by_external_id(external, "azuread") is None
    assert user.auth_provider == "okta" and user.is_active and not user.is_superuser


async def test_defaults_come_from_the_database(uow: UnitOfWork, build: Builder):
    user = await build.user()
    assert user.auth_provider == "local"
    assert user.created_at is not None and user.updated_at is not None
    assert isinstance(user.id, uuid.UUID)


async def test_duplicate_username_and_email_are_domain_errors(uow: UnitOfWork, build: Builder):
    dup, other = unique("dup"), unique("other")
    await build.user(username=dup, email=f"{dup}@example.org")
    with pytest.raises(DuplicateError, match=rf"username.*{dup}"):
        await uow.users.create({"username": dup, "email": f"{other}@example.org"})
    with pytest.raises(DuplicateError, match=r"email"):
        await uow.users.create({"username": other, "email": f"{dup}@example.org"})
    # the transaction is still usable after a refused row, nothing half-written
    assert await uow.users.count({"username": other}) == 0
    await build.user(username=unique("after"))


async def test_usernames_differing_only_in_case_are_one_user(uow: UnitOfWork, build: Builder):
    ann = unique("ann")
    await build.user(username=ann)
    for variant in (ann.upper(), ann.capitalize()):
        with pytest.raises(DuplicateError, match=rf"\(lower\(username::text\)\)=\({ann}\)"):
            await uow.users.create({"username": variant, "email": f"{variant}@example.org"})
        with pytest.raises(DuplicateError):  # ensure_user's idempotent create refuses it too
            await uow.users.create_unless_exists(
                {"username": variant, "email": f"{variant}@example.org"}
            )
        assert await uow.users.count({"username": variant}) == 0  # nothing half-written
    assert (await uow.users.get_by_username(ann)) is not None


async def test_same_external_identity_twice_is_refused(uow: UnitOfWork, build: Builder):
    external = unique("x")
    await build.user(auth_provider="okta", external_id=external)
    with pytest.raises(DuplicateError, match="external_id"):
        await build.user(auth_provider="okta", external_id=external)


async def test_search_escapes_wildcards_and_pages(uow: UnitOfWork, build: Builder):
    token = unique("alice").replace("-", "")  # letters and digits only
    await build.user(username=f"{token}_ops", full_name="Alice Ops")
    await build.user(username=f"{token}Xops", full_name="Not Matching Underscore")
    bob = unique("bob")
    await build.user(username=bob, full_name=f"Bob {token.upper()}-Smith")
    found = await uow.users.search_users(f"{token}_", 0, 10)
    assert [u.username for u in found] == [f"{token}_ops"]
    by_name = await uow.users.search_users(token.upper(), 0, 10)
    assert {u.username for u in by_name} == {f"{token}_ops", f"{token}Xops", bob}
    second = sorted([f"{token}_ops", f"{token}Xops", bob])[1]  # ordered by username
    assert [u.username for u in await uow.users.search_users(token, 1, 1)] == [second]


async def test_update_last_login_uses_the_database_clock(uow: UnitOfWork, build: Builder):
    user = await build.user()
    assert user.last_login is None
    updated = await uow.users.update_last_login(user.id)
    assert updated.last_login is not None
    with pytest.raises(NotFoundError, match="User"):
        await uow.users.update_last_login(uuid.uuid4())


async def test_ensure_default_roles_is_idempotent(uow: UnitOfWork):
    first = await uow.roles.ensure_default_roles()
    second = await uow.roles.ensure_default_roles()
    assert [r.id for r in first] == [r.id for r in second]
    assert {r.name for r in first} == set(UserRoleEnum)
    approver = await uow.roles.get_by_name(UserRoleEnum.APPROVER)
    assert approver is not None
    assert approver.description == DEFAULT_ROLES[UserRoleEnum.APPROVER][0]
    assert "request:approve" in approver.permissions


async def test_get_by_name_rejects_unknown_role(uow: UnitOfWork):
    with pytest.raises(InvalidValueError, match="'SUPERHERO' is not one of REQUESTOR"):
        await uow.roles.get_by_name("SUPERHERO")


async def test_assign_and_remove_roles(uow: UnitOfWork, build: Builder):
    await uow.roles.ensure_default_roles()
    admin = await build.user(UserRoleEnum.ADMIN)
    user = await build.user()
    approver_role = await uow.roles.get_by_name("APPROVER")
    grant = await uow.roles.assign_role_to_user(user.id, approver_role.id, assigned_by=admin.id)
    assert grant.assigned_by == admin.id and grant.assigned_at is not None
    again = await uow.roles.assign_role_to_user(user.id, approver_role.id)
    assert again.id == grant.id and again.assigned_by == admin.id  # first grant kept

    with_roles = await uow.users.get_with_roles(user.id)
    assert [r.name for r in with_roles.roles] == [UserRoleEnum.APPROVER]
    assert user.id in {u.id for u in await uow.users.get_users_by_role("APPROVER")}
    assert admin.id not in {u.id for u in await uow.users.get_users_by_role("APPROVER")}
    assert await uow.users.get_role_names(user.id) == {UserRoleEnum.APPROVER}

    assert await uow.roles.remove_role_from_user(user.id, approver_role.id) is True
    assert await uow.roles.remove_role_from_user(user.id, approver_role.id) is False
    assert user.id not in {u.id for u in await uow.users.get_users_by_role("APPROVER")}


async def test_assign_role_to_unknown_user_or_role(uow: UnitOfWork, build: Builder):
    roles = await uow.roles.ensure_default_roles()
    user = await build.user()
    with pytest.raises(NotFoundError, match="User"):
        await uow.roles.assign_role_to_user(uuid.uuid4(), roles[0].id)
    with pytest.raises(NotFoundError, match="Role"):
        await uow.roles.assign_role_to_user(user.id, uuid.uuid4())
    with pytest.raises(NotFoundError, match="User"):
        await uow.roles.assign_role_to_user(user.id, roles[0].id, assigned_by=uuid.uuid4())


async def test_concurrent_create_unless_exists_makes_one_user(
    committed_session_factory: async_sessionmaker[AsyncSession],
):
    name = unique("seeded")
    start = asyncio.Event()

    async def create() -> tuple[uuid.UUID, bool]:
        async with UnitOfWork(committed_session_factory) as unit:
            await start.wait()
            user, created = await unit.users.create_unless_exists(
                {"username": name, "email": f"{name}@example.org"}
            )
            await unit.commit()
            return user.id, created

    tasks = [asyncio.create_task(create()) for _ in range(6)]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert len({user_id for user_id, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False] * 5 + [True]
    async with UnitOfWork(committed_session_factory) as uow:
        taken = unique("other")
        with pytest.raises(DuplicateError):  # another user's email is still refused
            await uow.users.create_unless_exists(
                {"username": taken, "email": f"{name}@example.org"}
            )


async def test_authenticate_checks_the_stored_hash(uow: UnitOfWork, build: Builder):
    from storage.db.passwords import hash_password

    ann = await build.user(hashed_password=hash_password("pw of ann"))
    inactive = await build.user(hashed_password=hash_password("pw"), is_active=False)
    without = await build.user()
    assert (await uow.users.authenticate(ann.username, "pw of ann")).id == ann.id
    assert await uow.users.authenticate(ann.username, "pw of bob") is None
    assert await uow.users.authenticate(inactive.username, "pw") is None
    assert await uow.users.authenticate(without.username, "") is None
    assert await uow.users.authenticate("nobody-" + ann.username, "pw of ann") is None
    assert "argon2" not in repr(ann)  # the hash never shows in a repr (or a log line)

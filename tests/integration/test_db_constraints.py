"""Constraints and triggers in the database itself, and BaseRepository's generic methods."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage.db.enums import REQUEST_TRANSITIONS, RequestStatus
from storage.db.errors import (
    ConstraintViolationError,
    DuplicateError,
    InvalidValueError,
    NotFoundError,
)
from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import PATH_TO, Builder, sha256


async def _raw(uow: UnitOfWork, sql: str, **params):
    """Run raw SQL in a savepoint so a refusal leaves the test transaction usable."""
    async with uow.session.begin_nested():
        return await uow.session.execute(text(sql), params)


async def test_status_trigger_mirrors_the_state_machine(uow: UnitOfWork, build: Builder):
    user = await build.user()
    update = "UPDATE requests SET status = CAST(:s AS request_status) WHERE id = :id"
    for current in RequestStatus:
        for target in RequestStatus:
            if target is current:
                continue
            request_id = uuid.uuid4()
            await _raw(
                uow,
                "INSERT INTO requests (id, created_by, source_system) VALUES (:id, :user, 'raw')",
                id=request_id,
                user=user.id,
            )
            for step in PATH_TO[current]:  # raw updates along the allowed path
                await _raw(uow, update, s=step.value, id=request_id)
            if target in REQUEST_TRANSITIONS[current]:
                await _raw(uow, update, s=target.value, id=request_id)
            else:
                with pytest.raises(DBAPIError, match=f"transition {current} -> {target}"):
                    await _raw(uow, update, s=target.value, id=request_id)


async def test_initial_status_trigger(uow: UnitOfWork, build: Builder):
    """Raw SQL too: a request is inserted as NEW or PENDING_APPROVAL, nothing else."""
    user = await build.user()
    insert = (
        "INSERT INTO requests (created_by, source_system, status) "
        "VALUES (:u, 'raw', CAST(:s AS request_status))"
    )
    for status in RequestStatus:
        if status in (RequestStatus.NEW, RequestStatus.PENDING_APPROVAL):
            await _raw(uow, insert, u=user.id, s=status.value)
            continue
        with pytest.raises(DBAPIError, match=f"invalid initial request status {status}: a request"):
            await _raw(uow, insert, u=user.id, s=status.value)
    assert await uow.requests.count({"created_by": user.id}) == 2


async def test_status_trigger_surfaces_as_domain_error(uow: UnitOfWork, build: Builder):
    request = await build.request()
    from storage.db.errors import InvalidStatusTransitionError

    # a generic update bypasses the repository's state machine; the trigger still refuses
    with pytest.raises(InvalidStatusTransitionError, match="from NEW to COMPLETED"):
        await uow.requests.update(request.id, {"status": "COMPLETED"})
    assert (await uow.requests.get(request.id)).status is RequestStatus.NEW


async def test_updated_at_trigger_on_raw_update(uow: UnitOfWork, build: Builder):
    user = await build.user()
    await _raw(
        uow,
        "UPDATE users SET full_name = 'x', updated_at = '2000-01-01' WHERE id = :id",
        id=user.id,
    )
    updated_at = await uow.session.scalar(
        text("SELECT updated_at FROM users WHERE id = :id"), {"id": user.id}
    )
    assert updated_at.year > 2000 and updated_at >= user.created_at


async def test_unique_revision_version_in_the_database(uow: UnitOfWork, build: Builder):
    request = await build.request()
    await build.revision(request)
    with pytest.raises(DuplicateError, match=r"\(request_id, version\)") as duplicate:
        await uow.revisions.create({"request_id": request.id, "version": 1})
    with pytest.raises(ConstraintViolationError, match="version_positive") as refused:
        await uow.revisions.create({"request_id": request.id, "version": 0})
    # also IntegrityErrors, as the seed guides catch them, with the driver's error as `orig`
    for error, sqlstate in ((duplicate.value, "23505"), (refused.value, "23514")):
        assert isinstance(error, IntegrityError) and error.orig.sqlstate == sqlstate
        assert str(error).startswith(("duplicate TARevision:", "TARevision:"))


async def test_sample_checks(uow: UnitOfWork, build: Builder):
    request = await build.request()
    with pytest.raises(ConstraintViolationError, match="checksum_sha256_hex"):
        await build.sample(request, checksum="not-a-sha")
    with pytest.raises(ConstraintViolationError, match="file_size_non_negative"):
        await build.sample(request, file_size=-1, checksum=sha256("x"))
    with pytest.raises(ConstraintViolationError, match="unknown or still referenced"):
        await uow.samples.create(
            {
                "request_id": uuid.uuid4(),
                "filename": "a.log",
                "storage_bucket": "b",
                "storage_key": "k",
                "file_size": 1,
                "checksum": sha256("a"),
            }
        )


async def test_not_null_and_knowledge_checks(uow: UnitOfWork):
    with pytest.raises(ConstraintViolationError, match="source_system"):
        await uow.requests.create({"created_by": uuid.uuid4(), "source_system": None})
    with pytest.raises(ConstraintViolationError, match="embedding_count_non_negative"):
        await uow.knowledge.create(
            {
                "title": "t",
                "document_type": "md",
                "storage_bucket": "b",
                "storage_key": "k",
                "embedding_count": -3,
            }
        )


async def test_requester_with_requests_cannot_be_deleted(uow: UnitOfWork, build: Builder):
    request = await build.request()
    with pytest.raises(ConstraintViolationError, match="still referenced"):
        await uow.users.delete(request.created_by)
    assert await uow.users.exists(request.created_by)


async def test_deleting_a_request_cascades(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.GENERATING_TA)
    sample = await build.sample(request)
    revision = await build.revision(request)
    run = await build.validation(revision)
    await uow.requests.delete(request.id)
    assert not await uow.samples.exists(sample.id)
    assert not await uow.revisions.exists(revision.id)
    assert not await uow.validations.exists(run.id)


async def test_enum_columns_refuse_unknown_values(uow: UnitOfWork, build: Builder):
    user = await build.user()
    with pytest.raises(InvalidValueError, match=r"Request\.status: 'DONE' is not one of NEW"):
        await uow.requests.create({"created_by": user.id, "source_system": "s", "status": "DONE"})
    with pytest.raises(DBAPIError, match="invalid input value for enum request_status"):
        await _raw(
            uow,
            "INSERT INTO requests (created_by, source_system, status) "
            "VALUES (:u, 's', CAST('DONE' AS request_status))",
            u=user.id,
        )


async def test_base_repository_crud_filters_and_ordering(uow: UnitOfWork, build: Builder):
    a = await build.user(full_name="Zed")
    b = await build.user(full_name="Amy")
    assert await uow.users.exists(a.id) and not await uow.users.exists(uuid.uuid4())
    assert (await uow.users.get_by_id(a.id)).id == a.id
    assert await uow.users.get_by_id(uuid.uuid4()) is None
    assert await uow.users.count({"id": [a.id, b.id]}) == 2
    assert await uow.users.count({"id": [a.id, b.id], "full_name": "Amy"}) == 1
    assert await uow.users.count({"id": a.id, "external_id": None}) == 1
    ordered = await uow.users.get_all(0, 10, filters={"id": [a.id, b.id]}, order_by="full_name")
    assert [u.id for u in ordered] == [b.id, a.id]
    newest = await uow.users.get_all(0, 1, filters={"id": [a.id, b.id]})
    assert [u.id for u in newest] == [b.id]
    updated = await uow.users.update(a.id, {"full_name": "Zed Z"})
    assert updated.full_name == "Zed Z" and updated.updated_at >= updated.created_at
    await uow.users.delete(b.id)
    assert not await uow.users.exists(b.id)


async def test_base_repository_bad_input(uow: UnitOfWork, build: Builder):
    user = await build.user()
    with pytest.raises(InvalidValueError, match="User has no column 'nickname'"):
        await uow.users.create({"username": "n", "email": "n@x", "nickname": "x"})
    with pytest.raises(InvalidValueError, match="User has no column 'roles'"):
        await uow.users.update(user.id, {"roles": []})
    with pytest.raises(InvalidValueError, match="has no column 'nope'"):
        await uow.users.count({"nope": 1})
    with pytest.raises(InvalidValueError, match="has no column 'nope'"):
        await uow.users.get_all(order_by="-nope")
    with pytest.raises(NotFoundError, match=r"User with id=.* not found"):
        await uow.users.update(uuid.uuid4(), {"full_name": "x"})
    with pytest.raises(NotFoundError):
        await uow.users.delete(uuid.uuid4())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"created_by": "abc"}, 'invalid input syntax for type uuid: "abc"'),
        ({"cim_required": "maybe"}, "Not a boolean value: 'maybe'"),
        ({"extra_metadata": {"a": object()}}, "not JSON serializable"),
        ({"source_system": "x" * 300}, r"value too long for type character varying\(255\)"),
    ],
)
async def test_values_of_the_wrong_type_are_domain_errors(
    uow: UnitOfWork, build: Builder, extra, message
):
    user = await build.user()
    with pytest.raises(InvalidValueError, match=message):
        await uow.requests.create({"created_by": user.id, "source_system": "s", **extra})
    assert await uow.requests.count({"created_by": user.id}) == 0

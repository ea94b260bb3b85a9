"""The append-only audit log and typed SystemConfig values."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from storage.db.enums import AuditAction, AuditEntity, ConfigValueType
from storage.db.errors import ImmutableAuditLogError, InvalidConfigValueError, InvalidValueError
from storage.db.repositories import SECRET_MASK
from storage.db.unit_of_work import UnitOfWork
from tests.db_fixtures import TEST_DATABASE, PgServer
from tests.integration.builders import Builder, unique


async def test_create_log_and_reads(uow: UnitOfWork, build: Builder):
    user = await build.user()
    request = await build.request(user)
    correlation = unique("flow-run")
    created = await uow.audit.create_log(
        user.id,
        AuditAction.CREATE,
        "request",
        request.id,
        {"source": "nginx"},
        "192.0.2.10",
        "tagen-cli/0.1",
        correlation,
    )
    upload = await uow.audit.create_log(
        user.id, "UPLOAD", "log_sample", uuid.uuid4(), correlation_id=correlation
    )
    await uow.audit.create_log(None, AuditAction.LOGIN, "session", None)
    assert created.timestamp is not None and str(created.ip_address) == "192.0.2.10"
    assert created.entity_id == str(request.id) and created.details == {"source": "nginx"}
    assert [a.id for a in await uow.audit.get_by_entity("request", request.id)] == [created.id]
    assert [a.id for a in await uow.audit.get_by_user(user.id, 0, 10)] == [upload.id, created.id]
    assert [a.id for a in await uow.audit.get_by_user(user.id, 1, 10)] == [created.id]
    chain = await uow.audit.get_by_correlation_id(correlation)
    assert [a.id for a in chain] == [created.id, upload.id]
    recent = await uow.audit.get_recent_activity(hours=1, limit=500)
    assert {created.id, upload.id} <= {a.id for a in recent}


async def test_recent_matching_entries_are_counted_by_details_within_a_window(uow: UnitOfWork):
    name = unique("approver")
    failed = {"approver": name, "authentication": "failed"}
    for details in (failed, failed, {**failed, "authentication": "locked"}, {"approver": "x"}):
        await uow.audit.create_log(None, AuditAction.UPDATE, "request", uuid.uuid4(), details)
    hour = timedelta(hours=1)
    found = await uow.audit.get_recent_matching(failed, within=hour, limit=10)
    assert len(found) == 2 and found[0] > found[1]  # newest first
    assert len(await uow.audit.get_recent_matching(failed, within=hour, limit=1)) == 1
    # the window is the database's clock: entries written a moment ago are older than 0 s
    assert await uow.audit.get_recent_matching(failed, within=timedelta(0), limit=10) == []


async def test_bad_audit_input(uow: UnitOfWork):
    with pytest.raises(InvalidValueError, match="'EXPLODE' is not one of CREATE"):
        await uow.audit.create_log(None, "EXPLODE", "request")
    with pytest.raises(InvalidValueError, match="inet"):
        await uow.audit.create_log(None, "LOGIN", "session", ip_address="not-an-ip")


async def test_entities_are_one_vocabulary_and_older_spellings_are_found(
    uow: UnitOfWork, build: Builder
):
    """create_log stores an AuditEntity's value; the entries written under the class names
    before AuditEntity (the log is append-only, they stay) are found by either spelling."""
    request = await build.request()
    new = await uow.audit.create_log(None, AuditAction.UPDATE, AuditEntity.REQUEST, request.id)
    legacy = await uow.audit.create_log(None, AuditAction.CREATE, "Request", request.id)
    assert (new.entity_type, legacy.entity_type) == ("request", "request")
    old_id = await uow.session.scalar(
        text(
            "INSERT INTO audit_logs (action, entity_type, entity_id, details) "
            "VALUES ('CREATE', 'Request', :id, '{}') RETURNING id"
        ),
        {"id": str(request.id)},
    )
    for spelling in ("request", "Request", AuditEntity.REQUEST):
        found = {a.id for a in await uow.audit.get_by_entity(spelling, request.id)}
        assert found == {new.id, legacy.id, old_id}
    with pytest.raises(InvalidValueError, match="'requests' is not one of request"):
        await uow.audit.create_log(None, AuditAction.CREATE, "requests", request.id)
    with pytest.raises(InvalidValueError, match=r"AuditLog\.entity_type"):
        await uow.audit.get_by_entity("Requests", request.id)


async def test_repository_refuses_to_rewrite_history(uow: UnitOfWork):
    log = await uow.audit.create_log(None, AuditAction.LOGIN, "session")
    with pytest.raises(ImmutableAuditLogError, match="UPDATE"):
        await uow.audit.update(log.id, {"entity_type": "x"})
    with pytest.raises(ImmutableAuditLogError, match="DELETE"):
        await uow.audit.delete(log.id)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_logs SET entity_type = 'forged' WHERE id = :id",
        "DELETE FROM audit_logs WHERE id = :id",
        "TRUNCATE audit_logs",
    ],
)
def test_trigger_refuses_raw_sql_even_to_the_owner(
    pg_server: PgServer, db_url: str, statement: str
):
    """The application role may not even try (test_db_privileges); the owner role, which holds
    every privilege on the table, is stopped by the trigger."""
    with _owner_transaction(pg_server) as (conn, log_id):
        params = {"id": log_id} if ":id" in statement else {}
        with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
            conn.execute(text(statement), params)
        entity_type = conn.execute(
            text("SELECT entity_type FROM audit_logs WHERE id = :id"), {"id": log_id}
        ).scalar_one()
        assert entity_type == "session"


@contextmanager
def _owner_transaction(pg_server: PgServer) -> Iterator[tuple[Connection, uuid.UUID]]:
    """A transaction of the owner role holding one new audit entry, rolled back afterwards."""
    engine = create_engine(pg_server.url(TEST_DATABASE, pg_server.owner), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            log_id = conn.execute(
                text(
                    "INSERT INTO audit_logs (action, entity_type) VALUES ('LOGOUT', 'session') "
                    "RETURNING id"
                )
            ).scalar_one()
            yield conn, log_id
            conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("value", "value_type", "stored", "parsed"),
    [
        ("hello", "string", "hello", "hello"),
        (8, "integer", "8", 8),
        ("12", ConfigValueType.INTEGER, "12", 12),
        (True, "boolean", "true", True),
        ("off", "boolean", "false", False),
        (
            {"model": "gpt", "t": 0.2},
            "json",
            '{"model": "gpt", "t": 0.2}',
            {"model": "gpt", "t": 0.2},
        ),
        (["a", "b"], "list", '["a", "b"]', ["a", "b"]),
    ],
)
async def test_typed_values_round_trip(uow: UnitOfWork, value, value_type, stored, parsed):
    key = unique("typed")
    entry = await uow.config.set_value(key, value, value_type)
    assert entry.value == stored
    assert await uow.config.get_value(key) == parsed


@pytest.mark.parametrize(
    ("value", "value_type", "message"),
    [
        ("eight", "integer", "not a valid integer"),
        (True, "integer", "not a valid integer"),
        ("maybe", "boolean", "not a valid boolean"),
        ({"a": 1}, "list", "not a valid list"),
        (3, "string", "not a valid string"),
        ({1, 2}, "json", "not a valid json"),
    ],
)
async def test_values_that_do_not_fit_their_type(uow: UnitOfWork, value, value_type, message):
    key = unique("bad")
    with pytest.raises(InvalidConfigValueError, match=message):
        await uow.config.set_value(key, value, value_type)
    assert await uow.config.get_value(key, "unset") == "unset"


async def test_unknown_type_and_malformed_stored_value(uow: UnitOfWork):
    with pytest.raises(InvalidValueError, match="'float' is not one of string"):
        await uow.config.set_value(unique("k"), 1.5, "float")
    key = unique("raw")
    await uow.session.execute(
        text("INSERT INTO system_config (key, value, value_type) VALUES (:k, '{x', 'json')"),
        {"k": key},
    )
    with pytest.raises(InvalidConfigValueError, match=f"'{key}' is not a valid json"):
        await uow.config.get_value(key)


async def test_set_value_upserts_and_defaults(uow: UnitOfWork, build: Builder):
    admin = await build.user()
    key = unique("MAX_PARALLEL_VALIDATIONS")
    assert await uow.config.get_value(key, 4) == 4
    first = await uow.config.set_value(key, 2, "integer", admin.id, "sandbox slots")
    second = await uow.config.set_value(key, 6, "integer")
    assert second.id == first.id
    assert second.description == "sandbox slots"  # kept when not given
    assert second.updated_by is None
    assert await uow.config.get_value(key, 4) == 6
    assert await uow.config.count({"key": key}) == 1


async def test_public_configs_mask_secrets(uow: UnitOfWork):
    secret, model = unique("llm.api_key"), unique("llm.model")
    await uow.config.set_value(secret, "sk-secret", "string", is_secret=True)
    await uow.config.set_value(model, "gpt-4o-mini", "string")
    public = await uow.config.get_public_configs()
    assert public[secret] == SECRET_MASK
    assert public[model] == "gpt-4o-mini"
    assert "sk-secret" not in repr(public)
    assert await uow.config.get_value(secret) == "sk-secret"


def test_trigger_refusal_maps_to_the_domain_error(pg_server: PgServer, db_url: str):
    from storage.db.repositories.base import translate_db_error

    with _owner_transaction(pg_server) as (conn, log_id):
        for statement, operation in [
            ("UPDATE audit_logs SET details = '{}' WHERE id = :id", "UPDATE"),
            ("DELETE FROM audit_logs WHERE id = :id", "DELETE"),
        ]:
            with pytest.raises(DBAPIError) as info, conn.begin_nested():
                conn.execute(text(statement), {"id": log_id})
            error = translate_db_error(info.value, "AuditLog")
            assert isinstance(error, ImmutableAuditLogError)
            assert str(error) == f"audit logs are append-only: {operation} is not allowed"

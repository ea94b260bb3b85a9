"""The application role on the real server: every way around the audit trail and the request
state machine that its former superuser connection allowed now fails, and it owns nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors

from tests.db_fixtures import TEST_DATABASE, PgServer


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def app_conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A connection as the application role (DATABASE_URL), its transaction rolled back."""
    conn = psycopg.connect(_libpq(db_url))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _audit_entry(conn: psycopg.Connection) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO audit_logs (action, entity_type) VALUES ('LOGIN', 'session') RETURNING id"
    ).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(
    "attack",
    [
        "SET session_replication_role = replica",
        "UPDATE audit_logs SET entity_type = 'forged' WHERE id = %(id)s",
        "DELETE FROM audit_logs WHERE id = %(id)s",
        "TRUNCATE audit_logs",
        "ALTER TABLE audit_logs DISABLE TRIGGER USER",
        "ALTER TABLE requests DISABLE TRIGGER trg_requests_status_guard",
        "DROP TRIGGER trg_audit_logs_append_only ON audit_logs",
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "CREATE ROLE intruder SUPERUSER",
        "ALTER ROLE CURRENT_USER SUPERUSER",
        "SET ROLE postgres",
        "CREATE TABLE public.planted (id int)",
        "CREATE FUNCTION public.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
def test_the_application_role_is_refused(app_conn: psycopg.Connection, attack: str):
    entry = _audit_entry(app_conn)
    with pytest.raises(errors.InsufficientPrivilege), app_conn.transaction():
        app_conn.execute(attack, {"id": entry} if "%(id)s" in attack else None)
    row = app_conn.execute(
        "SELECT entity_type, current_setting('session_replication_role') FROM audit_logs "
        "WHERE id = %s",
        (entry,),
    ).fetchone()
    assert row == ("session", "origin")


def test_audit_timestamps_come_from_the_server_clock(app_conn: psycopg.Connection):
    before = app_conn.execute("SELECT clock_timestamp()").fetchone()
    row = app_conn.execute(
        "INSERT INTO audit_logs (action, entity_type, timestamp) "
        "VALUES ('LOGIN', 'session', '2001-01-01T00:00:00Z') RETURNING timestamp"
    ).fetchone()
    assert before is not None and row is not None
    assert row[0] >= before[0]  # the forged 2001 was replaced by the server's clock


@pytest.mark.parametrize("status", ["APPROVED", "COMPLETED", "FAILED", "REJECTED"])
def test_a_request_cannot_be_inserted_past_the_gate(app_conn: psycopg.Connection, status: str):
    name = f"insert-{uuid.uuid4().hex[:10]}"
    user = app_conn.execute(
        "INSERT INTO users (username, email) VALUES (%s, %s) RETURNING id",
        (name, f"{name}@example.org"),
    ).fetchone()
    assert user is not None
    insert = (
        "INSERT INTO requests (created_by, source_system, status) "
        "VALUES (%s, 's', CAST(%s AS request_status)) RETURNING status"
    )
    refused = pytest.raises(errors.CheckViolation, match=f"invalid initial request status {status}")
    with refused, app_conn.transaction():
        app_conn.execute(insert, (user[0], status))
    for allowed in ("NEW", "PENDING_APPROVAL"):
        assert app_conn.execute(insert, (user[0], allowed)).fetchone() == (allowed,)


def test_the_application_role_has_no_privileged_attribute_and_owns_nothing(
    app_conn: psycopg.Connection,
):
    attributes = app_conn.execute(
        "SELECT rolsuper, rolreplication, rolbypassrls, rolcreaterole, rolcreatedb "
        "FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert attributes == (False, False, False, False, False)
    owned = app_conn.execute(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
        "+ (SELECT count(*) FROM pg_proc WHERE proowner = r.oid) "
        "+ (SELECT count(*) FROM pg_type WHERE typowner = r.oid) "
        "+ (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) "
        "+ (SELECT count(*) FROM pg_database WHERE datdba = r.oid) "
        "FROM pg_roles r WHERE r.rolname = current_user"
    ).fetchone()
    assert owned == (0,)


def test_tables_of_later_migrations_get_the_same_grants(pg_server: PgServer, db_url: str):
    """ALTER DEFAULT PRIVILEGES: a table the owner creates later is open to the application
    role for data, not for TRUNCATE."""
    with psycopg.connect(_libpq(pg_server.url(TEST_DATABASE, pg_server.owner))) as conn:
        conn.execute("CREATE TABLE later_migration (id int)")
        granted = {
            privilege: conn.execute(
                "SELECT has_table_privilege(%s, 'later_migration', %s)",
                (pg_server.app.role, privilege),
            ).fetchone()
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
        }
        conn.rollback()
    assert granted == {
        "SELECT": (True,),
        "INSERT": (True,),
        "UPDATE": (True,),
        "DELETE": (True,),
        "TRUNCATE": (False,),
        "TRIGGER": (False,),
    }

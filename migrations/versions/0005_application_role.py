"""The application role gets data access and nothing more; what it writes is checked in the
database.

Migrations run as the owner role; tasks, CLI and flows log in as the application role
(DATABASE_APP_ROLE, default tagen_app; passed as `config.attributes["app_role"]`), which must
exist (the embedded server creates it; README "Database roles" for an external server) and must
not be a superuser, replicate, bypass row security, or be (a member of) the owner: it could
then switch triggers off (session_replication_role, ALTER TABLE ... DISABLE TRIGGER) and rewrite
the audit trail.

Reviewed by hand:
- grants: USAGE on schema public; SELECT, INSERT, UPDATE, DELETE on every table, minus UPDATE
  and DELETE on audit_logs (append-only) and all but SELECT on alembic_version; USAGE, SELECT
  on sequences. No TRUNCATE, REFERENCES, TRIGGER anywhere. ALTER DEFAULT PRIVILEGES gives the
  same DML on tables later migrations create (a later append-only table revokes its own);
- `tagen_audit_logs_server_timestamp()`: BEFORE INSERT on audit_logs, the timestamp is always
  the server's clock (a client-supplied one is overwritten);
- a request inserted only as NEW or PENDING_APPROVAL is 0004's trigger (not repeated here);
- usernames are unique regardless of case (`uq_users_username_lower` on lower(username));
  upgrading a database that holds `ann` and `ANN` stops with a message naming them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DML = "SELECT, INSERT, UPDATE, DELETE"


def _app_role() -> str:
    return str(context.config.attributes.get("app_role") or "tagen_app")


def _role_exists(role: str) -> bool:
    found = op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
    )
    return found.first() is not None


def _check_app_role(role: str) -> None:
    if not _role_exists(role):
        raise RuntimeError(
            f"the application role {role} does not exist: create it (README, Database roles) "
            f"or set DATABASE_APP_ROLE to the role the application logs in as"
        )
    row = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT rolsuper, rolreplication, rolbypassrls, "
                "pg_has_role(:role, current_user, 'MEMBER') FROM pg_roles WHERE rolname = :role"
            ),
            {"role": role},
        )
        .one()
    )
    if any(row):
        raise RuntimeError(
            f"the application role {role} is a superuser, may replicate or bypass row security, "
            f"or is (a member of) the owner role running this migration: it could switch the "
            f"audit and status triggers off; give the application a role of its own"
        )


def _grant(role: str) -> None:
    quoted = f'"{role}"'
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT {_DML} ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"REVOKE UPDATE, DELETE ON audit_logs FROM {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {_DML} ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
    ):
        op.execute(statement)


def _revoke(role: str) -> None:
    quoted = f'"{role}"'
    for statement in (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE USAGE ON SCHEMA public FROM {quoted}",
    ):
        op.execute(statement)


def _check_no_case_duplicates() -> None:
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT string_agg(username, ' / ' ORDER BY username) FROM users "
                "GROUP BY lower(username) HAVING count(*) > 1 ORDER BY 1 LIMIT 5"
            )
        )
        .scalars()
        .all()
    )
    if duplicates:
        raise RuntimeError(
            "users holds usernames that differ only in case "
            f"({'; '.join(duplicates)}): rename or merge them first"
        )


def upgrade() -> None:
    role = _app_role()
    _check_app_role(role)
    _check_no_case_duplicates()
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.execute(
        """
        CREATE OR REPLACE FUNCTION tagen_audit_logs_server_timestamp() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.timestamp := clock_timestamp();
            RETURN NEW;
        END $$
        """
    )
    op.execute("DROP TRIGGER IF EXISTS trg_audit_logs_server_timestamp ON audit_logs")
    op.execute(
        "CREATE TRIGGER trg_audit_logs_server_timestamp BEFORE INSERT ON audit_logs "
        "FOR EACH ROW EXECUTE FUNCTION tagen_audit_logs_server_timestamp()"
    )
    _grant(role)


def downgrade() -> None:
    role = _app_role()
    if _role_exists(role):
        _revoke(role)
    op.execute("DROP TRIGGER IF EXISTS trg_audit_logs_server_timestamp ON audit_logs")
    op.execute("DROP FUNCTION IF EXISTS tagen_audit_logs_server_timestamp()")
    op.drop_index("uq_users_username_lower", table_name="users")

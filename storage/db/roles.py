"""Database roles and databases, provisioned by a superuser connection: the role split.

- the owner role owns the application database and everything in it, and runs the migrations;
- the application role (tasks, CLI, flows) logs in with no superuser, no CREATEDB/CREATEROLE,
  no replication, no BYPASSRLS and owns nothing; migration 0005 grants it DML and no more.

The embedded server provisions both itself (storage.db.embedded); on an external server an
administrator does the same (README, "Database roles"), and the tests use these functions on
TEST_DATABASE_URL. Passwords reach the server as SCRAM verifiers computed by libpq, never in
clear text (a statement log would keep them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql

# Created by a superuser when offered: pgvector is not a trusted extension, so the owner role
# could not create it (pg_trgm is trusted; Prefect's own database creates it itself).
APPLICATION_EXTENSIONS = ("vector", "pg_trgm")
_ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"


class RoleProvisioningError(RuntimeError):
    """A role or database cannot be set up as the split requires."""


def ensure_login_role(admin: psycopg.Connection, role: str, password: str) -> None:
    """Create `role` (or repair an existing one) as an unprivileged login with `password`.
    A role already so is left untouched (no catalog write on every start)."""
    found = admin.execute(
        "SELECT rolsuper OR rolreplication OR rolbypassrls, "
        "rolcanlogin AND NOT (rolcreaterole OR rolcreatedb), rolpassword "
        "FROM pg_authid WHERE rolname = %s",
        (role,),
    ).fetchone()
    if found is not None and found[0]:
        raise RoleProvisioningError(
            f"role {role} is a superuser or may replicate or bypass row security: "
            f"tagen will not use it; choose another role name"
        )
    if found is None or not found[1]:
        verb = "ALTER" if found is not None else "CREATE"
        admin.execute(sql.SQL(verb + " ROLE {} " + _ROLE_ATTRIBUTES).format(sql.Identifier(role)))
    if found is None or not verifies(found[2], password):
        set_password(admin, role, password)


def verifies(verifier: str | None, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:
    <ServerKey>`, RFC 5803) is that of `password` (ASCII: SASLprep leaves it unchanged)."""
    import base64
    import hashlib
    import hmac

    try:
        method, rest = (verifier or "").split("$", 1)
        params, keys = rest.split("$", 1)
        iterations, salt = params.split(":", 1)
        stored_key = base64.b64decode(keys.split(":", 1)[0])
        salted = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    expected = hashlib.sha256(client_key).digest()
    return method == "SCRAM-SHA-256" and hmac.compare_digest(expected, stored_key)


def set_password(admin: psycopg.Connection, role: str, password: str) -> None:
    """Give `role` `password`, sent as a SCRAM-SHA-256 verifier."""
    verifier = admin.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    admin.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(verifier.decode())
        )
    )


def ensure_database(
    admin: psycopg.Connection,
    connect: Callable[[str], psycopg.Connection],
    name: str,
    *,
    owner: str,
    users: Sequence[str] = (),
    extensions: Sequence[str] = (),
) -> bool:
    """Make `name` exist, owned by `owner`, reachable only by `owner` and `users`, with the
    `extensions` the server offers. True when it was created.

    A database (and the objects in it) that a superuser owns, as the clusters made before the
    role split do, is handed over to `owner` in place: its data stays.
    `connect(dbname)` opens another superuser connection (autocommit) on that database.
    """
    row = admin.execute(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    created = row is None
    database = sql.Identifier(name)
    if row is None:
        try:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(database, sql.Identifier(owner))
            )
        except psycopg.errors.DuplicateDatabase:
            created = False  # created concurrently
    elif row[0] != owner:
        admin.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(database, sql.Identifier(owner))
        )
    public = admin.execute(
        "SELECT datacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(datacl) WHERE grantee = 0) "
        "FROM pg_database WHERE datname = %s",
        (name,),
    ).fetchone()
    if public is not None and public[0]:  # PUBLIC may connect (the default)
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
    for role in users:
        granted = admin.execute(
            "SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, name)
        ).fetchone()
        if granted != (True,):
            admin.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, sql.Identifier(role))
            )
    with connect(name) as conn:
        _adopt_superuser_objects(conn, owner)
        offered = {
            str(found)
            for (found,) in conn.execute(
                "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", (list(extensions),)
            )
        }
        for extension in extensions:
            if extension in offered:
                conn.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
                )
    return created


# Objects a superuser owns in the schemas of a database, outside extensions: tables, views,
# standalone sequences, enum/domain types, functions. Indexes, triggers, owned sequences and
# row types follow their table.
_SUPERUSER_OBJECTS = """
WITH ours AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
), not_extension AS (
    SELECT objid FROM pg_depend WHERE deptype = 'e'
)
SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
           WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
       format('%I.%I', n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_roles r ON r.oid = c.relowner AND r.rolsuper
WHERE c.relnamespace IN (SELECT oid FROM ours) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND c.oid NOT IN (SELECT objid FROM not_extension)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
                  AND d.classid = 'pg_class'::regclass AND c.relkind = 'S')
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, format('%I.%I', n.nspname, t.typname)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_roles r ON r.oid = t.typowner AND r.rolsuper
WHERE t.typnamespace IN (SELECT oid FROM ours) AND t.typtype IN ('e', 'd')
  AND t.oid NOT IN (SELECT objid FROM not_extension)
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure::text
FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner AND r.rolsuper
WHERE p.pronamespace IN (SELECT oid FROM ours) AND p.prokind IN ('f', 'p')
  AND p.oid NOT IN (SELECT objid FROM not_extension)
"""


def _adopt_superuser_objects(conn: psycopg.Connection, owner: str) -> None:
    for kind, name in conn.execute(_SUPERUSER_OBJECTS).fetchall():
        conn.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(
                sql.SQL(kind), sql.SQL(name), sql.Identifier(owner)
            )
        )

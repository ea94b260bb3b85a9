"""Alembic: one head, up/down on an empty database, no drift between models and migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage.db import migrate
from storage.db.models import Base
from tests.db_fixtures import PgServer


def test_exactly_one_head_and_the_first_revision_is_0001():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    assert migrate.heads() == script.get_heads()
    assert script.get_base() == "0001"


def test_models_and_migrations_do_not_drift(db_url: str):
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == migrate.heads()[0]
    finally:
        engine.dispose()


def _schema(url: str) -> dict[str, set[str]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:

            def names(sql: str) -> set[str]:
                return set(conn.execute(text(sql)).scalars())

            return {
                "tables": names(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                ),
                "types": names(
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' AND t.typtype = 'e'"
                ),
                "functions": names(
                    "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = 'public' AND p.proname LIKE 'tagen_%'"
                ),
                "extensions": names("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"),
                "available": names(
                    "SELECT name FROM pg_available_extensions WHERE name IN ('vector', 'pg_trgm')"
                ),
            }
    finally:
        engine.dispose()


def test_upgrade_head_then_downgrade_base_leaves_nothing(
    pg_server: PgServer, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # migrate finds alembic.ini and migrations/ from anywhere
    url = pg_server.create_database("tagen_migrations", fresh=True)
    assert migrate.current(url=url) is None
    migrate.upgrade("head", url=url)
    up = _schema(url)
    assert set(Base.metadata.tables) <= up["tables"]
    assert {"request_status", "audit_action", "user_role"} <= up["types"]
    assert {
        "tagen_set_updated_at",
        "tagen_audit_logs_append_only",
        "tagen_request_status_guard",
    } <= up["functions"]
    assert up["available"] <= up["extensions"]  # pgvector (and pg_trgm) whenever offered
    assert migrate.current(url=url) == migrate.heads()[0]

    migrate.downgrade("base", url=url)
    down = _schema(url)
    assert down["tables"] == set() and down["types"] == set() and down["functions"] == set()
    assert migrate.current(url=url) is None

    migrate.upgrade("0001", url=url)  # and up again: downgrade really reverted everything
    assert migrate.current(url=url) == "0001"

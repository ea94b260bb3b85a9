"""Alembic: one head, up/down on an empty database, no drift between models and migrations,
and data kept across 0004's renames both ways."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
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


def _rows(url: str, sql: str, **params: object) -> list[dict[str, object]]:
    """Run `sql` (statements separated by ';') in one transaction; the last one's rows."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for statement in sql.split(";"):
                result = conn.execute(text(statement), params)
            return [dict(row._mapping) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    sql = "SELECT column_name FROM information_schema.columns WHERE table_name = :t"
    return {row["column_name"] for row in _rows(url, sql, t=table)}


def _constraints_and_indexes(url: str) -> set[str]:
    return {
        row["name"]
        for row in _rows(
            url,
            "SELECT conname AS name FROM pg_constraint UNION SELECT indexname FROM pg_indexes "
            "WHERE schemaname = 'public'",
        )
    }


def test_0004_renames_in_place_keeps_data_and_downgrades(pg_server: PgServer):
    """Rows written at 0003 survive 0004 under the seeds' names, and 0003 again after downgrade."""
    url = pg_server.create_database("tagen_migration_0004", fresh=True)
    migrate.upgrade("0003", url=url)
    ids = {name: _rows(url, "SELECT gen_random_uuid() AS id")[0]["id"] for name in "urtvsk"}
    _rows(
        url,
        "INSERT INTO users (id, username, email) VALUES (:u, 'ann', 'ann@example.org');"
        "INSERT INTO requests (id, requester_id, source_system, status, idempotency_key) "
        "VALUES (:r, :u, 'nginx', 'COMPLETED', 'key-1');"
        "INSERT INTO log_samples (id, request_id, filename, storage_bucket, storage_key, "
        "file_size, checksum) VALUES (:s, :r, 'a.log', 'old-bucket', 'k', 1, repeat('a', 64));"
        "INSERT INTO ta_revisions (id, request_id, version, revision_type, created_by) "
        "VALUES (:t, :r, 1, 'MANUAL', :u);"
        "INSERT INTO validation_runs (id, request_id, revision_id, status, container_id) "
        "VALUES (:v, :r, :t, 'PASSED', 'job-7');"
        "INSERT INTO knowledge_documents (id, title, document_type, storage_key, index_name, "
        "updated_at) VALUES (:k, 'doc', 'markdown', 'kn/doc.md', 'idx', '2001-02-03+00')",
        **ids,
    )

    migrate.upgrade("0004", url=url)
    [request] = _rows(url, "SELECT created_by, status::text, idempotency_key FROM requests")
    assert request == {"created_by": ids["u"], "status": "COMPLETED", "idempotency_key": "key-1"}
    [revision] = _rows(url, "SELECT generated_by::text, generated_by_user FROM ta_revisions")
    assert revision == {"generated_by": "MANUAL", "generated_by_user": ids["u"]}
    [run] = _rows(
        url, "SELECT ta_revision_id, splunk_container_id, validation_logs FROM validation_runs"
    )
    assert run == {
        "ta_revision_id": ids["t"],
        "splunk_container_id": "job-7",
        "validation_logs": None,
    }
    [document] = _rows(
        url,
        "SELECT pinecone_index_name, storage_bucket, extract(year FROM updated_at) AS year "
        "FROM knowledge_documents",
    )
    assert document == {"pinecone_index_name": "idx", "storage_bucket": "old-bucket", "year": 2001}
    assert _rows(url, "SELECT hashed_password FROM users") == [{"hashed_password": None}]
    names = _constraints_and_indexes(url)
    assert {
        "ix_requests_created_by",
        "fk_requests_created_by_users",
        "fk_ta_revisions_generated_by_user_users",
        "ix_validation_runs_ta_revision_id",
        "fk_validation_runs_ta_revision_id_ta_revisions",
        "ix_requests_status_created_at",
    } <= names
    assert not any("requester_id" in name or "runs_revision_id" in name for name in names)
    with pytest.raises(DBAPIError, match="invalid initial request status COMPLETED"):
        _rows(
            url,
            "INSERT INTO requests (created_by, source_system, status) "
            "VALUES (:u, 'x', 'COMPLETED')",
            u=ids["u"],
        )
    [fresh] = _rows(
        url,
        "INSERT INTO requests (created_by, source_system) VALUES (:u, 'y') "
        "RETURNING cim_required, status::text",
        u=ids["u"],
    )
    assert fresh == {"cim_required": True, "status": "NEW"}

    migrate.downgrade("0003", url=url)
    assert {"created_by", "requester_id"} & _columns(url, "requests") == {"requester_id"}
    assert "hashed_password" not in _columns(url, "users")
    assert {"validation_logs", "splunk_container_id"} & _columns(url, "validation_runs") == set()
    assert "storage_bucket" not in _columns(url, "knowledge_documents")
    [request] = _rows(url, "SELECT requester_id FROM requests WHERE source_system = 'nginx'")
    assert request == {"requester_id": ids["u"]}
    [revision] = _rows(url, "SELECT revision_type::text, created_by FROM ta_revisions")
    assert revision == {"revision_type": "MANUAL", "created_by": ids["u"]}
    [run] = _rows(url, "SELECT revision_id, container_id FROM validation_runs")
    assert run == {"revision_id": ids["t"], "container_id": "job-7"}
    assert _rows(url, "SELECT index_name FROM knowledge_documents") == [{"index_name": "idx"}]
    assert {"ix_requests_requester_id", "fk_validation_runs_revision_id_ta_revisions"} <= (
        _constraints_and_indexes(url)
    )
    [old_default] = _rows(
        url,
        "INSERT INTO requests (requester_id, source_system, status) "
        "VALUES (:u, 'z', 'COMPLETED') RETURNING cim_required",
        u=ids["u"],
    )
    assert old_default == {"cim_required": False}
    assert migrate.current(url=url) == "0003"


def test_0007_requests_learn_their_flow_run_from_the_audit_trail(pg_server: PgServer):
    """A request created in a flow run gets that run (its CREATE entry's correlation id), one
    made outside a run gets NULL; updated_at is not touched; downgrade drops the column."""
    url = pg_server.create_database("tagen_migration_0007", fresh=True)
    migrate.upgrade("0005", url=url)
    ids = {name: _rows(url, "SELECT gen_random_uuid() AS id")[0]["id"] for name in "urlf"}
    _rows(
        url,
        "INSERT INTO users (id, username, email) VALUES (:u, 'ann', 'ann@example.org');"
        "INSERT INTO requests (id, created_by, source_system, updated_at) "
        "VALUES (:r, :u, 'nginx', '2001-02-03+00'), (:l, :u, 'cli', '2001-02-03+00');"
        "INSERT INTO audit_logs (action, entity_type, entity_id, details, correlation_id) "
        "VALUES ('CREATE', 'Request', :r, '{}', :f), ('UPDATE', 'Request', :r, '{}', 'other'),"
        " ('CREATE', 'Request', :l, '{}', 'local')",
        **{k: str(v) for k, v in ids.items()},
    )
    migrate.upgrade("0007", url=url)
    rows = _rows(
        url,
        "SELECT id, flow_run_id, extract(year FROM updated_at) AS year FROM requests ORDER BY "
        "source_system",
    )
    assert rows == [
        {"id": ids["l"], "flow_run_id": None, "year": 2001},
        {"id": ids["r"], "flow_run_id": ids["f"], "year": 2001},
    ]
    assert "ix_requests_flow_run_id" in _constraints_and_indexes(url)
    migrate.downgrade("0005", url=url)
    assert "flow_run_id" not in _columns(url, "requests")
    assert "ix_requests_flow_run_id" not in _constraints_and_indexes(url)

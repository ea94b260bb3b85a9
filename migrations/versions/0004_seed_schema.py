"""The seeds' schema: their column names, the columns we lacked, requests start NEW or
PENDING_APPROVAL.

Renamed in place (data, indexes and constraints kept; their names follow the new column):
- requests.requester_id -> created_by
- ta_revisions.revision_type -> generated_by, ta_revisions.created_by -> generated_by_user
- validation_runs.revision_id -> ta_revision_id, validation_runs.container_id ->
  splunk_container_id
- knowledge_documents.index_name -> pinecone_index_name
Added:
- users.hashed_password (NULL: no local password yet)
- validation_runs.validation_logs (NULL)
- knowledge_documents.storage_bucket, NOT NULL. Existing documents were written through the
  same configured object store as samples and revisions, so they get the bucket the newest
  sample or revision records ('local', the local store's name, when there is none). A constant
  default filled in by ADD COLUMN, so no UPDATE runs and updated_at stays as it was.
- ix_requests_status_created_at (the seed's dashboard index)
- requests.cim_required defaults to true (the seed's default)
- tagen_request_initial_status_guard(): a request is inserted as NEW or PENDING_APPROVAL only;
  every later status is reached through the transition trigger of 0001.

Downgrade reverses all of it; what only 0004 can hold is dropped with its column: password
hashes, validation logs and document buckets. Reviewed by hand (autogenerate would drop and
re-add the renamed columns, losing their data).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old column, new column, [(old index or constraint, new name), ...])
RENAMES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    (
        "requests",
        "requester_id",
        "created_by",
        [
            ("ix_requests_requester_id", "ix_requests_created_by"),
            ("fk_requests_requester_id_users", "fk_requests_created_by_users"),
        ],
    ),
    ("ta_revisions", "revision_type", "generated_by", []),
    (
        "ta_revisions",
        "created_by",
        "generated_by_user",
        [("fk_ta_revisions_created_by_users", "fk_ta_revisions_generated_by_user_users")],
    ),
    (
        "validation_runs",
        "revision_id",
        "ta_revision_id",
        [
            ("ix_validation_runs_revision_id", "ix_validation_runs_ta_revision_id"),
            (
                "fk_validation_runs_revision_id_ta_revisions",
                "fk_validation_runs_ta_revision_id_ta_revisions",
            ),
        ],
    ),
    ("validation_runs", "container_id", "splunk_container_id", []),
    ("knowledge_documents", "index_name", "pinecone_index_name", []),
]


def _rename(table: str, old: str, new: str, names: list[tuple[str, str]]) -> None:
    """The column, its indexes and constraints; PostgreSQL 18 also names a NOT NULL
    constraint after its column (`<table>_<column>_not_null`), which a rename keeps."""
    op.alter_column(table, old, new_column_name=new)
    for old_name, new_name in names:
        if old_name.startswith("ix_"):
            op.execute(f"ALTER INDEX {old_name} RENAME TO {new_name}")
        else:
            op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {old_name} TO {new_name}")
    op.execute(
        f"""
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '{table}'::regclass
                       AND conname = '{table}_{old}_not_null') THEN
                ALTER TABLE {table} RENAME CONSTRAINT {table}_{old}_not_null
                    TO {table}_{new}_not_null;
            END IF;
        END $$
        """
    )


def _known_bucket() -> str:
    bucket = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT storage_bucket FROM ("
                " SELECT storage_bucket, created_at FROM log_samples"
                " UNION ALL"
                " SELECT storage_bucket, created_at FROM ta_revisions"
                " WHERE storage_bucket IS NOT NULL"
                ") AS recorded ORDER BY created_at DESC LIMIT 1"
            )
        )
        .scalar()
    )
    return bucket or "local"


def upgrade() -> None:
    for table, old, new, names in RENAMES:
        _rename(table, old, new, names)

    bucket = _known_bucket().replace("'", "''")
    op.add_column("users", sa.Column("hashed_password", sa.String(length=255), nullable=True))
    op.add_column("validation_runs", sa.Column("validation_logs", sa.Text(), nullable=True))
    op.add_column(
        "knowledge_documents",
        sa.Column(
            "storage_bucket",
            sa.String(length=255),
            server_default=sa.text(f"'{bucket}'"),
            nullable=False,
        ),
    )
    op.alter_column("knowledge_documents", "storage_bucket", server_default=None)

    op.alter_column("requests", "cim_required", server_default=sa.text("true"))
    op.create_index(
        "ix_requests_status_created_at", "requests", ["status", "created_at"], unique=False
    )
    op.execute(
        """
        CREATE FUNCTION tagen_request_initial_status_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status NOT IN ('NEW', 'PENDING_APPROVAL') THEN
                RAISE EXCEPTION USING
                    MESSAGE = 'invalid initial request status ' || NEW.status
                        || ': a request is created as NEW or PENDING_APPROVAL',
                    ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_requests_initial_status BEFORE INSERT ON requests "
        "FOR EACH ROW EXECUTE FUNCTION tagen_request_initial_status_guard()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_requests_initial_status ON requests")
    op.execute("DROP FUNCTION tagen_request_initial_status_guard()")
    op.drop_index("ix_requests_status_created_at", table_name="requests")
    op.alter_column("requests", "cim_required", server_default=sa.text("false"))

    op.drop_column("knowledge_documents", "storage_bucket")
    op.drop_column("validation_runs", "validation_logs")
    op.drop_column("users", "hashed_password")

    for table, old, new, names in reversed(RENAMES):
        _rename(table, new, old, [(after, before) for before, after in names])

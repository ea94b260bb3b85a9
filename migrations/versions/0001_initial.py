"""Initial schema: users and roles, requests, samples, revisions, validations, knowledge,
audit log, system config.

Reviewed by hand beyond autogenerate:
- enum types are created before and dropped after the tables (autogenerate forgets the drop);
- extensions `vector` (pgvector) and `pg_trgm` are created only when the server offers them;
- created_at/updated_at default to clock_timestamp() (distinct, ordered within a transaction);
- `tagen_set_updated_at()` keeps updated_at current for raw SQL updates too;
- `tagen_audit_logs_append_only()` makes audit_logs append-only (UPDATE, DELETE, TRUNCATE raise);
- `tagen_request_status_guard()` enforces storage.db.enums.REQUEST_TRANSITIONS in the database.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_ROLE = postgresql.ENUM(
    "REQUESTOR", "APPROVER", "ADMIN", "KNOWLEDGE_MANAGER", name="user_role", create_type=False
)
AUDIT_ACTION = postgresql.ENUM(
    "CREATE",
    "UPDATE",
    "DELETE",
    "APPROVE",
    "REJECT",
    "DOWNLOAD",
    "UPLOAD",
    "LOGIN",
    "LOGOUT",
    name="audit_action",
    create_type=False,
)
REQUEST_STATUS = postgresql.ENUM(
    "NEW",
    "PENDING_APPROVAL",
    "APPROVED",
    "REJECTED",
    "GENERATING_TA",
    "VALIDATING",
    "COMPLETED",
    "FAILED",
    name="request_status",
    create_type=False,
)
CONFIG_VALUE_TYPE = postgresql.ENUM(
    "string", "integer", "boolean", "json", "list", name="config_value_type", create_type=False
)
TA_REVISION_TYPE = postgresql.ENUM("AUTO", "MANUAL", name="ta_revision_type", create_type=False)
VALIDATION_STATUS = postgresql.ENUM(
    "QUEUED", "RUNNING", "PASSED", "FAILED", name="validation_status", create_type=False
)
ENUMS = (
    USER_ROLE,
    AUDIT_ACTION,
    REQUEST_STATUS,
    CONFIG_VALUE_TYPE,
    TA_REVISION_TYPE,
    VALIDATION_STATUS,
)

OPTIONAL_EXTENSIONS = ("vector", "pg_trgm")

TABLES_WITH_UPDATED_AT = (
    "roles",
    "users",
    "user_roles",
    "requests",
    "log_samples",
    "ta_revisions",
    "validation_runs",
    "knowledge_documents",
    "system_config",
)

# Mirrors storage.db.enums.REQUEST_TRANSITIONS (a migration is frozen: it must not import it).
# VALIDATING -> GENERATING_TA is the repair loop.
REQUEST_TRANSITIONS = {
    "NEW": ("PENDING_APPROVAL", "FAILED"),
    "PENDING_APPROVAL": ("APPROVED", "REJECTED", "FAILED"),
    "APPROVED": ("GENERATING_TA", "FAILED"),
    "GENERATING_TA": ("VALIDATING", "FAILED"),
    "VALIDATING": ("COMPLETED", "GENERATING_TA", "FAILED"),
}


def _id_and_timestamps() -> list[sa.Column[object]]:
    """The columns every table but audit_logs ends with: UUID id, created_at, updated_at
    (clock_timestamp(): distinct, ordered times within one transaction)."""
    return [
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
    ]


def _json_object(name: str) -> sa.Column[object]:
    """A JSONB object column, `{}` when not given (never NULL)."""
    return sa.Column(
        name,
        postgresql.JSONB(astext_type=sa.Text()),
        server_default=sa.text("'{}'::jsonb"),
        nullable=False,
    )


def _create_optional_extensions() -> None:
    bind = op.get_bind()
    available = set(
        bind.execute(
            sa.text("SELECT name FROM pg_available_extensions WHERE name = ANY(:names)"),
            {"names": list(OPTIONAL_EXTENSIONS)},
        ).scalars()
    )
    for name in OPTIONAL_EXTENSIONS:
        if name in available:
            op.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')


def _create_functions_and_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION tagen_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := clock_timestamp();
            RETURN NEW;
        END $$
        """
    )
    for table in TABLES_WITH_UPDATED_AT:
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tagen_set_updated_at()"
        )

    op.execute(
        """
        CREATE FUNCTION tagen_audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs "
        "FOR EACH ROW EXECUTE FUNCTION tagen_audit_logs_append_only()"
    )
    op.execute(
        "CREATE TRIGGER trg_audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs "
        "FOR EACH STATEMENT EXECUTE FUNCTION tagen_audit_logs_append_only()"
    )

    allowed = " OR ".join(
        f"(OLD.status = '{source}' AND NEW.status IN ({', '.join(repr(t) for t in targets)}))"
        for source, targets in REQUEST_TRANSITIONS.items()
    )
    op.execute(
        f"""
        CREATE FUNCTION tagen_request_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status IS DISTINCT FROM OLD.status AND NOT ({allowed}) THEN
                RAISE EXCEPTION 'invalid request status transition % -> %', OLD.status, NEW.status
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_requests_status_guard BEFORE UPDATE OF status ON requests "
        "FOR EACH ROW EXECUTE FUNCTION tagen_request_status_guard()"
    )


def _drop_functions_and_triggers() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_requests_status_guard ON requests")
    op.execute("DROP FUNCTION IF EXISTS tagen_request_status_guard()")
    op.execute("DROP TRIGGER IF EXISTS trg_audit_logs_no_truncate ON audit_logs")
    op.execute("DROP TRIGGER IF EXISTS trg_audit_logs_append_only ON audit_logs")
    op.execute("DROP FUNCTION IF EXISTS tagen_audit_logs_append_only()")
    for table in TABLES_WITH_UPDATED_AT:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_updated_at ON {table}")
    op.execute("DROP FUNCTION IF EXISTS tagen_set_updated_at()")


def upgrade() -> None:
    _create_optional_extensions()
    bind = op.get_bind()
    for enum_type in ENUMS:
        enum_type.create(bind, checkfirst=False)

    op.create_table(
        "roles",
        sa.Column("name", USER_ROLE, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "permissions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        *_id_and_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=True),
        sa.Column(
            "auth_provider", sa.String(length=50), server_default=sa.text("'local'"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        *_id_and_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint(
            "auth_provider", "external_id", name="uq_users_auth_provider_external_id"
        ),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(
        "ix_users_email_auth_provider", "users", ["email", "auth_provider"], unique=False
    )
    op.create_index(op.f("ix_users_external_id"), "users", ["external_id"], unique=False)
    op.create_table(
        "audit_logs",
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("action", AUDIT_ACTION, nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=False),
        sa.Column("entity_id", sa.String(length=255), nullable=True),
        _json_object("details"),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=1000), nullable=True),
        sa.Column("correlation_id", sa.String(length=255), nullable=True),
        sa.Column(
            "timestamp",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_logs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    op.create_index(
        op.f("ix_audit_logs_correlation_id"), "audit_logs", ["correlation_id"], unique=False
    )
    op.create_index(
        "ix_audit_logs_entity_type_entity_id",
        "audit_logs",
        ["entity_type", "entity_id"],
        unique=False,
    )
    op.create_index(op.f("ix_audit_logs_timestamp"), "audit_logs", ["timestamp"], unique=False)
    op.create_index(
        "ix_audit_logs_user_id_timestamp", "audit_logs", ["user_id", "timestamp"], unique=False
    )
    op.create_table(
        "knowledge_documents",
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("document_type", sa.String(length=50), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("uploaded_by", sa.UUID(), nullable=True),
        sa.Column(
            "pinecone_indexed", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("embedding_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("index_name", sa.String(length=255), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _json_object("metadata"),
        *_id_and_timestamps(),
        sa.CheckConstraint(
            "embedding_count >= 0", name=op.f("ck_knowledge_documents_embedding_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_knowledge_documents_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_documents")),
    )
    op.create_index(
        op.f("ix_knowledge_documents_content_hash"),
        "knowledge_documents",
        ["content_hash"],
        unique=False,
    )
    op.create_index(
        op.f("ix_knowledge_documents_document_type"),
        "knowledge_documents",
        ["document_type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_knowledge_documents_is_active"), "knowledge_documents", ["is_active"], unique=False
    )
    op.create_index(
        op.f("ix_knowledge_documents_pinecone_indexed"),
        "knowledge_documents",
        ["pinecone_indexed"],
        unique=False,
    )
    op.create_table(
        "requests",
        sa.Column("requester_id", sa.UUID(), nullable=False),
        sa.Column("source_system", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("cim_required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", REQUEST_STATUS, server_default=sa.text("'NEW'"), nullable=False),
        sa.Column("approved_by", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        _json_object("metadata"),
        *_id_and_timestamps(),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["users.id"],
            name=op.f("fk_requests_approved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["users.id"],
            name=op.f("fk_requests_requester_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_requests_idempotency_key")),
    )
    op.create_index("ix_requests_created_at", "requests", ["created_at"], unique=False)
    op.create_index(op.f("ix_requests_requester_id"), "requests", ["requester_id"], unique=False)
    op.create_index(op.f("ix_requests_status"), "requests", ["status"], unique=False)
    op.create_table(
        "system_config",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column(
            "value_type", CONFIG_VALUE_TYPE, server_default=sa.text("'string'"), nullable=False
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_secret", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        *_id_and_timestamps(),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_system_config_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_config")),
        sa.UniqueConstraint("key", name=op.f("uq_system_config_key")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column("assigned_by", sa.UUID(), nullable=True),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        *_id_and_timestamps(),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_user_roles_assigned_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_user_roles_role_id_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_roles")),
        sa.UniqueConstraint("user_id", "role_id", name=op.f("uq_user_roles_user_id_role_id")),
    )
    op.create_index(op.f("ix_user_roles_role_id"), "user_roles", ["role_id"], unique=False)
    op.create_table(
        "log_samples",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("storage_bucket", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("sample_preview", sa.Text(), nullable=True),
        sa.Column("retention_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        _json_object("metadata"),
        *_id_and_timestamps(),
        sa.CheckConstraint(
            "checksum ~ '^[0-9a-f]{64}$'", name=op.f("ck_log_samples_checksum_sha256_hex")
        ),
        sa.CheckConstraint("file_size >= 0", name=op.f("ck_log_samples_file_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_log_samples_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_samples")),
    )
    op.create_index(op.f("ix_log_samples_request_id"), "log_samples", ["request_id"], unique=False)
    op.create_index(
        op.f("ix_log_samples_retention_until"), "log_samples", ["retention_until"], unique=False
    )
    op.create_index(
        op.f("ix_log_samples_storage_key"), "log_samples", ["storage_key"], unique=False
    )
    op.create_table(
        "ta_revisions",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "revision_type", TA_REVISION_TYPE, server_default=sa.text("'AUTO'"), nullable=False
        ),
        sa.Column("storage_bucket", sa.String(length=255), nullable=True),
        sa.Column("storage_key", sa.String(length=1024), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        _json_object("config_summary"),
        _json_object("generation_metadata"),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *_id_and_timestamps(),
        sa.CheckConstraint(
            "file_size IS NULL OR file_size >= 0",
            name=op.f("ck_ta_revisions_file_size_non_negative"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_ta_revisions_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ta_revisions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_ta_revisions_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ta_revisions")),
        sa.UniqueConstraint(
            "request_id", "version", name=op.f("uq_ta_revisions_request_id_version")
        ),
    )
    op.create_table(
        "validation_runs",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("revision_id", sa.UUID(), nullable=False),
        sa.Column("status", VALIDATION_STATUS, server_default=sa.text("'QUEUED'"), nullable=False),
        sa.Column("container_id", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("results_json", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("debug_bundle_key", sa.String(length=1024), nullable=True),
        sa.Column("debug_bundle_bucket", sa.String(length=255), nullable=True),
        *_id_and_timestamps(),
        sa.CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0",
            name=op.f("ck_validation_runs_duration_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_validation_runs_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["ta_revisions.id"],
            name=op.f("fk_validation_runs_revision_id_ta_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_runs")),
    )
    op.create_index(
        op.f("ix_validation_runs_request_id"), "validation_runs", ["request_id"], unique=False
    )
    op.create_index(
        op.f("ix_validation_runs_revision_id"), "validation_runs", ["revision_id"], unique=False
    )
    op.create_index(
        op.f("ix_validation_runs_started_at"), "validation_runs", ["started_at"], unique=False
    )
    op.create_index(op.f("ix_validation_runs_status"), "validation_runs", ["status"], unique=False)

    _create_functions_and_triggers()


def downgrade() -> None:
    _drop_functions_and_triggers()
    op.drop_index(op.f("ix_validation_runs_status"), table_name="validation_runs")
    op.drop_index(op.f("ix_validation_runs_started_at"), table_name="validation_runs")
    op.drop_index(op.f("ix_validation_runs_revision_id"), table_name="validation_runs")
    op.drop_index(op.f("ix_validation_runs_request_id"), table_name="validation_runs")
    op.drop_table("validation_runs")
    op.drop_table("ta_revisions")
    op.drop_index(op.f("ix_log_samples_storage_key"), table_name="log_samples")
    op.drop_index(op.f("ix_log_samples_retention_until"), table_name="log_samples")
    op.drop_index(op.f("ix_log_samples_request_id"), table_name="log_samples")
    op.drop_table("log_samples")
    op.drop_index(op.f("ix_user_roles_role_id"), table_name="user_roles")
    op.drop_table("user_roles")
    op.drop_table("system_config")
    op.drop_index(op.f("ix_requests_status"), table_name="requests")
    op.drop_index(op.f("ix_requests_requester_id"), table_name="requests")
    op.drop_index("ix_requests_created_at", table_name="requests")
    op.drop_table("requests")
    op.drop_index(op.f("ix_knowledge_documents_pinecone_indexed"), table_name="knowledge_documents")
    op.drop_index(op.f("ix_knowledge_documents_is_active"), table_name="knowledge_documents")
    op.drop_index(op.f("ix_knowledge_documents_document_type"), table_name="knowledge_documents")
    op.drop_index(op.f("ix_knowledge_documents_content_hash"), table_name="knowledge_documents")
    op.drop_table("knowledge_documents")
    op.drop_index("ix_audit_logs_user_id_timestamp", table_name="audit_logs")
    op.drop_index(op.f("ix_audit_logs_timestamp"), table_name="audit_logs")
    op.drop_index("ix_audit_logs_entity_type_entity_id", table_name="audit_logs")
    op.drop_index(op.f("ix_audit_logs_correlation_id"), table_name="audit_logs")
    op.drop_table("audit_logs")
    op.drop_index(op.f("ix_users_external_id"), table_name="users")
    op.drop_index("ix_users_email_auth_provider", table_name="users")
    op.drop_table("users")
    op.drop_table("roles")
    bind = op.get_bind()
    for enum_type in ENUMS:
        enum_type.drop(bind, checkfirst=False)
    for name in OPTIONAL_EXTENSIONS:
        # Only those this role may drop: an owner role that is no superuser cannot drop
        # pgvector, which a superuser created for it (not a trusted extension).
        op.execute(
            f"""
            DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = '{name}'
                           AND pg_has_role(extowner, 'USAGE')) THEN
                    DROP EXTENSION "{name}";
                END IF;
            END $$
            """
        )

"""Transcripts of AI-assisted generation, and the shared circuit-breaker state.

generation_sessions: one per TA revision (unique ta_revision_id: a retried generation task
records it once), with the planner that made it (check: 'llm' or 'rules'), the model, whether
the material sent was redacted, token usage, latency and the proposals kept and rejected.
generation_messages: one per question of a session (unique per session and sequence), holding
the messages as sent, the structured answer or error and the proposals' verdicts; deleted with
their session, their revision or their request (ON DELETE CASCADE), and by retention with the
samples. circuit_breakers: one row per external provider, updated under a row lock.
Reviewed by hand; downgrade drops the three tables (their rows are records, not inputs).

The application role gets DML on the three tables from 0005's default privileges.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("generation_sessions", "generation_messages", "circuit_breakers")


def _timestamps() -> list[sa.Column[object]]:
    return [
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


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False)


def _count(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def _jsonb(name: str, *, default: str | None, nullable: bool) -> sa.Column[object]:
    return sa.Column(
        name,
        postgresql.JSONB(astext_type=sa.Text()),
        server_default=sa.text(default) if default else None,
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "generation_sessions",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("ta_revision_id", sa.UUID(), nullable=False),
        sa.Column("planner", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("redacted", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        _count("prompt_tokens"),
        _count("completion_tokens"),
        _count("latency_ms"),
        _count("proposals_accepted"),
        _count("proposals_rejected"),
        _jsonb("summary", default="'{}'::jsonb", nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        _id(),
        *_timestamps(),
        sa.CheckConstraint(
            "planner IN ('llm', 'rules')", name=op.f("ck_generation_sessions_planner_known")
        ),
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND latency_ms >= 0",
            name=op.f("ck_generation_sessions_usage_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_generation_sessions_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ta_revision_id"],
            ["ta_revisions.id"],
            name=op.f("fk_generation_sessions_ta_revision_id_ta_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_sessions")),
        sa.UniqueConstraint("ta_revision_id", name=op.f("uq_generation_sessions_ta_revision_id")),
    )
    op.create_index(
        op.f("ix_generation_sessions_request_id"),
        "generation_sessions",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "generation_messages",
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("prompt_version", sa.String(length=64), nullable=False),
        sa.Column("response_mode", sa.String(length=32), nullable=True),
        _jsonb("messages", default=None, nullable=False),
        _jsonb("answer", default=None, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _count("prompt_tokens"),
        _count("completion_tokens"),
        _count("latency_ms"),
        _count("attempts"),
        _jsonb("verdicts", default="'[]'::jsonb", nullable=False),
        _id(),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["generation_sessions.id"],
            name=op.f("fk_generation_messages_session_id_generation_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_messages")),
        sa.UniqueConstraint(
            "session_id", "sequence", name=op.f("uq_generation_messages_session_id_sequence")
        ),
    )
    op.create_index(
        op.f("ix_generation_messages_session_id"),
        "generation_messages",
        ["session_id"],
        unique=False,
    )
    op.create_table(
        "circuit_breakers",
        sa.Column("provider", sa.String(length=32), nullable=False),
        _count("failures"),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_circuit_breakers_failures_non_negative")),
        sa.PrimaryKeyConstraint("provider", name=op.f("pk_circuit_breakers")),
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tagen_set_updated_at()"
        )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_updated_at ON {table}")
    op.drop_table("circuit_breakers")
    op.drop_index(op.f("ix_generation_messages_session_id"), table_name="generation_messages")
    op.drop_table("generation_messages")
    op.drop_index(op.f("ix_generation_sessions_request_id"), table_name="generation_sessions")
    op.drop_table("generation_sessions")

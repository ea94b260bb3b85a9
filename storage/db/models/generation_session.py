"""Transcripts of AI-assisted generation: one session per TA revision, one message per question.

A session records which planner made the revision (``llm`` or ``rules``, and why the rules when
a model was configured: kill switch, open circuit, failures), the model, whether the material
sent was redacted, the token usage and latency, and how many proposals the sandbox kept. Its
messages hold what was sent (redacted unless raw sending was configured), the structured answer
or the error, and each proposal with its verdict. Messages carry sample excerpts, so retention
deletes them with the samples (``purged_at`` then says when); the session's counts stay.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db.base import Base, JsonObject, TimestampMixin, UUIDPrimaryKeyMixin, owned_rows

PLANNERS = ("llm", "rules")


class GenerationSession(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    __tablename__ = "generation_sessions"
    __table_args__ = (
        CheckConstraint(f"planner IN {PLANNERS!r}", name="planner_known"),
        CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND latency_ms >= 0",
            name="usage_non_negative",
        ),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    ta_revision_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ta_revisions.id", ondelete="CASCADE"), unique=True
    )
    planner: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(255))
    redacted: Mapped[bool] = mapped_column(server_default=text("true"))
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    """Why the rules made the revision although a model was configured (None otherwise)."""
    prompt_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    latency_ms: Mapped[int] = mapped_column(server_default=text("0"))
    proposals_accepted: Mapped[int] = mapped_column(server_default=text("0"))
    proposals_rejected: Mapped[int] = mapped_column(server_default=text("0"))
    summary: Mapped[JsonObject]
    purged_at: Mapped[datetime | None]

    messages: Mapped[list[GenerationMessage]] = owned_rows(
        back_populates="session", order_by="GenerationMessage.sequence"
    )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class GenerationMessage(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """One question of a session: messages as sent, the answer (or error), its proposals."""

    __tablename__ = "generation_messages"
    __table_args__ = (UniqueConstraint("session_id", "sequence"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("generation_sessions.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int]
    task: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(64))
    response_mode: Mapped[str | None] = mapped_column(String(32))
    messages: Mapped[list[Any]]
    answer: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(server_default=text("0"))
    latency_ms: Mapped[int] = mapped_column(server_default=text("0"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    verdicts: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))

    session: Mapped[GenerationSession] = relationship(back_populates="messages", lazy="raise")

"""The shared circuit-breaker state of each external provider (see :mod:`storage.breaker`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db.base import Base, TimestampMixin


class CircuitBreakerState(TimestampMixin, Base):
    """One row per provider (``llm``, ``embeddings``, ``pinecone``), written under a row lock."""

    __tablename__ = "circuit_breakers"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_non_negative"),)

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(server_default=text("0"))
    open_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

"""Generation sessions and their messages: recorded once per revision, read for status and
artifacts, their messages purged with the samples."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import selectinload

from storage.db.models.generation_session import GenerationMessage, GenerationSession
from storage.db.repositories.base import BaseRepository


@dataclass(frozen=True)
class MessageRecord:
    """One question of a session as the generator recorded it."""

    task: str
    prompt_version: str
    messages: list[dict[str, str]]
    answer: dict[str, Any] | None = None
    error: str | None = None
    response_mode: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    attempts: int = 0
    verdicts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SessionRecord:
    """A whole session: who planned the revision, at what cost, and its messages."""

    request_id: uuid.UUID
    ta_revision_id: uuid.UUID
    planner: str
    model: str | None = None
    redacted: bool = True
    fallback_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    proposals_accepted: int = 0
    proposals_rejected: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    messages: Sequence[MessageRecord] = ()


class GenerationSessionRepository(BaseRepository[GenerationSession]):
    model = GenerationSession
    default_order = "created_at"

    async def record(self, record: SessionRecord) -> tuple[GenerationSession, bool]:
        """The revision's session, written once (INSERT ... ON CONFLICT DO NOTHING on the
        revision): a retried task gets the first one back. Returns (session, created)."""
        row = {
            "request_id": record.request_id,
            "ta_revision_id": record.ta_revision_id,
            "planner": record.planner,
            "model": record.model,
            "redacted": record.redacted,
            "fallback_reason": record.fallback_reason,
            "prompt_tokens": record.prompt_tokens,
            "completion_tokens": record.completion_tokens,
            "latency_ms": record.latency_ms,
            "proposals_accepted": record.proposals_accepted,
            "proposals_rejected": record.proposals_rejected,
            "summary": record.summary,
        }
        stmt = (
            pg_insert(cast(Table, GenerationSession.__table__))
            .values(row)
            .on_conflict_do_nothing(index_elements=["ta_revision_id"])
            .returning(GenerationSession.id)
        )
        async with self._write():
            new_id = (await self.session.execute(stmt)).scalar_one_or_none()
            if new_id is not None and record.messages:
                await self.session.execute(
                    insert(GenerationMessage),
                    [
                        {
                            "session_id": new_id,
                            "sequence": sequence,
                            "task": message.task,
                            "prompt_version": message.prompt_version,
                            "response_mode": message.response_mode,
                            "messages": message.messages,
                            "answer": message.answer,
                            "error": message.error,
                            "prompt_tokens": message.prompt_tokens,
                            "completion_tokens": message.completion_tokens,
                            "latency_ms": message.latency_ms,
                            "attempts": message.attempts,
                            "verdicts": message.verdicts,
                        }
                        for sequence, message in enumerate(record.messages, 1)
                    ],
                )
        found = await self.get_for_revision(record.ta_revision_id)
        assert found is not None  # inserted above or already present
        return found, new_id is not None

    async def get_for_revision(self, revision_id: uuid.UUID) -> GenerationSession | None:
        return await self.session.scalar(
            select(GenerationSession)
            .where(GenerationSession.ta_revision_id == revision_id)
            .execution_options(populate_existing=True)
        )

    async def get_for_request(self, request_id: uuid.UUID) -> list[GenerationSession]:
        """The request's sessions, oldest first."""
        return await self.get_all(0, 1000, filters={"request_id": request_id})

    async def get_with_messages(self, session_id: uuid.UUID) -> GenerationSession:
        found = await self.session.scalar(
            select(GenerationSession)
            .where(GenerationSession.id == session_id)
            .options(selectinload(GenerationSession.messages))
            .execution_options(populate_existing=True)
        )
        if found is None:
            return await self.get(session_id)  # raises NotFoundError
        return found

    async def tokens_used(self, request_id: uuid.UUID) -> int:
        """Prompt and completion tokens of all the request's sessions (its token budget)."""
        total = await self.session.scalar(
            select(
                func.coalesce(
                    func.sum(GenerationSession.prompt_tokens + GenerationSession.completion_tokens),
                    0,
                )
            ).where(GenerationSession.request_id == request_id)
        )
        return int(total or 0)

    async def purge_messages(self, request_id: uuid.UUID) -> int:
        """Delete the messages of the request's sessions (they quote its samples) and stamp
        the sessions purged; returns how many messages went."""
        sessions = select(GenerationSession.id).where(GenerationSession.request_id == request_id)
        async with self._write():
            result = await self.session.execute(
                delete(GenerationMessage).where(GenerationMessage.session_id.in_(sessions))
            )
            await self.session.execute(
                update(GenerationSession)
                .where(
                    GenerationSession.request_id == request_id,
                    GenerationSession.purged_at.is_(None),
                )
                .values(purged_at=func.clock_timestamp())
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0) or 0)

"""Which planner generates a revision, and the record of its session (the transcript).

The LLM is asked only when it is configured (a key, and a model from SystemConfig
``LLM_MODEL`` or the environment), enabled (SystemConfig ``AI_GENERATION_ENABLED``, the kill
switch, read at each generation), its circuit is closed (the state shared by every process, in
``circuit_breakers``) and the request's token budget (``LLM_TOKEN_BUDGET`` over all its
revisions) is not used up. Otherwise the rules generate, and the session says why. After the
generation the session, its messages and the breaker's outcome are written in one unit of
work with an audit entry: which planner, which model, whether the samples were sent redacted,
and why the rules were kept when a model was configured.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any

from engine.generator.model import GenerationResult
from engine.generator.planner import Planner, RulePlanner
from storage.breaker import LLM, CircuitBreaker
from storage.db.enums import AuditAction, AuditEntity
from storage.db.models import GenerationSession
from storage.db.repositories.generation_session import MessageRecord, SessionRecord
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import get_backends
from tasks.runtime import audit

AI_GENERATION_ENABLED = "AI_GENERATION_ENABLED"
LLM_MODEL = "LLM_MODEL"
LLM_SEND_RAW = "LLM_SEND_RAW"
LLM_TOKEN_BUDGET = "LLM_TOKEN_BUDGET"
MIN_BUDGET = 1_000
"""Tokens left below which a revision is not worth a session."""
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class PlannerChoice:
    """The planner for one revision; ``fallback`` says why the rules when a model was
    configured (None: the LLM, or no model at all)."""

    planner: Planner
    model: str | None = None
    redacted: bool = True
    fallback: str | None = None
    breaker: CircuitBreaker | None = None


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in _FALSE


async def choose_planner(uow: UnitOfWork, request_id: uuid.UUID) -> PlannerChoice:
    provider = get_backends().llm
    model = await uow.config.get_value(LLM_MODEL) or (provider.model if provider else None)
    if provider is None or not provider.has_key or not model:
        return PlannerChoice(RulePlanner())
    model = str(model)
    if not _flag(await uow.config.get_value(AI_GENERATION_ENABLED), True):
        return PlannerChoice(
            RulePlanner(),
            model,
            fallback=f"AI generation is switched off ({AI_GENERATION_ENABLED})",
        )
    breaker = CircuitBreaker(LLM, provider.breaker_policy, state=await uow.breakers.get_state(LLM))
    if breaker.seconds_open() > 0:
        return PlannerChoice(
            RulePlanner(),
            model,
            fallback=f"the LLM circuit is open for another {breaker.seconds_open():.0f} s",
        )
    budget = int(await uow.config.get_value(LLM_TOKEN_BUDGET, provider.token_budget))
    left = budget - await uow.generation_sessions.tokens_used(request_id)
    if left < MIN_BUDGET:
        return PlannerChoice(
            RulePlanner(),
            model,
            fallback=f"the request's token budget is used up ({budget - left} of {budget})",
        )
    send_raw = _flag(await uow.config.get_value(LLM_SEND_RAW), provider.send_raw)
    planner = provider.planner(model=model, send_raw=send_raw, token_budget=left, breaker=breaker)
    return PlannerChoice(planner, model, redacted=not send_raw, breaker=breaker)


def _fallback(choice: PlannerChoice, result: GenerationResult) -> str | None:
    """Why the rules' TA was kept although the LLM was asked (all failed, open circuit...)."""
    transcript = result.transcript
    if choice.fallback is not None or transcript is None or result.assisted:
        return choice.fallback
    if transcript.exchanges and transcript.failed == len(transcript.exchanges):
        errors = [e.error for e in transcript.exchanges if e.error]
        return f"every question to the model failed (last: {errors[-1]})"
    return transcript.stopped or transcript.combined


def session_record(
    request_id: uuid.UUID, revision_id: uuid.UUID, choice: PlannerChoice, result: GenerationResult
) -> SessionRecord:
    transcript = result.transcript
    record = SessionRecord(
        request_id=request_id,
        ta_revision_id=revision_id,
        planner="rules",
        model=choice.model,
        redacted=choice.redacted,
        fallback_reason=choice.fallback,
    )
    if transcript is None:
        return record
    usage = transcript.usage
    summary = transcript.summary()
    return replace(
        record,
        planner="llm",
        model=transcript.model,
        redacted=transcript.redacted,
        fallback_reason=_fallback(choice, result),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_ms=transcript.latency_ms,
        proposals_accepted=summary["accepted"],
        proposals_rejected=summary["rejected"],
        summary={**summary, "assisted": list(result.assisted)},
        messages=[
            MessageRecord(
                task=exchange.task,
                prompt_version=exchange.prompt_version,
                messages=[{"role": m.role, "content": m.content} for m in exchange.messages],
                answer=exchange.answer,
                error=exchange.error,
                response_mode=exchange.mode,
                prompt_tokens=exchange.usage.prompt_tokens,
                completion_tokens=exchange.usage.completion_tokens,
                latency_ms=exchange.latency_ms,
                attempts=exchange.attempts,
                verdicts=[asdict(verdict) for verdict in exchange.verdicts],
            )
            for exchange in transcript.exchanges
        ],
    )


async def write_session(
    uow: UnitOfWork,
    revision_id: uuid.UUID,
    *,
    request_id: uuid.UUID,
    choice: PlannerChoice,
    result: GenerationResult,
) -> None:
    """Write the session, merge the breaker's outcome and audit, in the unit of work that
    records the revision (``store_revision``'s ``with_revision``): a retried task finds both
    or neither."""
    record = session_record(request_id, revision_id, choice, result)
    session, created = await uow.generation_sessions.record(record)
    if created:
        if choice.breaker is not None:
            await uow.breakers.merge(LLM, choice.breaker.outcome())
        await audit(
            uow,
            action=AuditAction.CREATE,
            entity=AuditEntity.GENERATION_SESSION,
            entity_id=session.id,
            details={
                "request_id": str(request_id),
                "ta_revision_id": str(revision_id),
                "planner": record.planner,
                "model": record.model,
                "samples_sent": "redacted" if record.redacted else "raw",
                "fallback": record.fallback_reason,
                "tokens": record.prompt_tokens + record.completion_tokens,
                "proposals_accepted": record.proposals_accepted,
                "proposals_rejected": record.proposals_rejected,
            },
        )


def describe_session(session: GenerationSession) -> str:
    """One line for status output and reports."""
    if session.planner == "rules":
        if session.fallback_reason:
            return f"rules ({session.fallback_reason}; model {session.model})"
        return "rules (no LLM configured)"
    sent = "redacted" if session.redacted else "raw"
    summary = session.summary or {}
    line = (
        f"llm {session.model} ({sent} samples): {summary.get('exchanges', 0)} questions, "
        f"{session.total_tokens} tokens, {session.latency_ms} ms, "
        f"{session.proposals_accepted} of "
        f"{session.proposals_accepted + session.proposals_rejected} proposals kept"
    )
    if session.fallback_reason:
        line += f"; rules kept: {session.fallback_reason}"
    if session.purged_at is not None:
        line += "; messages purged by retention"
    return line

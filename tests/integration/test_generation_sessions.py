"""Transcripts and circuit-breaker state in PostgreSQL, and which planner a revision gets."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from engine.generator.llm.planner import LlmPlanner
from engine.generator.planner import RulePlanner
from storage.breaker import LLM, BreakerOutcome, BreakerState
from storage.db.errors import ConstraintViolationError
from storage.db.repositories.generation_session import MessageRecord, SessionRecord
from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import Builder


def _record(request_id: uuid.UUID, revision_id: uuid.UUID, **changes: Any) -> SessionRecord:
    record = SessionRecord(
        request_id=request_id,
        ta_revision_id=revision_id,
        planner="llm",
        model="m1",
        prompt_tokens=120,
        completion_tokens=30,
        latency_ms=45,
        proposals_accepted=1,
        proposals_rejected=2,
        summary={"exchanges": 2},
        messages=[
            MessageRecord(
                task="field_names",
                prompt_version="field_names@2",
                messages=[{"role": "user", "content": "f1 | value | user-1"}],
                answer={"renames": []},
                prompt_tokens=100,
                completion_tokens=20,
                verdicts=[{"kind": "field_name", "accepted": False, "reason": "x"}],
            ),
            MessageRecord(
                task="description",
                prompt_version="description@1",
                messages=[{"role": "user", "content": "events"}],
                error="timeout: no answer within 5.0 s",
                attempts=3,
            ),
        ],
    )
    return replace(record, **changes)


async def test_a_session_is_recorded_once_per_revision_with_its_messages(
    uow: UnitOfWork, build: Builder
) -> None:
    request = await build.request()
    revision = await build.revision(request)
    session, created = await uow.generation_sessions.record(_record(request.id, revision.id))
    again, created_again = await uow.generation_sessions.record(
        _record(request.id, revision.id, model="another")
    )
    assert created and not created_again and again.id == session.id and again.model == "m1"
    full = await uow.generation_sessions.get_with_messages(session.id)
    assert [(m.sequence, m.task) for m in full.messages] == [(1, "field_names"), (2, "description")]
    assert full.messages[0].answer == {"renames": []} and full.messages[1].attempts == 3
    assert full.total_tokens == 150


async def test_token_use_adds_up_over_the_request_s_revisions(
    uow: UnitOfWork, build: Builder
) -> None:
    request = await build.request()
    first, second = await build.revision(request), await build.revision(request)
    await uow.generation_sessions.record(_record(request.id, first.id))
    await uow.generation_sessions.record(_record(request.id, second.id, prompt_tokens=10))
    assert await uow.generation_sessions.tokens_used(request.id) == 150 + 40
    assert await uow.generation_sessions.tokens_used(uuid.uuid4()) == 0


async def test_purging_deletes_the_messages_and_keeps_the_counts(
    uow: UnitOfWork, build: Builder
) -> None:
    request = await build.request()
    await uow.generation_sessions.record(_record(request.id, (await build.revision(request)).id))
    assert await uow.generation_sessions.purge_messages(request.id) == 2
    assert await uow.generation_sessions.purge_messages(request.id) == 0
    [kept] = await uow.generation_sessions.get_for_request(request.id)
    full = await uow.generation_sessions.get_with_messages(kept.id)
    assert full.messages == [] and full.purged_at is not None and full.proposals_rejected == 2


async def test_the_schema_refuses_an_unknown_planner(uow: UnitOfWork, build: Builder) -> None:
    request = await build.request()
    with pytest.raises(ConstraintViolationError, match="planner_known"):
        await uow.generation_sessions.record(
            _record(request.id, (await build.revision(request)).id, planner="magic")
        )


async def test_breaker_outcomes_merge_across_runs(uow: UnitOfWork) -> None:
    provider = f"test-{uuid.uuid4().hex[:8]}"
    assert await uow.breakers.get_state(provider) == BreakerState()
    soon = time.time() + 60
    # Two runs that only failed: their failures add up, the later opening time wins.
    await uow.breakers.merge(provider, BreakerOutcome(False, 2, BreakerState(2, None), "500"))
    state = await uow.breakers.merge(
        provider, BreakerOutcome(False, 1, BreakerState(3, soon), "timeout")
    )
    assert state.failures == 3 and state.open_until == pytest.approx(soon, abs=0.01)
    # A run that got through resets the count to its own trailing failures.
    state = await uow.breakers.merge(provider, BreakerOutcome(True, 0, BreakerState(), None))
    assert state == BreakerState() == await uow.breakers.get_state(provider)
    unused = BreakerOutcome(False, 0, BreakerState(), None)
    assert await uow.breakers.merge(provider, unused) == BreakerState()


@pytest.fixture
def llm_backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Backends whose LLM provider has a key and a model (nothing is asked in these tests),
    for this test only."""
    from storage.objects import LocalObjectStore
    from tagen.llm import LlmSettings, OpenAIProvider
    from tasks import backends as task_backends
    from tests.flows.conftest import local_backends

    settings = LlmSettings(
        OPENAI_API_KEY="sk-x", OPENAI_BASE_URL="http://127.0.0.1:9/v1", model="m"
    )
    backends = replace(
        local_backends(LocalObjectStore(root=tmp_path)), llm=OpenAIProvider(settings)
    )
    monkeypatch.setattr(task_backends, "_factory", lambda: backends)
    monkeypatch.setattr(task_backends, "_built", backends)


@pytest.mark.usefixtures("llm_backends", "empty_db")
async def test_the_planner_choice_follows_system_config_breaker_and_budget(
    uow: UnitOfWork, build: Builder
) -> None:
    from tasks.generation_session import choose_planner

    request = await build.request()
    choice = await choose_planner(uow, request.id)
    assert isinstance(choice.planner, LlmPlanner) and choice.model == "m" and choice.redacted

    await uow.config.set_value("LLM_MODEL", "from-config")
    await uow.config.set_value("LLM_SEND_RAW", True, "boolean")
    choice = await choose_planner(uow, request.id)
    assert choice.model == "from-config" and not choice.redacted

    await uow.config.set_value("AI_GENERATION_ENABLED", "false")
    choice = await choose_planner(uow, request.id)
    assert isinstance(choice.planner, RulePlanner) and "switched off" in (choice.fallback or "")
    await uow.config.set_value("AI_GENERATION_ENABLED", True, "boolean")

    await uow.breakers.merge(
        LLM, BreakerOutcome(False, 3, BreakerState(3, time.time() + 120), "500")
    )
    choice = await choose_planner(uow, request.id)
    assert isinstance(choice.planner, RulePlanner) and "circuit is open" in (choice.fallback or "")
    await uow.breakers.merge(LLM, BreakerOutcome(True, 0, BreakerState(), None))

    await uow.config.set_value("LLM_TOKEN_BUDGET", 200, "integer")
    await uow.generation_sessions.record(_record(request.id, (await build.revision(request)).id))
    choice = await choose_planner(uow, request.id)
    assert isinstance(choice.planner, RulePlanner) and "token budget" in (choice.fallback or "")

"""The lifecycle with an LLM configured (the real `openai` client against the loopback server):
transcripts in PostgreSQL, the status line and artifact, the kill switch, retention."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.fakes.openai_server import OpenAIServer
from tests.flows.conftest import SAMPLE, FlowThread, resume, run, set_config
from tests.llm.conftest import MODEL, llm_settings

pytestmark = pytest.mark.usefixtures("lifecycle_env")
ABOUT = "Access logs of the shop's web server: one line per HTTP request it answered."


@pytest.fixture
def server(backends: Any) -> Iterator[OpenAIServer]:
    """The loopback server, and the test backends with an LLM provider pointed at it."""
    from tagen.llm import OpenAIProvider
    from tasks import backends as task_backends

    with OpenAIServer().running() as running:
        task_backends.install(replace(backends, llm=OpenAIProvider(llm_settings(running))))
        try:
            yield running
        finally:
            task_backends.install(backends)


def _complete_request(source_system: str) -> str:
    flow = FlowThread(requester="req-ann", source_system=source_system, samples=[str(SAMPLE)])
    request_id, flow_run_id = flow.request_and_run()
    flow.wait_paused(flow_run_id, key="approval-1")
    resume(flow_run_id, approved=True, approver="appr-bob", reason="ok")
    result = flow.join()
    assert result["status"] == "COMPLETED", result
    return request_id


async def _sessions(request_id: str) -> list[Any]:
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        sessions = await uow.generation_sessions.get_for_request(uuid.UUID(request_id))
        full = [await uow.generation_sessions.get_with_messages(s.id) for s in sessions]
        audit = [
            entry
            for session in sessions
            for entry in await uow.audit.get_by_entity("generation_session", session.id)
        ]
        return [(session, list(session.messages)) for session in full], audit


async def _set_flag(key: str, value: bool | None) -> None:
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        if value is None:
            entry = await uow.config.get_by_key(key)
            if entry is not None:
                await uow.session.delete(entry)
        else:
            await uow.config.set_value(key, value, "boolean")
        await uow.commit()


def test_a_generation_asks_the_llm_records_its_transcript_and_retention_purges_it(
    server: OpenAIServer,
) -> None:
    from flows.retention import retention
    from tasks.artifacts import publish_report

    server.answer("DescriptionAnswer", {"description": ABOUT})
    run(set_config("SAMPLE_RETENTION_DAYS", -1))
    try:
        request_id = _complete_request("shop nginx with ai")
    finally:
        run(set_config("SAMPLE_RETENTION_DAYS", 30))

    [(session, messages)], audit = run(_sessions(request_id))
    assert (session.planner, session.model, session.redacted) == ("llm", MODEL, True)
    assert session.fallback_reason is None and session.proposals_accepted >= 1
    assert session.total_tokens > 0 and len(messages) == len(server.chat_bodies())
    description = next(m for m in messages if m.task == "description")
    assert description.prompt_version.startswith("description@")
    assert description.answer == {"description": ABOUT}
    assert description.verdicts[0]["accepted"] is True
    stored = json.dumps([m.messages for m in messages])
    client_ips = set(re.findall(r"^(\d+\.\d+\.\d+\.\d+) ", SAMPLE.read_text(), re.M))
    assert client_ips and not any(ip in stored for ip in client_ips)
    [entry] = audit
    assert entry.details["planner"] == "llm" and entry.details["samples_sent"] == "redacted"

    report = run(publish_report(request_id))
    assert "## Planner (AI transcripts)" in report and f"llm {MODEL} (redacted samples)" in report

    run(retention(dry_run=False))
    [(session, messages)], _ = run(_sessions(request_id))
    assert messages == [] and session.purged_at is not None
    assert session.proposals_accepted >= 1  # the counts stay

    from typer.testing import CliRunner

    from tagen.cli import _register, app

    if not any(group.name == "request" for group in app.registered_groups):
        _register()
    status = CliRunner().invoke(app, ["request", "status", request_id])
    assert status.exit_code == 0, status.output
    assert f"planner: llm {MODEL} (redacted samples)" in status.output
    assert "messages purged by retention" in status.output


def test_the_kill_switch_is_honoured_at_the_next_generation(server: OpenAIServer) -> None:
    run(_set_flag("AI_GENERATION_ENABLED", False))
    try:
        request_id = _complete_request("shop nginx, ai off")
    finally:
        run(_set_flag("AI_GENERATION_ENABLED", None))
    [(session, messages)], [entry] = run(_sessions(request_id))
    assert session.planner == "rules" and messages == []
    assert "AI_GENERATION_ENABLED" in (session.fallback_reason or "")
    assert "AI_GENERATION_ENABLED" in entry.details["fallback"]
    assert server.chat_bodies() == []  # nothing was asked


@pytest.fixture
def messages_fail_once(pg_server: Any) -> Iterator[None]:
    """The next INSERT into generation_messages fails (a real PostgreSQL error, raised by a
    trigger once), as a connection lost while the transcript is written would."""
    from tests.flows.conftest import FLOWS_DATABASE

    with pg_server.connect(FLOWS_DATABASE) as admin:
        admin.execute("CREATE SEQUENCE test_messages_fail_once")
        admin.execute(
            "CREATE FUNCTION test_messages_fail_once() RETURNS trigger SECURITY DEFINER "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF nextval('test_messages_fail_once') = 1 THEN "
            "RAISE EXCEPTION 'injected failure while writing the transcript'; END IF; "
            "RETURN NULL; END $$"
        )
        admin.execute(
            "CREATE TRIGGER test_messages_fail_once BEFORE INSERT ON generation_messages "
            "FOR EACH STATEMENT EXECUTE FUNCTION test_messages_fail_once()"
        )
    try:
        yield
    finally:
        with pg_server.connect(FLOWS_DATABASE) as admin:
            admin.execute("DROP TRIGGER test_messages_fail_once ON generation_messages")
            admin.execute("DROP FUNCTION test_messages_fail_once()")
            admin.execute("DROP SEQUENCE test_messages_fail_once")


def test_a_generation_retried_by_prefect_records_its_transcript_once_with_its_revision(
    server: OpenAIServer, messages_fail_once: None
) -> None:
    """The first attempt fails while writing its transcript; Prefect retries the task, and the
    revision and its session are stored once, together."""
    request_id = _complete_request("shop nginx, retried generation")
    [(session, messages)], audit = run(_sessions(request_id))
    asked = len(server.chat_bodies())
    assert asked % 2 == 0 and len(messages) == asked // 2 > 0  # two attempts, one transcript
    assert [m.sequence for m in messages] == list(range(1, asked // 2 + 1))
    assert session.planner == "llm" and len(audit) == 1

    async def revisions() -> list[Any]:
        from storage.db.unit_of_work import UnitOfWork

        async with UnitOfWork() as uow:
            return await uow.revisions.get_revision_history(uuid.UUID(request_id))

    [revision] = run(revisions())
    assert session.ta_revision_id == revision.id

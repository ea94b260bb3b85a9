"""The request lifecycle end to end: real Prefect server, real PostgreSQL, local object store."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from typing import Any

import pytest

from tests.flows.conftest import (
    SAMPLE,
    FlowThread,
    decide,
    request_details,
    resume,
    run,
    set_config,
    start_request,
)

pytestmark = pytest.mark.usefixtures("lifecycle_env")


def test_happy_path_completes_with_v1_passed_and_one_correlation_id(backends: Any):
    from flows.knowledge_indexing import knowledge_indexing

    run(knowledge_indexing())  # the built-in pack, so that generation retrieves from it
    flow, request_id, flow_run_id = start_request()
    flow.wait_paused(flow_run_id, key="approval-1")
    assert decide(request_id, approved=True, approver="appr-bob", reason="looks fine").status in (
        "APPROVED",
        "GENERATING_TA",
        "VALIDATING",
        "COMPLETED",
    )
    result = flow.join()
    assert result["status"] == "COMPLETED", result

    request, audit = run(request_details(request_id))
    assert str(request.status) == "COMPLETED"
    assert request.flow_run_id == flow_run_id
    assert len(request.log_samples) == 1
    sample = request.log_samples[0]
    assert sample.checksum == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert sample.retention_until is not None and sample.sample_preview
    [revision] = request.ta_revisions
    assert revision.version == 1 and str(revision.generated_by) == "AUTO"
    with backends.objects.open(revision.storage_key) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == revision.checksum
    assert revision.generation_metadata["generator_version"]
    assert revision.generation_metadata["knowledge_document_ids"], "no knowledge retrieved"
    [validation] = request.validation_runs
    assert str(validation.status) == "PASSED" and validation.debug_bundle_key
    assert backends.objects.exists(validation.debug_bundle_key)
    assert {a.correlation_id for a in audit} == {str(flow_run_id)}
    moves = [(a.details["from"], a.details["to"]) for a in audit if "to" in a.details]
    assert moves == [  # every status change, each with its audit entry
        ("NEW", "PENDING_APPROVAL"),
        ("PENDING_APPROVAL", "APPROVED"),
        ("APPROVED", "GENERATING_TA"),
        ("GENERATING_TA", "VALIDATING"),
        ("VALIDATING", "COMPLETED"),
    ]
    actions = [(a.entity_type, str(a.action)) for a in audit]
    for step in [
        ("request", "CREATE"),
        ("request", "UPLOAD"),
        ("request", "APPROVE"),
        ("ta_revision", "CREATE"),
        ("validation_run", "CREATE"),
        ("validation_run", "UPDATE"),
    ]:
        assert step in actions, (step, actions)

    from tagen import lifecycle

    assert run(lifecycle.status(request_id)) == "COMPLETED"
    lines = run(lifecycle.summarize(request_id, verify=True))
    assert lines[0] == f"request {request_id}: COMPLETED"
    assert f"  checksum: the stored object matches sha256 {revision.checksum}" in lines
    assert f"  flow run {flow_run_id}: {len(audit)} audit entries" in lines


def test_the_request_chooses_how_validation_ingests_its_samples():
    flow, request_id, flow_run_id = start_request(validation_input="hec-raw")
    _approve_when_paused(flow, request_id, flow_run_id)
    request, _ = run(request_details(request_id))
    assert request.extra_metadata["validation_input"] == "hec-raw"
    assert request.validation_runs
    for validation in request.validation_runs:
        assert {s["input"] for s in validation.results_json["samples"]} == {"hec-raw"}


def test_an_unknown_validation_input_is_refused_with_the_known_ones():
    from tasks.errors import LifecycleError
    from tasks.request import create_request

    with pytest.raises(LifecycleError, match="validation input 'syslog' is not one of"):
        run(
            create_request.fn(
                requester="req-ann",
                source_system="shop nginx",
                description="",
                cim_required=False,
                validation_input="syslog",
            )
        )


def test_rejection_records_reason_and_generates_nothing():
    flow, request_id, flow_run_id = start_request()
    flow.wait_paused(flow_run_id, key="approval-1")
    decision = decide(request_id, approved=False, approver="appr-bob", reason="not our system")
    assert (decision.status, decision.refusal) == ("REJECTED", None)
    assert flow.join()["status"] == "REJECTED"
    request, audit = run(request_details(request_id))
    assert str(request.status) == "REJECTED"
    assert request.rejection_reason == "not our system"
    assert request.ta_revisions == []
    assert any(str(a.action) == "REJECT" for a in audit)


@pytest.mark.parametrize(
    ("approver", "refusal"),
    [("no-role-carl", "needs the APPROVER or ADMIN role"), ("req-ann", "their own request")],
)
def test_refused_decisions_are_audited_and_the_gate_waits_again(approver: str, refusal: str):
    flow, request_id, flow_run_id = start_request()
    flow.wait_paused(flow_run_id, key="approval-1")
    decision = decide(request_id, approved=True, approver=approver)
    assert decision.status == "PENDING_APPROVAL" and refusal in (decision.refusal or "")
    flow.wait_paused(flow_run_id, key="approval-2")
    request, audit = run(request_details(request_id))
    assert str(request.status) == "PENDING_APPROVAL"
    refused = [a for a in audit if a.details.get("decision") == "refused"]
    assert len(refused) == 1 and refusal in refused[0].details["reason"]
    decide(request_id, approved=False, approver="appr-bob", reason="tidy up")
    assert flow.join()["status"] == "REJECTED"


def test_resume_input_failing_its_schema_is_refused_by_the_server():
    flow, request_id, flow_run_id = start_request()
    flow.wait_paused(flow_run_id, key="approval-1")
    with pytest.raises(RuntimeError, match=r"(?i)validation"):
        resume(flow_run_id, approved="maybe", approver="")
    flow.wait_paused(flow_run_id, key="approval-1")
    request, _ = run(request_details(request_id))
    assert str(request.status) == "PENDING_APPROVAL"
    resume(flow_run_id, approved=False, approver="appr-bob", reason="cleanup")
    assert flow.join()["status"] == "REJECTED"


def test_approval_timeout_fails_the_request_with_a_clear_reason():
    run(set_config("APPROVAL_TIMEOUT_SECONDS", 2))
    try:
        flow, request_id, _ = start_request()
        result = flow.join()
    finally:
        run(set_config("APPROVAL_TIMEOUT_SECONDS", 3600))
    assert result["status"] == "FAILED"
    request, _ = run(request_details(request_id))
    assert request.failure_reason == "approval timed out after 2 s"


def test_bad_sample_fails_the_request_and_stores_nothing(backends: Any, tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    flow = FlowThread(requester="req-ann", source_system="x", samples=[str(empty)])
    result = flow.join()
    assert result["status"] == "FAILED" and "empty" in result["reason"]
    request, _ = run(request_details(result["request_id"]))
    assert request.log_samples == []


def test_idempotent_resubmission_returns_the_same_request():
    key = f"idem-{uuid.uuid4()}"
    flow, request_id, flow_run_id = start_request(idempotency_key=key)
    flow.wait_paused(flow_run_id, key="approval-1")
    resume(flow_run_id, approved=False, approver="appr-bob", reason="dup test")
    flow.join()
    again = FlowThread(
        requester="req-ann", source_system="shop nginx", samples=[str(SAMPLE)], idempotency_key=key
    ).join()
    assert again["request_id"] == request_id and again["status"] == "REJECTED"


async def _actions(entity_type: str, entity_id: uuid.UUID) -> list[str]:
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        return [str(a.action) for a in await uow.audit.get_by_entity(entity_type, entity_id)]


def _approve_when_paused(flow: FlowThread, request_id: str, flow_run_id: uuid.UUID) -> dict:
    flow.wait_paused(flow_run_id, key="approval-1")
    decide(request_id, approved=True, approver="appr-bob")
    return flow.join()


def test_generation_failure_fails_the_request_with_an_audited_reason():
    flow, request_id, flow_run_id = start_request(
        samples=[{"kind": "text", "value": "   \n\t\n   \n"}]
    )
    result = _approve_when_paused(flow, request_id, flow_run_id)
    assert result["status"] == "FAILED"
    request, audit = run(request_details(request_id))
    assert request.failure_reason is not None
    assert "generation failed" in request.failure_reason
    assert "whitespace" in request.failure_reason
    assert request.ta_revisions == []
    failed = [a for a in audit if a.details.get("to") == "FAILED"]
    assert len(failed) == 1 and failed[0].details["reason"] == request.failure_reason


def test_validation_failure_regenerates_v2_with_the_report_then_stops(tmp_path):
    plain = tmp_path / "plain.log"
    plain.write_text("the quick brown fox\njumps over the lazy dog\nnothing to see here\n")
    run(set_config("REPAIR_ATTEMPTS", 1))
    try:
        flow, request_id, flow_run_id = start_request(samples=[str(plain)], cim_required=False)
        result = _approve_when_paused(flow, request_id, flow_run_id)
    finally:
        run(set_config("REPAIR_ATTEMPTS", 2))
    assert result["status"] == "FAILED"
    request, audit = run(request_details(request_id))
    assert [r.version for r in request.ta_revisions] == [1, 2]
    runs = sorted(request.validation_runs, key=lambda r: r.created_at)
    assert [str(r.status) for r in runs] == ["FAILED", "FAILED"]
    assert runs[0].results_json["reasons"]
    assert request.ta_revisions[1].generation_metadata["repaired_from"] == [str(runs[0].id)]
    assert request.failure_reason.startswith("validation failed after 1 repair attempt(s)")
    statuses = [a.details.get("to") for a in audit if a.details.get("to")]
    assert statuses.count("FAILED") == 1


def test_concurrent_requests_respect_the_validation_limit():
    run(set_config("MAX_PARALLEL_VALIDATIONS", 1))
    try:
        started = [start_request() for _ in range(3)]
        for flow, _, flow_run_id in started:
            flow.wait_paused(flow_run_id, key="approval-1")
        for _, _, flow_run_id in started:
            resume(flow_run_id, approved=True, approver="appr-bob", reason="")
        results = [flow.join() for flow, _, _ in started]
    finally:
        run(set_config("MAX_PARALLEL_VALIDATIONS", 2))
    assert [r["status"] for r in results] == ["COMPLETED"] * 3
    intervals = []
    for _, request_id, _ in started:
        request, _ = run(request_details(request_id))
        [validation] = request.validation_runs
        intervals.append((validation.started_at, validation.completed_at))
    intervals.sort()
    for (_, first_end), (second_start, _) in itertools.pairwise(intervals):
        assert first_end <= second_start, intervals


def test_manual_revision_is_checked_stored_and_validated_like_a_generated_one(
    backends: Any, tmp_path
):
    import io
    import tarfile

    from flows.request_lifecycle import manual_revision
    from tasks.errors import LifecycleError
    from tasks.ta_revision import download_revision

    flow, request_id, flow_run_id = start_request()
    assert _approve_when_paused(flow, request_id, flow_run_id)["status"] == "COMPLETED"
    v1 = run(download_revision(request_id, version=1, destination=tmp_path / "dl"))
    assert v1.version == 1 and v1.path.is_file()

    result = run(manual_revision(request_id, str(v1.path), "req-ann"))
    assert result["passed"] is True, result
    request, _ = run(request_details(request_id))
    manual = request.ta_revisions[-1]
    assert run(_actions("ta_revision", manual.id)) == ["UPLOAD"]
    assert (manual.version, str(manual.generated_by)) == (2, "MANUAL")
    assert str(request.status) == "COMPLETED"
    assert [str(r.status) for r in request.validation_runs] == ["PASSED", "PASSED"]

    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as archive:
        data = b"[x]\n"
        info = tarfile.TarInfo("../../etc/evil.conf")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(LifecycleError, match=r"uploaded TA evil\.tgz"):
        run(manual_revision(request_id, str(evil), "req-ann"))
    request, _ = run(request_details(request_id))
    assert len(request.ta_revisions) == 2

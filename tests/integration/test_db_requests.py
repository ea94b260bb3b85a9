"""RequestRepository: state machine (audited moves), decisions, idempotency, lookups, statistics."""

from __future__ import annotations

import uuid

import pytest

from storage.db.enums import REQUEST_TRANSITIONS, WORKING_STATUSES, RequestStatus, UserRoleEnum
from storage.db.errors import InvalidStatusTransitionError, InvalidValueError, NotFoundError
from storage.db.repositories import StatusChange
from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import Builder, unique

ALL_PAIRS = [(a, b) for a in RequestStatus for b in RequestStatus if a is not b]


async def test_new_request_defaults(uow: UnitOfWork, build: Builder):
    request = await build.request(description="web tier", cim_required=True)
    assert request.status is RequestStatus.NEW
    assert request.cim_required is True
    assert request.extra_metadata == {}
    assert request.approved_by is None and request.completed_at is None


async def test_happy_path_and_repair_loop(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.VALIDATING)
    # repair loop: a failed validation sends the request back to generation of v(N+1)
    request = await uow.requests.transition_status(request.id, RequestStatus.GENERATING_TA)
    request = await uow.requests.transition_status(request.id, "VALIDATING")
    request = await uow.requests.transition_status(request.id, RequestStatus.COMPLETED)
    assert request.status is RequestStatus.COMPLETED
    assert request.completed_at is not None


@pytest.mark.parametrize("start", sorted(WORKING_STATUSES))
async def test_failed_from_every_working_state(uow: UnitOfWork, build: Builder, start):
    request = await build.request(status=start)
    failed = await uow.requests.transition_status(request.id, "FAILED", reason="sandbox crashed")
    assert failed.status is RequestStatus.FAILED
    assert failed.failure_reason == "sandbox crashed"


async def test_every_invalid_transition_names_both_states(uow: UnitOfWork, build: Builder):
    requests = {status: await build.request(status=status) for status in RequestStatus}
    for current, target in ALL_PAIRS:
        if target in REQUEST_TRANSITIONS[current]:
            continue
        with pytest.raises(InvalidStatusTransitionError) as info:
            await uow.requests.transition_status(requests[current].id, target)
        assert str(info.value) == f"Request cannot move from {current} to {target}"
        assert (await uow.requests.get(requests[current].id)).status is current


async def test_transition_to_unknown_status_or_request(uow: UnitOfWork, build: Builder):
    request = await build.request()
    with pytest.raises(InvalidValueError, match="'DONE' is not one of NEW"):
        await uow.requests.transition_status(request.id, "DONE")
    with pytest.raises(NotFoundError, match="Request"):
        await uow.requests.transition_status(uuid.uuid4(), RequestStatus.PENDING_APPROVAL)


async def test_approve_records_who_and_when(uow: UnitOfWork, build: Builder):
    approver = await build.user(UserRoleEnum.APPROVER)
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    approved = await uow.requests.approve_request(request.id, approver.id)
    assert approved.status is RequestStatus.APPROVED
    assert approved.approved_by == approver.id
    assert approved.approved_at is not None


async def test_admin_may_approve(uow: UnitOfWork, build: Builder):
    admin = await build.user(UserRoleEnum.ADMIN)
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    assert (await uow.requests.approve_request(request.id, admin.id)).status == "APPROVED"


async def test_reject_needs_a_reason(uow: UnitOfWork, build: Builder):
    approver = await build.user(UserRoleEnum.APPROVER)
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    with pytest.raises(InvalidValueError, match="reason"):
        await uow.requests.reject_request(request.id, approver.id, "  ")
    rejected = await uow.requests.reject_request(request.id, approver.id, " no sample data ")
    assert rejected.status is RequestStatus.REJECTED
    assert rejected.rejection_reason == "no sample data"
    assert rejected.approved_by == approver.id


@pytest.mark.parametrize("status", [RequestStatus.NEW, RequestStatus.APPROVED])
async def test_decisions_only_from_pending_approval(uow: UnitOfWork, build: Builder, status):
    approver = await build.user(UserRoleEnum.APPROVER)
    request = await build.request(status=status)
    with pytest.raises(InvalidStatusTransitionError, match=f"from {status} to APPROVED"):
        await uow.requests.approve_request(request.id, approver.id)
    with pytest.raises(InvalidStatusTransitionError, match=f"from {status} to REJECTED"):
        await uow.requests.reject_request(request.id, approver.id, "why")


async def test_decisions_record_a_known_user_only(uow: UnitOfWork, build: Builder):
    """Who may decide is the approval step's policy (tests/integration/test_approval_policy.py);
    the repository records a decision by a user that exists, and nothing else."""
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    with pytest.raises(NotFoundError, match="User"):
        await uow.requests.approve_request(request.id, uuid.uuid4())
    assert (await uow.requests.get(request.id)).status is RequestStatus.PENDING_APPROVAL


async def test_move_changes_the_status_and_writes_its_audit_entry(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    approver = await build.user(UserRoleEnum.APPROVER)
    approved = await uow.requests.move(
        request.id,
        StatusChange(
            RequestStatus.APPROVED,
            user_id=approver.id,
            correlation_id="run-1",
            details={"approver": approver.username},
        ),
    )
    assert approved is not None and approved.status is RequestStatus.APPROVED
    assert (approved.approved_by, approved.approved_at is not None) == (approver.id, True)
    again = await uow.requests.move(request.id, StatusChange(RequestStatus.APPROVED))
    assert again is None  # already there: nothing written
    failed = await uow.requests.move(
        request.id,
        StatusChange(RequestStatus.FAILED, reason="sandbox gone", correlation_id="run-1"),
    )
    assert failed is not None and failed.failure_reason == "sandbox gone"
    trail = await uow.audit.get_by_correlation_id("run-1")
    assert [(str(a.action), a.entity_type, a.user_id, a.details) for a in trail] == [
        (
            "APPROVE",
            "request",
            approver.id,
            {"from": "PENDING_APPROVAL", "to": "APPROVED", "approver": approver.username},
        ),
        ("UPDATE", "request", None, {"from": "APPROVED", "to": "FAILED", "reason": "sandbox gone"}),
    ]
    with pytest.raises(InvalidStatusTransitionError, match="from FAILED to COMPLETED"):
        await uow.requests.move(request.id, StatusChange(RequestStatus.COMPLETED))


async def test_a_rejecting_move_needs_a_reason(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    approver = await build.user(UserRoleEnum.APPROVER)
    with pytest.raises(InvalidValueError, match="a rejection needs a reason"):
        await uow.requests.move(
            request.id, StatusChange(RequestStatus.REJECTED, reason=" ", user_id=approver.id)
        )
    assert await uow.audit.get_by_entity("request", request.id) == []
    rejected = await uow.requests.move(
        request.id, StatusChange(RequestStatus.REJECTED, reason=" dup ", user_id=approver.id)
    )
    assert rejected is not None and rejected.rejection_reason == "dup"
    [entry] = await uow.audit.get_by_entity("request", request.id)
    assert str(entry.action) == "REJECT"


@pytest.mark.parametrize("status", sorted(set(RequestStatus) - {"NEW", "PENDING_APPROVAL"}))
async def test_a_request_is_created_new_or_pending_approval_only(
    uow: UnitOfWork, build: Builder, status: RequestStatus
):
    user = await build.user()
    pending = await uow.requests.create(
        {"created_by": user.id, "source_system": "s", "status": "PENDING_APPROVAL"}
    )
    assert pending.status is RequestStatus.PENDING_APPROVAL
    with pytest.raises(
        InvalidValueError, match=f"created as NEW or PENDING_APPROVAL, not {status}"
    ):
        await uow.requests.create({"created_by": user.id, "source_system": "s", "status": status})
    with pytest.raises(InvalidValueError, match="created as NEW or PENDING_APPROVAL"):
        await uow.requests.create_idempotent(
            {"created_by": user.id, "source_system": "s", "status": status, "idempotency_key": "k"}
        )
    assert await uow.requests.count({"created_by": user.id}) == 1


async def test_idempotency_key_returns_the_first_request(uow: UnitOfWork, build: Builder):
    user = await build.user()
    data = {"created_by": user.id, "source_system": "fw", "idempotency_key": "submit-42"}
    first, created = await uow.requests.create_idempotent(data)
    again, created_again = await uow.requests.create_idempotent({**data, "source_system": "x"})
    assert created is True and created_again is False
    assert first.status is RequestStatus.NEW and first.extra_metadata == {}
    assert again.id == first.id and again.source_system == "fw"
    plain, plain_created = await uow.requests.create_idempotent(
        {"created_by": user.id, "source_system": "fw"}
    )
    assert plain_created and plain.id != first.id


async def test_lookups(uow: UnitOfWork, build: Builder):
    token = unique("cisco").replace("-", "")
    alice = await build.user()
    bob = await build.user()
    a1 = await build.request(alice, source_system=f"Palo Alto firewall {token[::-1]}")
    a2 = await build.request(
        alice, status=RequestStatus.PENDING_APPROVAL, description=f"{token} asa"
    )
    b1 = await build.request(
        bob, status=RequestStatus.PENDING_APPROVAL, source_system=f"{token.upper()} ISE"
    )
    mine = {a1.id, a2.id, b1.id}
    assert {r.id for r in await uow.requests.get_by_user(alice.id)} == {a1.id, a2.id}
    queue = await uow.requests.get_pending_approval(0, 10_000)
    assert [r.id for r in queue if r.id in mine] == [a2.id, b1.id]  # oldest first
    assert all(r.status is RequestStatus.PENDING_APPROVAL for r in queue)
    assert [r.id for r in await uow.requests.get_pending_approval(1, 1)] == [queue[1].id]
    found = await uow.requests.search_requests(token, None, 0, 10)
    assert [r.id for r in found] == [b1.id, a2.id]  # newest first
    found = await uow.requests.search_requests(token, RequestStatus.PENDING_APPROVAL, 1, 1)
    assert [r.id for r in found] == [a2.id]
    new = await uow.requests.search_requests(token[::-1], "NEW", 0, 10)
    assert [r.id for r in new] == [a1.id]


async def test_get_with_relations(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.GENERATING_TA)
    sample = await build.sample(request)
    revision = await build.revision(request)
    run = await build.validation(revision)
    with_samples = await uow.requests.get_with_samples(request.id)
    assert [s.id for s in with_samples.log_samples] == [sample.id]
    with_revisions = await uow.requests.get_with_revisions(request.id)
    assert [r.version for r in with_revisions.ta_revisions] == [1]
    full = await uow.requests.get_full_details(request.id)
    assert full.created_by_user.id == request.created_by
    assert full.approved_by_user is None
    assert [v.id for v in full.ta_revisions[0].validation_runs] == [run.id]
    assert [v.id for v in full.validation_runs] == [run.id]
    assert await uow.requests.get_full_details(uuid.uuid4()) is None


async def test_statistics(uow: UnitOfWork, build: Builder):
    before = await uow.requests.get_summary()
    counts_before = await uow.requests.get_statistics()
    await build.request()
    await build.request(status=RequestStatus.PENDING_APPROVAL)
    await build.request(status=RequestStatus.COMPLETED)
    stats = await uow.requests.get_summary()
    assert stats.total == before.total + 3
    assert stats.by_status[RequestStatus.NEW] == before.by_status[RequestStatus.NEW] + 1
    assert stats.by_status[RequestStatus.COMPLETED] == before.by_status[RequestStatus.COMPLETED] + 1
    assert set(stats.by_status) == set(RequestStatus)
    assert stats.average_completion_seconds is not None
    assert stats.average_completion_seconds >= 0
    counts = await uow.requests.get_statistics()  # the seed's shape: status name -> count
    assert counts == stats.by_status and set(counts) == {s.value for s in RequestStatus}
    assert counts["PENDING_APPROVAL"] == counts_before["PENDING_APPROVAL"] + 1

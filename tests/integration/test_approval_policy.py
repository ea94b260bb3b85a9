"""The approval policy (tasks.approval.refusal): who may decide a request, on real rows."""

from __future__ import annotations

import uuid

import pytest

from storage.db.enums import RequestStatus, UserRoleEnum
from storage.db.unit_of_work import UnitOfWork
from tasks.approval import refusal
from tests.integration.builders import Builder


async def _refusal(
    uow: UnitOfWork, request_id: uuid.UUID, user_id: uuid.UUID | None, **decision: object
) -> str | None:
    request = await uow.requests.get(request_id)
    user = await uow.users.get(user_id) if user_id else None
    approved = bool(decision.get("approved", True))
    reason = str(decision.get("reason", ""))
    name = user.username if user else "ghost"
    return await refusal(uow, request, user, username=name, approved=approved, reason=reason)


async def test_approvers_and_admins_may_decide_others_requests(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    for role in (UserRoleEnum.APPROVER, UserRoleEnum.ADMIN):
        user = await build.user(role)
        assert await _refusal(uow, request.id, user.id) is None
        assert await _refusal(uow, request.id, user.id, approved=False, reason="dup") is None
    superuser = await build.user(is_superuser=True)
    assert await _refusal(uow, request.id, superuser.id) is None


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("requester", "cannot decide their own request"),
        ("inactive", "is inactive and cannot decide requests"),
        ("no role", "needs the APPROVER or ADMIN role"),
        ("unknown", "unknown approver 'ghost'"),
    ],
)
async def test_who_may_not_decide(uow: UnitOfWork, build: Builder, who: str, message: str):
    requester = await build.user(UserRoleEnum.REQUESTOR, UserRoleEnum.APPROVER)
    request = await build.request(requester, status=RequestStatus.PENDING_APPROVAL)
    user = {
        "requester": requester,
        "inactive": await build.user(UserRoleEnum.APPROVER, is_active=False),
        "no role": await build.user(UserRoleEnum.REQUESTOR),
        "unknown": None,
    }[who]
    for approved in (True, False):
        found = await _refusal(
            uow, request.id, user.id if user else None, approved=approved, reason="no"
        )
        assert found is not None and message in found


async def test_a_rejection_needs_a_reason(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.PENDING_APPROVAL)
    approver = await build.user(UserRoleEnum.APPROVER)
    found = await _refusal(uow, request.id, approver.id, approved=False, reason="  ")
    assert found == "a rejection needs a reason"

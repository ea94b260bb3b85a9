"""Builders for integration tests: rows with sensible defaults, overridable per test."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from typing import Any

from storage.db.enums import RequestStatus, UserRoleEnum
from storage.db.models import LogSample, Request, TARevision, User, ValidationRun
from storage.db.unit_of_work import UnitOfWork

_counter = itertools.count(1)

# The path a request takes to reach each status (for tests that need one in a given state).
PATH_TO: dict[RequestStatus, list[RequestStatus]] = {
    RequestStatus.NEW: [],
    RequestStatus.PENDING_APPROVAL: [RequestStatus.PENDING_APPROVAL],
    RequestStatus.APPROVED: [RequestStatus.PENDING_APPROVAL, RequestStatus.APPROVED],
    RequestStatus.REJECTED: [RequestStatus.PENDING_APPROVAL, RequestStatus.REJECTED],
    RequestStatus.GENERATING_TA: [
        RequestStatus.PENDING_APPROVAL,
        RequestStatus.APPROVED,
        RequestStatus.GENERATING_TA,
    ],
    RequestStatus.VALIDATING: [
        RequestStatus.PENDING_APPROVAL,
        RequestStatus.APPROVED,
        RequestStatus.GENERATING_TA,
        RequestStatus.VALIDATING,
    ],
    RequestStatus.COMPLETED: [
        RequestStatus.PENDING_APPROVAL,
        RequestStatus.APPROVED,
        RequestStatus.GENERATING_TA,
        RequestStatus.VALIDATING,
        RequestStatus.COMPLETED,
    ],
    RequestStatus.FAILED: [RequestStatus.FAILED],
}


def unique(prefix: str) -> str:
    """A name no other test (nor data committed by other suites on the shared database) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Builder:
    """Creates rows through the repositories of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def user(self, *roles: UserRoleEnum, **data: Any) -> User:
        name = unique("user")
        user = await self.uow.users.create(
            {"username": name, "email": f"{name}@example.org", **data}
        )
        if roles:
            await self.uow.roles.ensure_default_roles()
            for name in roles:
                role = await self.uow.roles.get_by_name(name)
                assert role is not None
                await self.uow.roles.assign_role_to_user(user.id, role.id)
        return user

    async def request(
        self, requester: User | None = None, status: RequestStatus = RequestStatus.NEW, **data: Any
    ) -> Request:
        requester = requester or await self.user(UserRoleEnum.REQUESTOR)
        request = await self.uow.requests.create(
            {"created_by": requester.id, "source_system": "nginx access", **data}
        )
        for step in PATH_TO[status]:
            request = await self.uow.requests.transition_status(request.id, step)
        return request

    async def sample(self, request: Request, **data: Any) -> LogSample:
        n = next(_counter)
        return await self.uow.samples.create(
            {
                "request_id": request.id,
                "filename": f"access{n}.log",
                "storage_bucket": "samples",
                "storage_key": f"requests/{request.id}/access{n}.log",
                "file_size": 120,
                "checksum": sha256(f"sample{n}"),
                **data,
            }
        )

    async def revision(self, request: Request, **data: Any) -> TARevision:
        return await self.uow.revisions.create_next_revision(
            request.id, {"storage_key": f"ta/{request.id}/{uuid.uuid4()}.tgz", **data}
        )

    async def validation(self, revision: TARevision, **data: Any) -> ValidationRun:
        return await self.uow.validations.create(
            {"request_id": revision.request_id, "ta_revision_id": revision.id, **data}
        )

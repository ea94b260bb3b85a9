"""Requests: the lifecycle state machine (one audited move), decisions, lookups and statistics."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from storage.db.enums import REQUEST_TRANSITIONS, AuditAction, AuditEntity, RequestStatus
from storage.db.errors import InvalidStatusTransitionError, InvalidValueError, NotFoundError
from storage.db.models import Request, TARevision, User
from storage.db.repositories.audit_log import AuditLogRepository
from storage.db.repositories.base import BaseRepository, to_enum
from storage.db.repositories.user import like_pattern

DECISION_ACTIONS = {
    RequestStatus.APPROVED: AuditAction.APPROVE,
    RequestStatus.REJECTED: AuditAction.REJECT,
}
INITIAL_STATUSES = frozenset({RequestStatus.NEW, RequestStatus.PENDING_APPROVAL})
"""What a request may be created as; every later status is reached by a transition."""


@dataclass(frozen=True)
class StatusChange:
    """One move of a request along REQUEST_TRANSITIONS, and what its audit entry records."""

    target: RequestStatus
    reason: str | None = None
    """FAILED: the failure reason; REJECTED: the rejection reason (required)."""
    user_id: uuid.UUID | None = None
    """Who moves it; for APPROVED and REJECTED the approver (approved_by)."""
    correlation_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestStatistics:
    """get_summary(): the seed's per-status counts plus totals."""

    total: int
    by_status: dict[RequestStatus, int]
    average_completion_seconds: float | None


class RequestRepository(BaseRepository[Request]):
    model = Request

    async def create(self, data: Mapping[str, Any]) -> Request:
        """A new request, NEW unless `status` says PENDING_APPROVAL (the only two allowed)."""
        return await super().create(_initial(data))

    async def create_idempotent(self, data: dict[str, Any]) -> tuple[Request, bool]:
        """Insert unless a request with the same `idempotency_key` exists (a retried submit).

        Returns (request, created). Without a key this is a plain create.
        """
        if data.get("idempotency_key") is None:
            return await self.create(data), True
        return await self._create_unless_exists(_initial(data), unique="idempotency_key")

    async def move(self, request_id: uuid.UUID, change: StatusChange) -> Request | None:
        """The application's status change: the move along REQUEST_TRANSITIONS (row locked)
        and its audit entry, in the caller's transaction.

        The entry is APPROVE or REJECT for a decision, UPDATE otherwise, with `from`, `to`, the
        reason and `change.details`. A request already at the target is left as it is: None,
        nothing written (a retried step).
        """
        request = await self._lock(request_id)
        previous = request.status
        if previous is change.target:
            return None
        moved = await self._move(request, change.target, **_recorded(change))
        reason = {"reason": change.reason} if change.reason else {}
        await AuditLogRepository(self.session).create_log(
            change.user_id,
            DECISION_ACTIONS.get(change.target, AuditAction.UPDATE),
            AuditEntity.REQUEST,
            request.id,
            details={"from": str(previous), "to": str(change.target), **reason, **change.details},
            correlation_id=change.correlation_id,
        )
        return moved

    async def transition_status(
        self, request_id: uuid.UUID, new_status: RequestStatus | str, *, reason: str | None = None
    ) -> Request:
        """move() without the audit entry, for callers that write their own (as the seed guides
        do); InvalidStatusTransitionError off REQUEST_TRANSITIONS.

        COMPLETED stamps completed_at; FAILED records `reason` as failure_reason.
        """
        target = to_enum(RequestStatus, new_status, "Request.status")
        request = await self._lock(request_id)
        return await self._move(request, target, **_recorded(StatusChange(target, reason)))

    async def approve_request(self, request_id: uuid.UUID, approver_id: uuid.UUID) -> Request:
        """PENDING_APPROVAL -> APPROVED, recording who approved and when (the seeds' primitive,
        not audited). Who may approve is the approval step's policy (tasks.approval)."""
        return await self._decide(
            request_id, StatusChange(RequestStatus.APPROVED, None, approver_id)
        )

    async def reject_request(
        self, request_id: uuid.UUID, approver_id: uuid.UUID, reason: str
    ) -> Request:
        """Reject with a reason; approved_by/approved_at record who decided and when."""
        return await self._decide(
            request_id, StatusChange(RequestStatus.REJECTED, reason, approver_id)
        )

    async def _decide(self, request_id: uuid.UUID, change: StatusChange) -> Request:
        """A decision on a pending request by a known user (the state first, then who)."""
        request = await self._lock(request_id)
        if request.status is not RequestStatus.PENDING_APPROVAL:
            raise InvalidStatusTransitionError("Request", request.status, change.target)
        if change.user_id is None or await self.session.get(User, change.user_id) is None:
            raise NotFoundError("User", change.user_id)
        return await self._move(request, change.target, **_recorded(change))

    async def _move(self, request: Request, target: RequestStatus, **changes: Any) -> Request:
        """The one place a request's status changes (the row is already locked)."""
        if target not in REQUEST_TRANSITIONS[request.status]:
            raise InvalidStatusTransitionError("Request", request.status, target)
        async with self._write():
            request.status = target
            if target is RequestStatus.COMPLETED:
                request.completed_at = func.clock_timestamp()
            for key, value in changes.items():
                setattr(request, key, value)
            await self.session.flush()
        await self.session.refresh(request)
        return request

    async def get_by_user(
        self, user_id: uuid.UUID, skip: int = 0, limit: int = 100
    ) -> list[Request]:
        return await self.get_all(skip, limit, filters={"created_by": user_id})

    async def get_pending_approval(self, skip: int = 0, limit: int = 100) -> list[Request]:
        """Oldest first: the approval queue."""
        return await self.get_all(
            skip, limit, filters={"status": RequestStatus.PENDING_APPROVAL}, order_by="created_at"
        )

    async def get_with_samples(self, request_id: uuid.UUID) -> Request | None:
        return await self._get_with(request_id, selectinload(Request.log_samples))

    async def get_with_revisions(self, request_id: uuid.UUID) -> Request | None:
        return await self._get_with(request_id, selectinload(Request.ta_revisions))

    async def get_full_details(self, request_id: uuid.UUID) -> Request | None:
        """Creator, approver, log samples, TA revisions with their validation runs."""
        return await self._get_with(
            request_id,
            selectinload(Request.created_by_user),
            selectinload(Request.approved_by_user),
            selectinload(Request.log_samples),
            selectinload(Request.ta_revisions).selectinload(TARevision.validation_runs),
            selectinload(Request.validation_runs),
        )

    async def _get_with(self, request_id: uuid.UUID, *options: Any) -> Request | None:
        stmt = (
            select(Request)
            .where(Request.id == request_id)
            .options(*options)
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def search_requests(
        self,
        q: str | None = None,
        status: RequestStatus | str | None = None,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Request]:
        stmt = select(Request)
        if q:
            pattern = like_pattern(q)
            stmt = stmt.where(
                or_(Request.source_system.ilike(pattern), Request.description.ilike(pattern))
            )
        if status is not None:
            stmt = stmt.where(Request.status == to_enum(RequestStatus, status, "Request.status"))
        stmt = stmt.order_by(Request.created_at.desc()).offset(skip).limit(limit)
        return list((await self.session.scalars(stmt)).all())

    async def get_statistics(self) -> dict[RequestStatus, int]:
        """Requests per status, every status present: {"NEW": 5, "PENDING_APPROVAL": 2, ...}
        (RequestStatus is a str enum, so plain strings index it)."""
        rows = (
            await self.session.execute(
                select(Request.status, func.count()).group_by(Request.status)
            )
        ).all()
        by_status = dict.fromkeys(RequestStatus, 0)
        for status, count in rows:
            by_status[status] = int(count)
        return by_status

    async def get_summary(self) -> RequestStatistics:
        """get_statistics() with the total and the average time from creation to COMPLETED."""
        by_status = await self.get_statistics()
        average = await self.session.scalar(
            select(
                func.avg(func.extract("epoch", Request.completed_at - Request.created_at))
            ).where(Request.completed_at.is_not(None))
        )
        return RequestStatistics(
            total=sum(by_status.values()),
            by_status=by_status,
            average_completion_seconds=float(average) if average is not None else None,
        )


def _recorded(change: StatusChange) -> dict[str, Any]:
    """The columns a move records besides the status: who decided and when, and why a request
    was rejected (a reason is required) or failed."""
    if change.target is RequestStatus.FAILED:
        return {"failure_reason": change.reason}
    recorded: dict[str, Any] = {}
    if change.target in DECISION_ACTIONS and change.user_id is not None:
        recorded = {"approved_by": change.user_id, "approved_at": func.clock_timestamp()}
    if change.target is RequestStatus.REJECTED and change.user_id is not None:
        if not change.reason or not change.reason.strip():
            raise InvalidValueError("a rejection needs a reason")
        recorded["rejection_reason"] = change.reason.strip()
    return recorded


def _initial(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` checked for an allowed initial status (NEW when none is given)."""
    status = to_enum(RequestStatus, data.get("status", RequestStatus.NEW), "Request.status")
    if status not in INITIAL_STATUSES:
        raise InvalidValueError(
            f"Request.status: a request is created as NEW or PENDING_APPROVAL, not {status}; "
            "later statuses are reached by transitions"
        )
    return {**data, "status": status}

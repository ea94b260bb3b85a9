"""Validation runs: QUEUED -> RUNNING -> PASSED | FAILED, counts, slots and statistics."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from storage.db.enums import ValidationStatus
from storage.db.errors import InvalidStatusTransitionError
from storage.db.models import ValidationRun
from storage.db.repositories.base import BaseRepository, to_enum

_FINAL = frozenset({ValidationStatus.PASSED, ValidationStatus.FAILED})
SLOT_LOCK_KEY = 0x7A6E_5641
"""pg_advisory_xact_lock key serialising the RUNNING slot check across processes."""


@dataclass(frozen=True)
class ValidationStatistics:
    """get_validation_summary(): the seed's per-status counts plus rates and durations."""

    total: int
    by_status: dict[ValidationStatus, int]
    pass_rate: float | None
    average_duration_seconds: float | None


class ValidationRunRepository(BaseRepository[ValidationRun]):
    model = ValidationRun

    async def start_validation(self, run_id: uuid.UUID, container_id: str) -> ValidationRun:
        """QUEUED -> RUNNING, stamping started_at and, as `splunk_container_id`, the container,
        Kubernetes Job or worker running it (the seed calls the argument `container_id`)."""
        run = await self._lock(run_id)
        if run.status is not ValidationStatus.QUEUED:
            raise InvalidStatusTransitionError(
                "ValidationRun", run.status, ValidationStatus.RUNNING
            )
        return await self._set(
            run_id,
            status=ValidationStatus.RUNNING,
            splunk_container_id=container_id,
            started_at=func.clock_timestamp(),
        )

    async def try_start_with_limit(
        self, run_id: uuid.UUID, *, limit: int, container_id: str
    ) -> bool:
        """QUEUED -> RUNNING only while fewer than `limit` runs are RUNNING.

        RUNNING is the slot: the check and the move happen under one transaction-scoped
        advisory lock, so concurrent callers in any process never exceed `limit`. True when the
        run holds (or already held) its slot, False when every slot is taken: try again later.
        """
        await self.session.execute(select(func.pg_advisory_xact_lock(SLOT_LOCK_KEY)))
        run = await self._lock(run_id)
        if run.status is not ValidationStatus.QUEUED:
            return True  # a retry of a run that already left the queue
        if await self.get_running_count() >= limit:
            return False
        await self.start_validation(run_id, container_id)
        return True

    async def fail_abandoned(self, *, stale_after_s: int) -> list[ValidationRun]:
        """FAIL runs RUNNING for longer than `stale_after_s` (their process died): free slots.

        One guarded UPDATE: a run another caller already failed is not failed twice.
        """
        stmt = (
            update(ValidationRun)
            .where(
                ValidationRun.status == ValidationStatus.RUNNING,
                ValidationRun.started_at
                < func.clock_timestamp() - timedelta(seconds=stale_after_s),
            )
            .values(
                status=ValidationStatus.FAILED,
                error_message=f"abandoned: no result within {stale_after_s} s",
                completed_at=func.clock_timestamp(),
                duration_seconds=func.extract(
                    "epoch", func.clock_timestamp() - ValidationRun.started_at
                ),
            )
            .returning(ValidationRun)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        async with self._write():
            runs = list((await self.session.execute(stmt)).scalars())
        return runs

    async def complete_validation(
        self,
        run_id: uuid.UUID,
        status: ValidationStatus | str,
        results: dict[str, Any] | None = None,
        debug_bundle_key: str | None = None,
        *,
        debug_bundle_bucket: str | None = None,
        error_message: str | None = None,
        splunk_container_id: str | None = None,
        validation_logs: str | None = None,
    ) -> ValidationRun:
        """RUNNING -> PASSED | FAILED (QUEUED -> FAILED when it never started).

        completed_at and duration_seconds come from the database clock. `splunk_container_id`
        (when given) replaces the worker recorded at the start with what actually ran the
        validation (a Kubernetes Job, the local sandbox); `validation_logs` is its log.
        """
        target = to_enum(ValidationStatus, status, "ValidationRun.status")
        run = await self._lock(run_id)
        allowed = run.status is ValidationStatus.RUNNING and target in _FINAL
        never_started = run.status is ValidationStatus.QUEUED and target is ValidationStatus.FAILED
        if not (allowed or never_started):
            raise InvalidStatusTransitionError("ValidationRun", run.status, target)
        return await self._set(
            run_id,
            status=target,
            results_json=results,
            debug_bundle_key=debug_bundle_key,
            debug_bundle_bucket=debug_bundle_bucket,
            error_message=error_message,
            validation_logs=validation_logs,
            **({"splunk_container_id": splunk_container_id} if splunk_container_id else {}),
            completed_at=func.clock_timestamp(),
            duration_seconds=func.extract(
                "epoch", func.clock_timestamp() - ValidationRun.started_at
            ),
        )

    async def _set(self, run_id: uuid.UUID, **values: Any) -> ValidationRun:
        stmt = (
            update(ValidationRun)
            .where(ValidationRun.id == run_id)
            .values(**values)
            .returning(ValidationRun)
            .execution_options(populate_existing=True)
        )
        async with self._write():
            run = (await self.session.execute(stmt)).scalar_one()
        return run

    async def get_running_count(self) -> int:
        return await self.count({"status": ValidationStatus.RUNNING})

    async def get_failed_validations(self, request_id: uuid.UUID) -> list[ValidationRun]:
        """Newest first: the repair loop reads the latest failure report."""
        return await self.get_all(
            0,
            1000,
            filters={"request_id": request_id, "status": ValidationStatus.FAILED},
            order_by="-created_at",
        )

    async def get_validation_statistics(
        self, request_id: uuid.UUID | None = None
    ) -> dict[ValidationStatus, int]:
        """Runs per status, every status present: {"QUEUED": 3, "RUNNING": 2, ...}
        (ValidationStatus is a str enum, so plain strings index it)."""
        counts = select(ValidationRun.status, func.count()).group_by(ValidationRun.status)
        if request_id is not None:
            counts = counts.where(ValidationRun.request_id == request_id)
        by_status = dict.fromkeys(ValidationStatus, 0)
        for status, count in (await self.session.execute(counts)).all():
            by_status[status] = int(count)
        return by_status

    async def get_validation_summary(
        self, request_id: uuid.UUID | None = None
    ) -> ValidationStatistics:
        """get_validation_statistics() with the total, pass rate and average duration."""
        by_status = await self.get_validation_statistics(request_id)
        durations = select(func.avg(ValidationRun.duration_seconds)).where(
            ValidationRun.duration_seconds.is_not(None)
        )
        if request_id is not None:
            durations = durations.where(ValidationRun.request_id == request_id)
        finished = by_status[ValidationStatus.PASSED] + by_status[ValidationStatus.FAILED]
        average = await self.session.scalar(durations)
        return ValidationStatistics(
            total=sum(by_status.values()),
            by_status=by_status,
            pass_rate=by_status[ValidationStatus.PASSED] / finished if finished else None,
            average_duration_seconds=float(average) if average is not None else None,
        )

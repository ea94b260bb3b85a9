"""What every task needs: the correlation id, audit entries, SystemConfig values, retry policy."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

from storage.db.enums import AuditAction, AuditEntity
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import unit_of_work
from tasks.errors import is_transient

# SystemConfig keys read at run time, with the defaults used when a key is not set.
MAX_PARALLEL_VALIDATIONS = ("MAX_PARALLEL_VALIDATIONS", 2)
SAMPLE_RETENTION_DAYS = ("SAMPLE_RETENTION_DAYS", 30)
REPAIR_ATTEMPTS = ("REPAIR_ATTEMPTS", 2)
APPROVAL_TIMEOUT_SECONDS = ("APPROVAL_TIMEOUT_SECONDS", 7 * 24 * 3600)
APPROVAL_MAX_FAILED_LOGINS = ("APPROVAL_MAX_FAILED_LOGINS", 5)
APPROVAL_LOCKOUT_SECONDS = ("APPROVAL_LOCKOUT_SECONDS", 15 * 60)
MAX_SAMPLE_BYTES = ("MAX_SAMPLE_BYTES", 200 * 1024 * 1024)
MAX_DOCUMENT_BYTES = ("MAX_DOCUMENT_BYTES", 200 * 1024 * 1024)
KNOWLEDGE_SNIPPETS = ("KNOWLEDGE_SNIPPETS", 5)
VALIDATION_STALE_SECONDS = ("VALIDATION_STALE_SECONDS", 3600)

RETRY_DELAYS_S = exponential_backoff(backoff_factor=1)
"""Exponential backoff (1, 2, 4 s...) for steps that can fail transiently (database, objects)."""


def flow_run_id() -> uuid.UUID | None:
    """The id of the flow run this code runs in (None outside a flow run)."""
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return uuid.UUID(str(run_id)) if run_id else None


def correlation_id() -> str:
    """The flow run id: every audit entry of one lifecycle run shares it."""
    run_id = flow_run_id()
    return str(run_id) if run_id else "local"


async def config_int(uow: UnitOfWork, setting: tuple[str, int]) -> int:
    key, default = setting
    return int(await uow.config.get_value(key, default))


async def read_config_int(setting: tuple[str, int]) -> int:
    """A SystemConfig integer read in its own short transaction (flows hold none)."""
    async with unit_of_work() as uow:
        return await config_int(uow, setting)


async def audit(
    uow: UnitOfWork,
    *,
    action: AuditAction,
    entity: AuditEntity,
    entity_id: uuid.UUID | str | None,
    details: dict[str, Any],
    user_id: uuid.UUID | None = None,
) -> None:
    await uow.audit.create_log(
        user_id,
        action,
        entity,
        entity_id,
        details=details,
        correlation_id=correlation_id(),
    )


def retry_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect retry condition: retry only when the failure was not bad input."""
    # The sync form explicitly: this hook runs inside the (async) task engine.
    outcome = state.result(raise_on_failure=False, _sync=True)  # type: ignore[call-overload]
    return isinstance(outcome, BaseException) and is_transient(outcome)

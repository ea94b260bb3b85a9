"""Taking over a request whose run died: remove what that run left half-done.

A process killed between an upload and the commit that records it leaves an object no row names
(its compensation never ran), and a killed upload leaves its temporary file. The run that
adopts the request (`tagen request resume`) lists the request's objects and deletes those no
row names, before it goes on. Rows are never removed: a row whose step did not finish (a
revision not yet validated, a validation run still QUEUED or RUNNING) is the step the new run
continues from.
"""

from __future__ import annotations

import asyncio
import uuid

from prefect import task

from storage.db.enums import AuditAction, AuditEntity
from storage.objects import ObjectStore
from tasks.backends import get_backends, unit_of_work
from tasks.compensation import delete_objects
from tasks.object_keys import request_prefixes
from tasks.runtime import RETRY_DELAYS_S, audit, retry_transient


def _listed(objects: ObjectStore, request_id: str) -> list[str]:
    return [key for prefix in request_prefixes(request_id) for key in objects.keys(prefix)]


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def remove_orphan_objects(request_id: str) -> list[str]:
    """Delete the request's objects that no row names (audited); returns their keys.

    Listed first, then the rows read: an object is stored before its row is written, so one
    listed here whose row is missing afterwards belongs to no live step (this run drives the
    request now).
    """
    objects = get_backends().objects
    listed = await asyncio.to_thread(_listed, objects, request_id)
    if not listed:
        return []
    async with unit_of_work() as uow:
        request = await uow.requests.get_full_details(uuid.UUID(request_id))
        if request is None:
            return []
        named: set[str | None] = {sample.storage_key for sample in request.log_samples}
        named |= {revision.storage_key for revision in request.ta_revisions}
        named |= {run.debug_bundle_key for run in request.validation_runs}
    orphans = [key for key in listed if key not in named]
    if not orphans:
        return []
    await asyncio.to_thread(delete_objects, objects, orphans)
    async with unit_of_work() as uow:
        await audit(
            uow,
            action=AuditAction.DELETE,
            entity=AuditEntity.REQUEST,
            entity_id=request_id,
            details={"orphan_objects": orphans, "reason": "left by an interrupted run"},
        )
        await uow.commit()
    return orphans

"""TA revisions: storing a new one (generated or uploaded), a human-uploaded (MANUAL) TA, and
downloads.

A revision's package is uploaded before its row exists, under a key of its own, and then
recorded in one short unit of work: the request row that `create_next_revision` locks to
allocate the version is held for the insert only, never during the upload. If that unit of
work fails, the object is deleted again (no orphan package, no row without its package).

An uploaded archive is unpacked with the engine's safe unpacker (no traversal, no links, size
limits) and loaded as a TA before anything is stored, so a malformed upload leaves nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task

from engine.conf.ta import TA, InvalidTAError, load_ta
from engine.packaging.unpack import UnsafeArchiveError, unpacked_ta
from storage.db.enums import AuditAction, AuditEntity, TARevisionType
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import get_backends, unit_of_work
from tasks.compensation import discard
from tasks.errors import LifecycleError
from tasks.object_keys import revision_key
from tasks.runtime import RETRY_DELAYS_S, audit, retry_transient


@dataclass(frozen=True)
class DownloadedRevision:
    path: Path
    version: int
    checksum: str


async def store_revision(
    request_id: uuid.UUID,
    *,
    package: Path,
    row: dict[str, Any],
    action: AuditAction,
    details: dict[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
    with_revision: Callable[[UnitOfWork, uuid.UUID], Awaitable[None]] | None = None,
) -> str:
    """Upload `package`, then record it as the request's next revision (`row`: its columns
    besides version and storage), audited, in one unit of work; returns the revision id.

    `with_revision` writes what belongs to the revision (its generation session) in that same
    unit of work: both are stored, or neither, so a retried task never finds one without the
    other."""
    backends = get_backends()
    key = revision_key(request_id, uuid.uuid4().hex, package.name)
    stored = await asyncio.to_thread(
        backends.objects.put_file, key, package, content_type="application/gzip"
    )
    try:
        async with unit_of_work() as uow:
            revision = await uow.revisions.create_next_revision(
                request_id,
                {
                    **row,
                    "storage_bucket": backends.bucket,
                    "storage_key": stored.key,
                    "checksum": stored.sha256,
                    "file_size": stored.size,
                },
            )
            await audit(
                uow,
                action=action,
                entity=AuditEntity.TA_REVISION,
                entity_id=revision.id,
                user_id=user_id,
                details={
                    "request_id": str(request_id),
                    "version": revision.version,
                    "sha256": stored.sha256,
                    "key": stored.key,
                    **(details or {}),
                },
            )
            if with_revision is not None:
                await with_revision(uow, revision.id)
            await uow.commit()
            return str(revision.id)
    except BaseException:
        await discard(backends.objects, [stored.key])
        raise


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def register_manual_revision(request_id: str, archive: str, uploaded_by: str) -> str:
    """Check and store an uploaded TA as the request's next (MANUAL) revision; returns its id."""
    path = Path(archive).expanduser()
    try:
        ta = await asyncio.to_thread(_load_uploaded, path)
    except (UnsafeArchiveError, InvalidTAError) as exc:
        raise LifecycleError(f"uploaded TA {path.name}: {exc}") from exc
    rid = uuid.UUID(request_id)
    async with unit_of_work() as uow:
        await uow.requests.get(rid)
        user = await uow.users.get_by_username(uploaded_by)
        if user is None or not user.is_active:
            raise LifecycleError(f"uploader {uploaded_by!r} is not an active user")
    return await store_revision(
        rid,
        package=path,
        row={
            "generated_by": TARevisionType.MANUAL,
            "generated_by_user": user.id,
            "config_summary": {"name": ta.app_id, "version": ta.version},
            "generation_metadata": {"uploaded_file": path.name},
        },
        action=AuditAction.UPLOAD,
        user_id=user.id,
    )


def _load_uploaded(path: Path) -> TA:
    with unpacked_ta(path) as ta_dir:
        return load_ta(ta_dir)


async def download_revision(
    request_id: str, *, version: int | None, destination: Path, username: str | None = None
) -> DownloadedRevision:
    """Copy a revision's package (latest when `version` is None) to `destination` (a dir)."""
    rid = uuid.UUID(request_id)
    async with unit_of_work() as uow:
        revisions = await uow.revisions.get_revision_history(rid)
        chosen = [r for r in revisions if version is None or r.version == version]
        if not chosen or chosen[0].storage_key is None:
            which = f"v{version}" if version is not None else "any revision"
            raise LifecycleError(f"request {request_id} has no stored {which}")
        revision = chosen[0]
        user = await uow.users.get_by_username(username) if username else None
    key = revision.storage_key or ""
    target = await asyncio.to_thread(_fetch, key, destination)
    async with unit_of_work() as uow:
        await audit(
            uow,
            action=AuditAction.DOWNLOAD,
            entity=AuditEntity.TA_REVISION,
            entity_id=revision.id,
            user_id=user.id if user else None,
            details={"request_id": request_id, "version": revision.version, "to": str(target)},
        )
        await uow.commit()
    return DownloadedRevision(target, revision.version, revision.checksum or "")


def _fetch(key: str, destination: Path) -> Path:
    """The object at `key` as `destination/<its name>`, complete or not at all."""
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / Path(key).name
    partial = target.with_name(target.name + ".partial")
    get_backends().objects.get(key, destination=partial)
    shutil.move(partial, target)
    return target

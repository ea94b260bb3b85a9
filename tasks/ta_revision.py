"""TA revisions outside generation: a human-uploaded (MANUAL) TA, and downloads.

An uploaded archive is unpacked with the engine's safe unpacker (no traversal, no links, size
limits) and loaded as a TA before anything is stored, so a malformed upload leaves nothing.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task

from engine.conf.ta import InvalidTAError, load_ta
from engine.packaging.unpack import UnsafeArchiveError, unpacked_ta
from storage.db.enums import AuditAction, TARevisionType
from storage.db.models import TARevision
from storage.db.unit_of_work import UnitOfWork
from tasks.backends import get_backends
from tasks.errors import LifecycleError
from tasks.runtime import RETRY_DELAYS_S, audit, retry_transient


@dataclass(frozen=True)
class DownloadedRevision:
    path: Path
    version: int
    checksum: str


async def store_package_and_commit(
    uow: UnitOfWork,
    *,
    revision: TARevision,
    package: Path,
    action: AuditAction,
    details: dict[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> None:
    """Upload a new revision's package, record where it is, audit and commit.

    The upload happens before the commit, so its compensation is here too: if recording or
    committing fails, the object is deleted (no orphan package, no row without its package).
    """
    backends = get_backends()
    key = f"tas/{revision.request_id}/v{revision.version}/{package.name}"
    stored = backends.objects.put_file(key, package, content_type="application/gzip")
    try:
        await uow.revisions.update(
            revision.id,
            {
                "storage_bucket": backends.bucket,
                "storage_key": stored.key,
                "checksum": stored.sha256,
                "file_size": stored.size,
            },
        )
        await audit(
            uow,
            action=action,
            entity_type="TARevision",
            entity_id=revision.id,
            user_id=user_id,
            details={
                "request_id": str(revision.request_id),
                "version": revision.version,
                "sha256": stored.sha256,
                "key": stored.key,
                **(details or {}),
            },
        )
        await uow.commit()
    except BaseException:
        backends.objects.delete(stored.key)
        raise


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def register_manual_revision(request_id: str, archive: str, uploaded_by: str) -> str:
    """Check and store an uploaded TA as the request's next (MANUAL) revision; returns its id."""
    path = Path(archive).expanduser()
    try:
        with unpacked_ta(path) as ta_dir:
            ta = load_ta(ta_dir)
    except (UnsafeArchiveError, InvalidTAError) as exc:
        raise LifecycleError(f"uploaded TA {path.name}: {exc}") from exc
    rid = uuid.UUID(request_id)
    async with UnitOfWork() as uow:
        user = await uow.users.get_by_username(uploaded_by)
        if user is None or not user.is_active:
            raise LifecycleError(f"uploader {uploaded_by!r} is not an active user")
        revision = await uow.revisions.create_next_revision(
            rid,
            {
                "generated_by": TARevisionType.MANUAL,
                "generated_by_user": user.id,
                "config_summary": {"name": ta.app_id, "version": ta.version},
                "generation_metadata": {"uploaded_file": path.name},
            },
        )
        await store_package_and_commit(
            uow,
            revision=revision,
            package=path,
            action=AuditAction.UPLOAD,
            user_id=user.id,
        )
        return str(revision.id)


async def download_revision(
    request_id: str, *, version: int | None, destination: Path, username: str | None = None
) -> DownloadedRevision:
    """Copy a revision's package (latest when `version` is None) to `destination` (a dir)."""
    rid = uuid.UUID(request_id)
    async with UnitOfWork() as uow:
        revisions = await uow.revisions.get_revision_history(rid)
        chosen = [r for r in revisions if version is None or r.version == version]
        if not chosen or chosen[0].storage_key is None:
            which = f"v{version}" if version is not None else "any revision"
            raise LifecycleError(f"request {request_id} has no stored {which}")
        revision = chosen[0]
        key = revision.storage_key or ""
        destination.mkdir(parents=True, exist_ok=True)
        target = destination / Path(key).name
        partial = target.with_name(target.name + ".partial")
        get_backends().objects.get(key, destination=partial)
        shutil.move(partial, target)
        user = await uow.users.get_by_username(username) if username else None
        await audit(
            uow,
            action=AuditAction.DOWNLOAD,
            entity_type="TARevision",
            entity_id=revision.id,
            user_id=user.id if user else None,
            details={"request_id": request_id, "version": revision.version, "to": str(target)},
        )
        await uow.commit()
        return DownloadedRevision(target, revision.version, revision.checksum or "")

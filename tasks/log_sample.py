"""Ingest log samples: validate every sample first, then store objects, then rows in one commit.

Bad input (missing file, empty, binary, too large) fails before anything is stored. If the
database commit fails after the objects were written, the objects are deleted again, so no
object is left without its row.
"""

from __future__ import annotations

import asyncio
import mimetypes
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from prefect import task

from engine.samples import SampleError, read_sample_text
from storage.db.enums import AuditAction
from storage.db.unit_of_work import UnitOfWork
from storage.objects import StoredObject
from tasks.backends import get_backends
from tasks.errors import LifecycleError
from tasks.runtime import (
    MAX_SAMPLE_BYTES,
    RETRY_DELAYS_S,
    SAMPLE_RETENTION_DAYS,
    audit,
    config_int,
    retry_transient,
)

PREVIEW_CHARS = 2000
PASTED_NAME = "pasted-{n}.log"


@dataclass(frozen=True)
class _Staged:
    filename: str
    path: Path
    mime_type: str
    preview: str


def _filename(spec: str, index: int) -> str:
    name = Path(unquote(urlparse(spec).path) if "://" in spec else spec).name
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip("._")
    return f"{index:02d}-{safe or 'sample.log'}"


def _stage(spec: str, index: int, workdir: Path, *, max_bytes: int) -> _Staged:
    """Copy one sample to `workdir` and check it; raises LifecycleError naming the sample."""
    target = workdir / f"{index:02d}"
    if spec.startswith("s3://"):
        filename = _filename(spec, index)
        get_backends().download_s3(spec, target)
    elif spec.startswith("file://"):
        filename = _filename(spec, index)
        _copy_local(Path(unquote(urlparse(spec).path)), target, spec)
    elif "\n" not in spec and Path(spec).expanduser().is_file():
        filename = _filename(spec, index)
        _copy_local(Path(spec).expanduser(), target, spec)
    elif "\n" in spec:
        filename = f"{index:02d}-{PASTED_NAME.format(n=index)}"
        target.write_text(spec, encoding="utf-8")
    else:
        raise LifecycleError(f"sample {spec!r}: file not found (give a path, a URI or the text)")
    size = target.stat().st_size
    if size > max_bytes:
        raise LifecycleError(
            f"sample {filename}: {size} bytes is more than the {max_bytes} allowed"
        )
    try:
        preview = read_sample_text(target, max_chars=PREVIEW_CHARS)
    except SampleError as exc:
        raise LifecycleError(str(exc).replace(str(target), filename)) from exc
    mime_type = mimetypes.guess_type(filename)[0] or "text/plain"
    return _Staged(filename=filename, path=target, mime_type=mime_type, preview=preview)


def _stage_all(samples: list[str], workdir: Path, *, max_bytes: int) -> list[_Staged]:
    """Stage every sample before anything is stored (blocking I/O: run in a worker thread)."""
    return [
        _stage(spec, index, workdir, max_bytes=max_bytes)
        for index, spec in enumerate(samples, start=1)
    ]


def _copy_local(source: Path, target: Path, spec: str) -> None:
    if not source.is_file():
        raise LifecycleError(f"sample {spec!r}: file not found")
    shutil.copyfile(source, target)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def ingest_samples(request_id: str, samples: list[str]) -> list[str]:
    """Store the samples of a request; on retry, the samples already stored are returned."""
    if not samples:
        raise LifecycleError("a request needs at least one log sample")
    rid = uuid.UUID(request_id)
    async with UnitOfWork() as uow:
        existing = await uow.samples.get_by_request(rid)
        if existing:
            return [str(s.id) for s in existing]
        max_bytes = await config_int(uow, MAX_SAMPLE_BYTES)
        retention_days = await config_int(uow, SAMPLE_RETENTION_DAYS)
    backends = get_backends()
    stored: list[StoredObject] = []
    with tempfile.TemporaryDirectory(prefix="tagen-samples-") as tmp:
        staged = await asyncio.to_thread(_stage_all, samples, Path(tmp), max_bytes=max_bytes)
        try:
            for item in staged:
                stored.append(
                    await asyncio.to_thread(
                        backends.objects.put_file,
                        f"samples/{request_id}/{item.filename}",
                        item.path,
                        content_type=item.mime_type,
                    )
                )
            retention_until = datetime.now(UTC) + timedelta(days=retention_days)
            async with UnitOfWork() as uow:
                ids: list[str] = []
                for item, obj in zip(staged, stored, strict=True):
                    row = await uow.samples.create(
                        {
                            "request_id": rid,
                            "filename": item.filename,
                            "storage_bucket": backends.bucket,
                            "storage_key": obj.key,
                            "file_size": obj.size,
                            "mime_type": item.mime_type,
                            "checksum": obj.sha256,
                            "sample_preview": item.preview,
                            "retention_until": retention_until,
                        }
                    )
                    ids.append(str(row.id))
                await audit(
                    uow,
                    action=AuditAction.UPLOAD,
                    entity_type="Request",
                    entity_id=rid,
                    details={
                        "samples": [
                            {"key": obj.key, "size": obj.size, "sha256": obj.sha256}
                            for obj in stored
                        ]
                    },
                )
                await uow.commit()
                return ids
        except BaseException:
            for obj in stored:  # compensation: no object without its row
                backends.objects.delete(obj.key)
            raise

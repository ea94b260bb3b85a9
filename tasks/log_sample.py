"""Ingest log samples: check every sample first, then store objects, then rows in one commit.

Bad input (missing file, empty, binary, too large) fails before anything is stored. If the
database commit fails after the objects were written, the objects are deleted again, so no
object is left without its row.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from prefect import task
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.samples import SampleError, open_regular, read_sample_text
from storage.db.enums import AuditAction, AuditEntity
from storage.objects import ObjectStore, StoredObject
from tasks.backends import get_backends, unit_of_work
from tasks.compensation import delete_objects, discard
from tasks.errors import LifecycleError
from tasks.object_keys import sample_key
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
SampleKind = Literal["path", "uri", "text"]
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class SampleSpec(BaseModel):
    """One log sample of a request, saying what it is: a local path, a URI (`file://`,
    `s3://`) or pasted text. A plain string is read as a URI when it has a scheme, else as a
    path (never as text: pasted text is given as such, so a one-line paste is no missing file).
    """

    model_config = ConfigDict(frozen=True)

    kind: SampleKind = Field(description="path, uri (file:// or s3://) or text (pasted)")
    value: str = Field(min_length=1, description="the path, the URI or the pasted text")

    @model_validator(mode="before")
    @classmethod
    def _from_location(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"kind": "uri" if URI_SCHEME.match(data) else "path", "value": data}
        return data

    @classmethod
    def location(cls, value: str) -> SampleSpec:
        """A path or a URI, as the CLI's --sample gives them."""
        return cls.model_validate(value)

    @classmethod
    def pasted(cls, text: str) -> SampleSpec:
        return cls(kind="text", value=text)


SampleArgument = SampleSpec | str
"""What the lifecycle accepts for a sample: a SampleSpec, or a path or URI as a plain string
(what API callers and the deployment's parameter schema may send; never pasted text)."""


@dataclass(frozen=True)
class _Staged:
    filename: str
    path: Path
    mime_type: str
    preview: str


def _filename(spec: SampleSpec, index: int) -> str:
    if spec.kind == "text":
        return f"{index:02d}-{PASTED_NAME.format(n=index)}"
    name = Path(unquote(urlparse(spec.value).path) if spec.kind == "uri" else spec.value).name
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip("._")
    return f"{index:02d}-{safe or 'sample.log'}"


def _fetch(spec: SampleSpec, target: Path, download_s3: Callable[[str, Path], None]) -> None:
    """Copy the sample to `target`; LifecycleError naming it when it cannot be read."""
    if spec.kind == "text":
        target.write_text(spec.value, encoding="utf-8")
        return
    if spec.kind == "path":
        _copy_local(Path(spec.value).expanduser(), target)
        return
    scheme = urlparse(spec.value).scheme
    if scheme == "s3":
        download_s3(spec.value, target)
    elif scheme == "file":
        _copy_local(Path(unquote(urlparse(spec.value).path)), target)
    else:
        raise LifecycleError(f"sample {spec.value!r}: unsupported URI scheme (file:// or s3://)")


def _stage(
    spec: SampleSpec,
    index: int,
    workdir: Path,
    *,
    max_bytes: int,
    download_s3: Callable[[str, Path], None],
) -> _Staged:
    """Copy one sample to `workdir` and check it; raises LifecycleError naming the sample."""
    target = workdir / f"{index:02d}"
    filename = _filename(spec, index)
    _fetch(spec, target, download_s3)
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


def _stage_all(
    samples: list[SampleSpec],
    workdir: Path,
    *,
    max_bytes: int,
    download_s3: Callable[[str, Path], None],
) -> list[_Staged]:
    """Stage every sample before anything is stored (blocking I/O: run in a worker thread)."""
    return [
        _stage(spec, index, workdir, max_bytes=max_bytes, download_s3=download_s3)
        for index, spec in enumerate(samples, start=1)
    ]


def _copy_local(source: Path, target: Path) -> None:
    """Copy a regular file; a missing one, a folder, a FIFO or a device is refused saying which
    (without a blocking open)."""
    try:
        with open_regular(source) as stream, target.open("wb") as copy:
            shutil.copyfileobj(stream, copy)
    except SampleError as exc:
        raise LifecycleError(str(exc)) from exc


def _put_all(objects: ObjectStore, request_id: str, staged: list[_Staged]) -> list[StoredObject]:
    """Upload the staged samples (blocking I/O); what was stored is deleted if one fails."""
    stored: list[StoredObject] = []
    try:
        for item in staged:
            key = sample_key(request_id, item.filename)
            stored.append(objects.put_file(key, item.path, content_type=item.mime_type))
    except BaseException:
        delete_objects(objects, [obj.key for obj in stored])
        raise
    return stored


@task(retries=3, retry_delay_seconds=RETRY_DELAYS_S, retry_condition_fn=retry_transient)
async def ingest_samples(request_id: str, samples: list[SampleArgument]) -> list[str]:
    """Store the samples of a request; on retry, the samples already stored are returned.

    Staging and uploading run in a worker thread with no transaction open; the rows are
    written in one short unit of work afterwards, and the objects deleted if it fails.
    """
    if not samples:
        raise LifecycleError("a request needs at least one log sample")
    specs = [SampleSpec.model_validate(spec) for spec in samples]
    rid = uuid.UUID(request_id)
    async with unit_of_work() as uow:
        existing = await uow.samples.get_by_request(rid)
        if existing:
            return [str(s.id) for s in existing]
        max_bytes = await config_int(uow, MAX_SAMPLE_BYTES)
        retention_days = await config_int(uow, SAMPLE_RETENTION_DAYS)
    backends = get_backends()
    with tempfile.TemporaryDirectory(prefix="tagen-samples-") as tmp:
        staged = await asyncio.to_thread(
            _stage_all, specs, Path(tmp), max_bytes=max_bytes, download_s3=backends.download_s3
        )
        stored = await asyncio.to_thread(_put_all, backends.objects, request_id, staged)
    try:
        retention_until = datetime.now(UTC) + timedelta(days=retention_days)
        async with unit_of_work() as uow:
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
                entity=AuditEntity.REQUEST,
                entity_id=rid,
                details={
                    "samples": [
                        {"key": obj.key, "size": obj.size, "sha256": obj.sha256} for obj in stored
                    ]
                },
            )
            await uow.commit()
            return ids
    except BaseException:  # compensation: no object without its row
        await discard(backends.objects, [obj.key for obj in stored])
        raise

"""No object-store I/O inside an open transaction or on the event loop.

A task that uploads while its unit of work is open holds a transaction (and, for a new
revision, the request's row lock) for as long as the object store takes; one that does blocking
I/O on the event loop stalls every other coroutine of the run. The store below fails the test
when either happens: every call checks that it runs outside the event loop's thread, and asks
PostgreSQL, from a connection of its own, whether any session of the application's database is
inside a transaction at that moment.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
import pytest

from storage.objects import LocalObjectStore, StoredObject
from tests.flows.conftest import SAMPLE, FlowThread, decide, run

pytestmark = pytest.mark.usefixtures("lifecycle_env")

OPEN_TRANSACTIONS = """
SELECT pid, state, left(query, 120) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend' AND xact_start IS NOT NULL
"""


class GuardedObjectStore:
    """A local object store that records each call made on an event loop or while a
    transaction of the application's database is open."""

    def __init__(self, inner: LocalObjectStore, db_url: str) -> None:
        self.inner = inner
        self.root = inner.root
        self.conninfo = db_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.calls: list[str] = []
        self.violations: list[str] = []

    def _check(self, operation: str, key: str) -> None:
        self.calls.append(operation)
        try:
            asyncio.get_running_loop()
            self.violations.append(f"{operation} {key}: on the event loop")
        except RuntimeError:
            pass
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            open_now = conn.execute(OPEN_TRANSACTIONS).fetchall()
        if open_now:
            self.violations.append(f"{operation} {key}: transactions open {open_now}")

    def put_stream(self, key: str, stream: BinaryIO, **options: Any) -> StoredObject:
        self._check("put", key)
        return self.inner.put_stream(key, stream, **options)

    def put_file(self, key: str, path: Path, **options: Any) -> StoredObject:
        self._check("put", key)
        return self.inner.put_file(key, path, **options)

    def get(self, key: str, *, destination: Path) -> Path:
        self._check("get", key)
        return self.inner.get(key, destination=destination)

    def open(self, key: str) -> BinaryIO:
        self._check("open", key)
        return self.inner.open(key)

    def delete(self, key: str) -> bool:
        self._check("delete", key)
        return self.inner.delete(key)

    def exists(self, key: str) -> bool:
        self._check("exists", key)
        return self.inner.exists(key)

    def keys(self, prefix: str) -> list[str]:
        self._check("keys", prefix)
        return self.inner.keys(prefix)

    def url(self, key: str) -> str:  # no I/O
        return self.inner.url(key)


@pytest.fixture
def guarded(test_backends: Any, db_url: str, tmp_path: Path):
    from tasks import backends as task_backends
    from tasks.validators import LocalValidator

    store = GuardedObjectStore(LocalObjectStore(root=tmp_path / "objects"), db_url)
    validator = LocalValidator(objects=store, settings=test_backends.sandbox)
    task_backends.install(replace(test_backends, objects=store, validator=validator))
    yield store
    task_backends.install(test_backends)


async def _request(request_id: str):
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        return await uow.requests.get_full_details(uuid.UUID(request_id))


def test_every_object_store_call_of_the_tasks_is_off_the_loop_and_outside_transactions(
    guarded: GuardedObjectStore, tmp_path: Path
):
    from flows.request_lifecycle import manual_revision
    from tasks.knowledge_document import index_document, register_document
    from tasks.retention import delete_sample
    from tasks.ta_revision import download_revision

    flow = FlowThread(
        requester="req-ann", source_system="guarded", samples=[str(SAMPLE)], cim_required=False
    )
    request_id, flow_run_id = flow.request_and_run()
    flow.wait_paused(flow_run_id, key="approval-1")
    decide(request_id, approved=True, approver="appr-bob")
    assert flow.join()["status"] == "COMPLETED"

    v1 = run(download_revision(request_id, version=1, destination=tmp_path / "dl"))
    assert run(manual_revision(request_id, str(v1.path), "req-ann"))["passed"] is True
    notes = tmp_path / "notes.md"
    notes.write_text(f"# Guarded {uuid.uuid4()}\n\nLINE_BREAKER notes.\n")
    document_id, created = run(register_document(notes, kind="markdown", title="guarded"))
    assert created and run(index_document.fn(document_id)) > 0
    [sample] = run(_request(request_id)).log_samples
    assert run(delete_sample.fn(str(sample.id))) is True

    # every kind of call happened (ingest, generation, revisions, validation, knowledge,
    # retention), and none of them on the loop or inside a transaction
    assert {"put", "get", "exists", "delete"} <= set(guarded.calls), guarded.calls
    assert guarded.calls.count("put") >= 5  # sample, v1, bundle, v2 (manual), bundle, document
    assert guarded.violations == []


def test_the_guard_sees_an_upload_inside_a_unit_of_work(guarded: GuardedObjectStore):
    """The guard itself: an upload while a transaction is open is recorded."""
    from tasks.backends import unit_of_work

    async def upload_inside() -> None:
        async with unit_of_work() as uow:
            await uow.requests.count()
            await asyncio.to_thread(guarded.put_file, "x/inside.log", SAMPLE)

    run(upload_inside())
    assert len(guarded.violations) == 1 and "transactions open" in guarded.violations[0]
    guarded.violations.clear()
    run(asyncio.to_thread(guarded.exists, "x/inside.log"))
    assert guarded.violations == []

    async def on_the_loop() -> None:
        guarded.delete("x/inside.log")

    run(on_the_loop())
    assert guarded.violations == ["delete x/inside.log: on the event loop"]

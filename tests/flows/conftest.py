"""Prefect for real (a test server with its own temporary database) and the app's PostgreSQL.

Flows run in a worker thread with their own event loop, as a deployment's process would;
the tests talk to the Prefect API to watch and resume them.

Flows, the CLI and served deployments commit for real, and audit_logs refuses deletes: these
suites get a migrated database of their own (`db_url` overridden for this directory), dropped
when they finish, so nothing they write stays in the shared session database.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import secrets
import threading
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
SAMPLE = Path(__file__).resolve().parents[2] / "tagen" / "demo_samples" / "nginx_access.log"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run app code on a fresh loop and close its database engine afterwards."""

    async def wrapped() -> T:
        from storage.db.session import dispose_engine

        try:
            return await coro
        finally:
            await dispose_engine()

    return asyncio.run(wrapped())


FLOWS_DATABASE = "tagen_flows"

PASSWORDS = {name: secrets.token_urlsafe(18) for name in ("req-ann", "appr-bob", "no-role-carl")}
"""The seeded users' passwords, new for each test session: decisions are authenticated."""


@pytest.fixture(scope="package")
def db_url(pg_server: Any) -> Iterator[str]:
    """A freshly migrated database for the flow suites; DATABASE_URL (application role) and
    DATABASE_OWNER_URL point at it meanwhile."""
    from storage.db import migrate
    from storage.db.session import dispose_engine

    migrate.upgrade("head", url=pg_server.create_database(FLOWS_DATABASE, fresh=True))
    with pg_server.environment(FLOWS_DATABASE) as app_url:
        yield app_url
        asyncio.run(dispose_engine())
    pg_server.drop_database(FLOWS_DATABASE)


@pytest.fixture(scope="package")
def prefect_server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=180),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


def local_backends(objects: Any) -> Any:
    """The application's database, `objects`, the default sandbox settings, the local
    validator, the default embedder and pgvector (no S3)."""
    from engine.settings import SandboxSettings
    from storage.db.session import get_session_factory
    from storage.vectors import HashingEmbedder
    from storage.vectors.pgvector_store import PgVectorStore
    from tasks import backends as task_backends
    from tasks.validators import LocalValidator

    def no_s3(uri: str, destination: Path) -> None:
        raise AssertionError("no S3 in these tests")

    sandbox = SandboxSettings()
    embedder = HashingEmbedder()
    return task_backends.Backends(
        sessions=get_session_factory,
        objects=objects,
        bucket="local",
        download_s3=no_s3,
        sandbox=sandbox,
        validator=LocalValidator(objects=objects, settings=sandbox),
        embedder=embedder,
        vectors=PgVectorStore(
            sessions=get_session_factory, namespace=embedder.name, dimensions=embedder.dimensions
        ),
    )


@pytest.fixture(scope="session")
def test_backends(tmp_path_factory: pytest.TempPathFactory):
    """One local object store for the session, with local_backends()."""
    from storage.objects import LocalObjectStore

    return local_backends(LocalObjectStore(root=tmp_path_factory.mktemp("objects")))


@pytest.fixture
def backends(test_backends: Any):
    """The test backends, installed for each test (a test that imported the deployment
    entrypoints, or ran a CLI command, provided tagen's configured backends instead)."""
    from tasks import backends as task_backends

    task_backends.install(test_backends)
    return test_backends


@pytest.fixture(scope="package")
def users(db_url: str, test_backends: Any) -> dict[str, str]:
    from storage.db.enums import UserRoleEnum
    from storage.db.passwords import hash_password
    from tasks import backends as task_backends
    from tasks.user import ensure_user, set_password

    task_backends.install(test_backends)

    async def seed() -> dict[str, str]:
        seeded = {
            "requester": await ensure_user("req-ann", roles=(UserRoleEnum.REQUESTOR,)),
            "approver": await ensure_user("appr-bob", roles=(UserRoleEnum.APPROVER,)),
            "nobody": await ensure_user("no-role-carl", roles=()),
        }
        for username, password in PASSWORDS.items():
            await set_password(username, hash_password(password), via="test")
        return seeded

    return run(seed())


@pytest.fixture
def lifecycle_env(prefect_server: None, backends: Any, users: dict[str, str]) -> None:
    return None


async def set_config(key: str, value: int) -> None:
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        await uow.config.set_value(key, value, "integer")
        await uow.commit()


class FlowThread:
    """A lifecycle flow running in its own thread; its result or exception after join()."""

    def __init__(self, **parameters: Any) -> None:
        from flows.request_lifecycle import request_lifecycle

        self.key = parameters.setdefault("idempotency_key", f"test-{uuid.uuid4()}")
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None

        def target() -> None:
            try:
                self.result = run(request_lifecycle(**parameters))
            except BaseException as exc:
                self.error = exc

        # Prefect's settings (the test server's URL) live in context variables: carry them over.
        context = contextvars.copy_context()
        self.thread = threading.Thread(target=context.run, args=(target,), daemon=True)
        self.thread.start()

    def join(self, timeout: float = 120) -> dict[str, Any]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "flow did not finish"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def request_and_run(self, timeout: float = 60) -> tuple[str, uuid.UUID]:
        """The request id and the flow run driving it (tagen.lifecycle.find_request)."""
        from tagen import lifecycle

        found = run(lifecycle.find_request(self.key, timeout=timeout, running=self.thread.is_alive))
        assert found is not None and found.request_id, f"no request for {self.key}: {self.error!r}"
        return found.request_id, found.flow_run_id

    def wait_paused(self, flow_run_id: uuid.UUID, *, key: str, timeout: float = 60) -> None:
        from tagen import lifecycle

        kind = asyncio.run(
            lifecycle.wait(flow_run_id, until={"PAUSED"}, pause_key=key, timeout=timeout)
        )
        assert kind == "PAUSED", f"flow ended {kind} before pausing: {self.result} {self.error!r}"


def start_request(**overrides: Any) -> tuple[FlowThread, str, uuid.UUID]:
    """A lifecycle flow for req-ann's nginx sample (with `overrides`): the flow, its request and
    its flow run."""
    parameters: dict[str, Any] = {
        "requester": "req-ann",
        "source_system": "shop nginx",
        "description": "nginx access logs of the web shop",
        "cim_required": True,
        "samples": [str(SAMPLE)],
    }
    parameters.update(overrides)
    flow = FlowThread(**parameters)
    request_id, flow_run_id = flow.request_and_run()
    return flow, request_id, flow_run_id


async def request_details(request_id: str) -> tuple[Any, list[Any]]:
    """The request with its samples and revisions, and its run's audit trail."""
    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        request = await uow.requests.get_full_details(uuid.UUID(request_id))
        assert request is not None and request.flow_run_id is not None
        audit = await uow.audit.get_by_correlation_id(request.flow_run_id)
        return request, audit


def resume(flow_run_id: uuid.UUID, **run_input: Any) -> None:
    """Resume a paused run with raw input, as any API client may (schema checks included);
    `credential` is the approver's password when not given."""
    if "approver" in run_input:
        run_input.setdefault("credential", PASSWORDS.get(run_input["approver"], ""))
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(flow_run_id, run_input=run_input)


def decide(
    request_id: str,
    *,
    approved: bool,
    approver: str,
    reason: str = "",
    password: str | None = None,
    timeout: float = 60,
) -> Any:
    """tagen.lifecycle.decide: resume the request's run and wait for the approval step;
    `password` is the approver's own when not given."""
    from pydantic import SecretStr

    from tagen import lifecycle

    secret = SecretStr(PASSWORDS[approver] if password is None else password)
    return run(
        lifecycle.decide(
            request_id,
            approved=approved,
            approver=approver,
            password=secret,
            reason=reason,
            timeout=timeout,
        )
    )

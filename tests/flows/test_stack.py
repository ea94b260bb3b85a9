"""`tagen up` for real: served deployments, a suspended approval resumed via the API, `down`.

The stack gets its own TAGEN_HOME (PostgreSQL for Prefect, objects) and a free port; the
application database is the test database (DATABASE_URL), shared with the runner's processes.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.db_fixtures import scratch_dir
from tests.flows.conftest import PASSWORDS, SAMPLE, request_details, run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stack_home(monkeypatch: pytest.MonkeyPatch, users: dict[str, str]) -> Iterator[Path]:
    from storage.settings import clear_settings_cache
    from tagen import stack

    # Not pytest's owner-only tmp_path: PostgreSQL runs as its own OS user and must traverse it.
    home = scratch_dir("tagen-stack-test-") / "home"
    monkeypatch.setenv("TAGEN_HOME", str(home))
    monkeypatch.setenv("TAGEN_PREFECT_PORT", str(_free_port()))
    clear_settings_cache()
    stack.get_stack_settings.cache_clear()
    try:
        yield home
    finally:
        stack.down()
        monkeypatch.undo()
        clear_settings_cache()
        stack.get_stack_settings.cache_clear()
        shutil.rmtree(home.parent, ignore_errors=True)


async def _state(flow_run_id: uuid.UUID) -> tuple[str, str]:
    from prefect import get_client

    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
    assert flow_run.state is not None
    return flow_run.state.type.value, flow_run.state.name


def _wait(flow_run_id: uuid.UUID, wanted: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kind, name = asyncio.run(_state(flow_run_id))
        if kind == wanted or kind in ("FAILED", "CRASHED", "COMPLETED"):
            return name
        time.sleep(0.3)
    raise AssertionError(f"flow run {flow_run_id} never reached {wanted}")


def _tagen(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, as a user runs it (this test's environment)."""
    command = [sys.executable, "-c", "from tagen.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, input=stdin)


async def _stored_inputs(flow_run_id: uuid.UUID) -> dict[str, str]:
    """Every run input the Prefect server keeps for the run, by key."""
    from prefect import get_client

    async with get_client() as client:
        found = await client.filter_flow_run_input(flow_run_id, "", 100, set())
    return {item.key: item.value for item in found}


def test_up_serves_the_lifecycle_and_a_suspended_approval_resumes_from_a_deployment(
    stack_home: Path, monkeypatch: pytest.MonkeyPatch
):
    from prefect.deployments.flow_runs import run_deployment
    from prefect.flow_runs import resume_flow_run
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tagen import stack
    from tasks.request import describe_request

    state = stack.up()
    assert stack.running_stack() == state
    assert stack.up() == state  # a second `up` reuses the running stack
    stack.wait_for_deployments(state.api_url, names=(stack.REQUEST_DEPLOYMENT,))
    with temporary_settings({PREFECT_API_URL: state.api_url}):
        flow_run = run_deployment(
            stack.REQUEST_DEPLOYMENT,
            parameters={
                "requester": "req-ann",
                "source_system": "stack test",
                "samples": [str(SAMPLE)],
                "cim_required": True,
            },
            timeout=0,
        )
        assert _wait(flow_run.id, "PAUSED") == "Suspended"  # no process waits for the approver
        password = PASSWORDS["appr-bob"]
        resume_flow_run(
            flow_run.id,
            run_input={"approved": True, "approver": "appr-bob", "credential": password},
        )
        assert _wait(flow_run.id, "COMPLETED") == "Completed"
        # the run erased the password from the input the server stored for it
        stored = asyncio.run(_stored_inputs(flow_run.id))
        [response] = [value for key, value in stored.items() if key.endswith("-response")]
        assert '"approver": "appr-bob"' in response and '"credential": ""' in response
        assert not any(password in value for value in stored.values())

    async def request_of_run() -> str:
        from storage.db.enums import AuditEntity
        from storage.db.unit_of_work import UnitOfWork

        async with UnitOfWork() as uow:
            [request] = await uow.requests.get_all(0, 2, filters={"flow_run_id": flow_run.id})
            entries = await uow.audit.get_by_correlation_id(flow_run.id)
        created = [e for e in entries if (e.entity_type, str(e.action)) == ("request", "CREATE")]
        # re-running after the suspension did not create it twice
        assert [e.entity_id for e in created] == [str(request.id)]
        assert created[0].entity_type == AuditEntity.REQUEST
        return str(request.id)

    summary = run(describe_request(run(request_of_run())))
    assert summary.status == "COMPLETED"

    # The CLI drives a second run through tagen.lifecycle: submit (a pasted one-line sample),
    # reject, status.
    submitted = _tagen(
        "request", "submit", "--requester", "req-ann", "--source-system", "cli stack test",
        "--sample-text", SAMPLE.read_text().splitlines()[0], "--no-cim",
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    request_id = submitted.stdout.split("request: ")[1].strip()
    with temporary_settings({PREFECT_API_URL: state.api_url}):
        [flow_run_id] = [
            line.rsplit("/", 1)[1] for line in submitted.stdout.splitlines() if "flow run" in line
        ]
        assert _wait(uuid.UUID(flow_run_id), "PAUSED") == "Suspended"
    reject = ("request", "reject", request_id, "--approver", "appr-bob", "--reason", "no")
    monkeypatch.setenv("TAGEN_APPROVER_PASSWORD", "not " + password)  # read from the environment
    refused = _tagen(*reject)
    assert refused.returncode == 2
    assert "refused: authentication failed for approver 'appr-bob'" in refused.stderr
    with temporary_settings({PREFECT_API_URL: state.api_url}):
        assert _wait(uuid.UUID(flow_run_id), "PAUSED") == "Suspended"  # the gate waits again
    monkeypatch.delenv("TAGEN_APPROVER_PASSWORD")
    rejected = _tagen(*reject, stdin=password + "\n")  # the prompt reads stdin
    assert rejected.stdout.strip() == f"request {request_id}: REJECTED", rejected.stderr
    assert password not in rejected.stdout + rejected.stderr
    # the run re-ran from the top after each resume: the first decision, read again without its
    # password, came from the approval step's cached result instead of failing once more
    trail = run(request_details(request_id))[1]
    assert [a.details.get("authentication") for a in trail if "gate" in a.details] == [
        "failed",
        "verified",
    ]
    status = _tagen("request", "status", request_id)
    assert status.stdout.splitlines()[:3] == [
        f"request {request_id}: REJECTED",
        "  source system: cli stack test (requester req-ann)",
        "  reason: no",
    ]
    assert "01-pasted-1.log" in status.stdout and f"flow run {flow_run_id}" in status.stdout

    stopped = stack.down()
    assert any("Prefect server" in name for name in stopped)
    assert stack.running_stack() is None

"""`tagen demo`: the whole product on one machine, from a fresh checkout, in one command.

Starts (or reuses) the stack, seeds a requester and an approver, indexes the built-in
knowledge pack, submits a request with the bundled nginx sample through the request-lifecycle
deployment, approves it through Prefect's resume API (the same call the UI's Resume button
makes), waits for generation and validation and prints the outcome with its timings.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tagen import stack

DEMO_SAMPLE = Path(__file__).with_name("demo_samples") / "nginx_access.log"
REQUESTER = "demo-requester"
APPROVER = "demo-approver"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class DemoError(RuntimeError):
    """The demo could not finish (the message says at which step and where the logs are)."""


@dataclass
class Timings:
    started: float = field(default_factory=time.monotonic)
    marks: list[tuple[str, float]] = field(default_factory=list)

    def mark(self, label: str) -> None:
        self.marks.append((label, time.monotonic() - self.started))

    def render(self) -> str:
        previous = 0.0
        parts = []
        for label, at in self.marks:
            parts.append(f"{label} {at - previous:.1f}s")
            previous = at
        return f"total {previous:.1f}s (" + ", ".join(parts) + ")"


async def _seed_users() -> None:
    from storage.db.enums import UserRoleEnum
    from tasks.user import ensure_user

    await ensure_user(REQUESTER, roles=(UserRoleEnum.REQUESTOR,))
    await ensure_user(APPROVER, roles=(UserRoleEnum.APPROVER,))


async def _wait_state(flow_run_id: uuid.UUID, accept: set[str], *, timeout: float) -> str:
    from prefect import get_client

    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while time.monotonic() < deadline:
            flow_run = await client.read_flow_run(flow_run_id)
            kind = flow_run.state.type.value if flow_run.state else "PENDING"
            if kind in accept or kind in TERMINAL:
                return kind
            await asyncio.sleep(0.3)
    raise DemoError(f"flow run {flow_run_id} did not reach {sorted(accept)} in {timeout:.0f} s")


async def _outcome(request_id: str) -> list[str]:
    from storage.db.unit_of_work import UnitOfWork
    from tasks.backends import get_backends

    objects = get_backends().objects
    async with UnitOfWork() as uow:
        request = await uow.requests.get_full_details(uuid.UUID(request_id))
        if request is None:
            raise DemoError(f"request {request_id} not found")
        created = [
            a for a in await uow.audit.get_by_entity("Request", request.id) if a.correlation_id
        ]
        audit = await uow.audit.get_by_correlation_id(created[0].correlation_id or "")
    lines = [f"status:      {request.status}"]
    if request.failure_reason:
        lines.append(f"reason:      {request.failure_reason}")
    lines.append(f"samples:     {', '.join(s.filename for s in request.log_samples)}")
    if request.ta_revisions:
        revision = request.ta_revisions[-1]
        key = revision.storage_key or ""
        with objects.open(key) as stored:
            actual = hashlib.sha256(stored.read()).hexdigest()
        verified = "matches the stored object" if actual == revision.checksum else "MISMATCH"
        lines += [
            f"revision:    v{revision.version} ({revision.generated_by})",
            f"checksum:    sha256 {revision.checksum} ({verified})",
            f"TA:          {objects.url(key)}",
        ]
    for run in request.validation_runs:
        verdict = f"validation:  {run.status}"
        if run.results_json:
            verdict += f" ({run.results_json.get('events', 0)} events"
            verdict += f", fields in {run.results_json.get('field_event_ratio', 0):.0%} of them)"
        lines.append(verdict)
        if run.debug_bundle_key:
            lines.append(f"bundle:      {objects.url(run.debug_bundle_key)}")
    steps = sorted({f"{a.entity_type}.{a.action}" for a in audit})
    lines.append(f"audit:       {len(audit)} entries, correlation id {audit[0].correlation_id}")
    lines.append(f"             {', '.join(steps)}")
    return lines


async def _run(echo: Callable[[str], None], timings: Timings, state: stack.StackState) -> str:
    from prefect.deployments.flow_runs import arun_deployment
    from prefect.flow_runs import aresume_flow_run

    from flows.knowledge_indexing import knowledge_indexing
    from storage.db.session import dispose_engine
    from tagen.wiring import install

    install()
    await _seed_users()
    indexed = await knowledge_indexing()
    echo(f"knowledge:   {indexed['documents']} new documents indexed ({indexed['chunks']} chunks)")
    timings.mark("seed+index")
    flow_run = await arun_deployment(
        stack.REQUEST_DEPLOYMENT,
        parameters={
            "requester": REQUESTER,
            "source_system": "Web shop nginx",
            "description": "nginx access logs of the web shop front end (combined format)",
            "cim_required": True,
            "samples": [str(DEMO_SAMPLE)],
            "idempotency_key": f"demo-{uuid.uuid4()}",
        },
        timeout=0,
    )
    echo(f"flow run:    {state.ui_url}/runs/flow-run/{flow_run.id}")
    kind = await _wait_state(flow_run.id, {"PAUSED"}, timeout=120)
    if kind != "PAUSED":
        raise DemoError(f"the flow run ended {kind} before the approval gate")
    timings.mark("submit+ingest")
    echo("approval:    waiting at the gate. In the UI: open the flow run above, click Resume,")
    echo(f"             fill approver={APPROVER}, approved=true. The demo resumes it via the API:")
    echo(
        f"             resume_flow_run({flow_run.id}, "
        f"run_input={{'approved': True, 'approver': '{APPROVER}', 'reason': 'demo'}})"
    )
    await aresume_flow_run(
        flow_run.id, run_input={"approved": True, "approver": APPROVER, "reason": "demo"}
    )
    kind = await _wait_state(flow_run.id, set(), timeout=180)
    timings.mark("generate+validate")
    from prefect import get_client

    async with get_client() as client:
        final = await client.read_flow_run(flow_run.id)
    result = await final.state.result() if final.state and final.state.is_completed() else {}
    request_id = result.get("request_id") if isinstance(result, dict) else None
    if not request_id:
        raise DemoError(f"flow run ended {kind}; see {state.home}/stack/logs/deployments.log")
    for line in await _outcome(request_id):
        echo(line)
    await dispose_engine()
    return str(result.get("status"))


def run_demo(echo: Callable[[str], None] = print) -> str:
    """Run the demo; returns the request's final status."""
    timings = Timings()
    echo("tagen demo: starting the stack (embedded PostgreSQL, Prefect server, deployments)...")
    stack.up()
    state = stack.connect_prefect()
    stack.wait_for_deployments(state.api_url, names=(stack.REQUEST_DEPLOYMENT,))
    timings.mark("stack")
    echo(f"Prefect UI:  {state.ui_url}")
    status = asyncio.run(_run(echo, timings, state))
    echo(f"timings:     {timings.render()}")
    echo("stop with:   tagen down")
    return status

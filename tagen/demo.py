"""`tagen demo`: the whole product on one machine, from a fresh checkout, in one command.

Starts (or reuses) the stack, seeds a requester and an approver (with a password generated for
this run, never shown: the demo authenticates its approval with it), indexes the built-in
knowledge pack, submits a request with the bundled nginx sample through the request-lifecycle
deployment, approves it through Prefect's resume API (the same call the UI's Resume button
makes), waits for generation and validation and prints the outcome with its timings; every
step through `tagen.lifecycle`, as the CLI takes them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from tagen import stack

DEMO_SAMPLE = Path(__file__).with_name("demo_samples") / "nginx_access.log"
REQUESTER = "demo-requester"
APPROVER = "demo-approver"


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


async def _seed_users() -> SecretStr:
    """The demo's users; the approver gets a new random password, returned."""
    from storage.db.enums import UserRoleEnum
    from storage.db.passwords import hash_password
    from tasks.user import ensure_user, set_password

    await ensure_user(REQUESTER, roles=(UserRoleEnum.REQUESTOR,))
    await ensure_user(APPROVER, roles=(UserRoleEnum.APPROVER,))
    password = SecretStr(secrets.token_urlsafe(24))
    await set_password(APPROVER, hash_password(password.get_secret_value()), via="demo")
    return password


async def _run(echo: Callable[[str], None], timings: Timings, state: stack.StackState) -> str:
    from flows.knowledge_indexing import knowledge_indexing
    from storage.db.session import dispose_engine
    from tagen import lifecycle
    from tagen.wiring import install
    from tasks.log_sample import SampleSpec

    install()
    password = await _seed_users()
    indexed = await knowledge_indexing()
    echo(f"knowledge:   {indexed['documents']} new documents indexed ({indexed['chunks']} chunks)")
    timings.mark("seed+index")
    submission = await lifecycle.submit(
        lifecycle.parameters(
            requester=REQUESTER,
            source_system="Web shop nginx",
            description="nginx access logs of the web shop front end (combined format)",
            samples=[SampleSpec.location(str(DEMO_SAMPLE))],
        ),
        timeout=120,
    )
    run_id, request_id = submission.flow_run_id, submission.request_id
    echo(f"flow run:    {state.ui_url}/runs/flow-run/{run_id}")
    logs = f"see {state.home}/stack/logs/deployments.log"
    if request_id is None:
        raise DemoError(f"the flow run did not create its request; {logs}")
    kind = await lifecycle.wait(run_id, until={"PAUSED"}, timeout=120)
    if kind != "PAUSED":
        raise DemoError(f"the flow run ended {kind} before the approval gate; {logs}")
    timings.mark("submit+ingest")
    echo("approval:    waiting at the gate. In the UI: open the flow run above, click Resume,")
    echo("             fill approver, credential (password), approved=true. The demo resumes")
    echo(f"             it via the API as {APPROVER}, with the password it generated:")
    echo(
        f"             resume_flow_run({run_id}, run_input={{'approved': True, "
        f"'approver': '{APPROVER}', 'credential': '**********', 'reason': 'demo'}})"
    )
    decision = await lifecycle.decide(
        request_id, approved=True, approver=APPROVER, password=password, reason="demo"
    )
    if decision.refusal is not None:
        raise DemoError(f"the approval was refused: {decision.refusal}")
    kind = await lifecycle.wait(run_id, timeout=180)
    timings.mark("generate+validate")
    if kind != "COMPLETED":
        echo(f"flow run:    ended {kind}; {logs}")
    for line in await lifecycle.summarize(request_id, verify=True):
        echo(line)
    status = await lifecycle.status(request_id)
    await dispose_engine()
    return status


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

"""kill -9 at every lifecycle step: the flow-run process, or the database, in the middle of it.

For each step of the request lifecycle a real run starts in a process of its own
(`bench.crash_child`) against the lab's embedded PostgreSQL and a real Prefect API, and is held
inside the step: before its commit (every side effect of the step done: objects uploaded, the
validator run), right after it (the task not yet returned), or at the approval gate. Then
either the run's process gets SIGKILL and the request is resumed the product's way (a new run
of the same parameters driving the same request: `tagen request resume`), or the PostgreSQL
postmaster gets SIGKILL, is restarted, and the held run goes on (its task retries). Every
request must end COMPLETED (or FAILED with a reason), and its census (rows, objects, audit
entries) show nothing lost, orphaned or duplicated.

    python -m bench.crash [--steps create_request,run_validation] [--targets flow,database]

prints one line per scenario: step, what was killed where, the outcome, the counts, problems.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lifecycle_lab import Census, Lab, LabError, approve, census, open_lab, request_parameters

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 240.0
POLL_S = 0.1
APPROVAL = "approval"
"""The approval gate: no task, the run waits paused; killed while it waits."""

STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("create_request", ("commit", "committed")),
    ("ingest_samples", ("commit", "committed")),
    ("submit_for_approval", ("commit", "committed")),
    (APPROVAL, ("pause",)),
    ("record_decision", ("commit", "committed")),
    ("retrieve_knowledge", ("begin",)),
    ("start_generation", ("commit", "committed")),
    ("generate_revision", ("commit", "committed")),
    ("queue_validation", ("commit", "committed")),
    ("acquire_validation_slot", ("commit", "committed")),
    ("run_validation", ("commit", "committed")),
    ("complete_request", ("commit", "committed")),
    ("publish_report", ("begin",)),
)
"""Every step of the lifecycle in the order a run takes them, and where in it to stop: a step
that commits is stopped before and after its first commit, a read-only one as it begins."""
TARGETS = ("flow", "database")


@dataclass(frozen=True)
class Scenario:
    step: str
    point: str
    target: str

    @property
    def label(self) -> str:
        return f"{self.step}@{self.point}"


@dataclass
class Outcome:
    scenario: Scenario
    how: str
    """What happened after the kill: 'same run', 'resumed', 'step not reached'..."""
    census: Census
    seconds: float


def matrix(steps: list[str] | None = None, targets: list[str] | None = None) -> list[Scenario]:
    """Every (step, point) killed at every target; the database once per step (before its
    commit, or where the run waits), as a killed server loses what was not committed."""
    chosen: list[Scenario] = []
    for step, points in STEPS:
        if steps and step not in steps:
            continue
        for target in targets or TARGETS:
            wanted = points if target == "flow" else points[:1]
            chosen += [Scenario(step, point, target) for point in wanted]
    return chosen


class FlowProcess:
    """One lifecycle run in a process of its own, optionally held at a scenario's point."""

    def __init__(self, lab: Lab, parameters: dict[str, Any], hold: Scenario | None) -> None:
        self.control = Path(tempfile.mkdtemp(dir=lab.home, prefix="run-"))
        extra = {"PREFECT_API_URL": prefect_api_url(), "PREFECT_LOGGING_LEVEL": "WARNING"}
        if hold is not None and hold.step != APPROVAL:
            extra |= {
                "TAGEN_CRASH_TASK": hold.step,
                "TAGEN_CRASH_POINT": hold.point,
                "TAGEN_CRASH_DIR": str(self.control),
            }
        self.log = self.control / "run.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.crash_child", json.dumps(parameters)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=lab.environment(**extra),
                cwd=REPO,
            )

    @property
    def reached(self) -> bool:
        return (self.control / "reached").exists()

    def release(self) -> None:
        (self.control / "reached").unlink(missing_ok=True)
        (self.control / "release").touch()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


def prefect_api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise LabError("no Prefect API: the lab's runs need one (PREFECT_API_URL)")
    return str(url)


async def _flow_state(flow_run_id: uuid.UUID) -> str:
    from prefect import get_client

    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
    return flow_run.state.type.value if flow_run.state else "PENDING"


async def drive(run: FlowProcess, key: str, *, stop_at: str | None) -> str:
    """Approve the run whenever it waits at the gate, until it reaches its hold ('reached'),
    waits at the gate while `stop_at` is APPROVAL ('paused'), or its process ends ('exited')."""
    from tagen import lifecycle

    approvals: dict[uuid.UUID, asyncio.Task[str]] = {}
    deadline = time.monotonic() + RUN_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if run.reached:
                return "reached"
            if run.process.poll() is not None:
                return "exited"
            found = await lifecycle.find_request(key, timeout=0)
            if (
                found is not None
                and found.flow_run_id not in approvals
                and await _flow_state(found.flow_run_id) == "PAUSED"
            ):
                if stop_at == APPROVAL:
                    return "paused"
                assert found.request_id is not None
                approvals[found.flow_run_id] = asyncio.create_task(approve(found.request_id))
            await asyncio.sleep(POLL_S)
        raise LabError(f"run {key} did not finish in {RUN_TIMEOUT_S:.0f} s:\n{run.tail()}")
    finally:
        for pending in approvals.values():
            pending.cancel()


async def finish(run: FlowProcess, key: str) -> int:
    """Drive the run (its hold released or killed) until its process ends; its exit code."""
    if await drive(run, key, stop_at=None) != "exited":
        run.kill()
        raise LabError(f"run {key} stopped again after its hold:\n{run.tail()}")
    return run.process.wait()


def kill_database(lab: Lab) -> None:
    """SIGKILL the lab's postmaster, wait until it is gone, start the cluster again."""
    from storage.db import embedded

    server = embedded.status(lab.pgdata)
    if server is None:
        raise LabError(f"no PostgreSQL running in {lab.pgdata}")
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _running(server.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    embedded.start(lab.pgdata, throwaway=True)


def _running(pid: int) -> bool:
    """Alive and not a zombie (the killed postmaster is not our child, nobody may reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


async def resume(lab: Lab, key: str, parameters: dict[str, Any]) -> FlowProcess | None:
    """The product's recovery of a request whose run died: a new run with the same parameters
    driving the same request (`tagen request resume`), or, when the request was never
    created, the same submission again (its idempotency key finds it if it was). None when
    the request had finished before its run died: nothing to resume."""
    from tagen import lifecycle

    found = await lifecycle.find_request(key, timeout=0)
    if found is None or found.request_id is None:
        return FlowProcess(lab, parameters, None)
    if await lifecycle.status(found.request_id) in lifecycle.FINISHED_REQUESTS:
        return None
    return FlowProcess(lab, await lifecycle.resume_parameters(found.request_id), None)


async def run_scenario(lab: Lab, scenario: Scenario) -> Outcome:
    started = time.monotonic()
    parameters = request_parameters(scenario.label)
    key = str(parameters["idempotency_key"])
    run = FlowProcess(lab, parameters, scenario)
    moment = await drive(run, key, stop_at=scenario.step)
    how = "step not reached"
    if moment != "exited":
        how = await _recover(lab, run, scenario, key, parameters)
    found = await asyncio.to_thread(census, lab, key)
    if how == "step not reached":
        found.problems.append(f"run log: {run.tail()[-300:]!r}")
    return Outcome(scenario, how, found, time.monotonic() - started)


async def _recover(
    lab: Lab, run: FlowProcess, scenario: Scenario, key: str, parameters: dict[str, Any]
) -> str:
    """Kill the scenario's target under the held run, recover, drive to the end; how it went."""
    if scenario.target == "flow":
        run.kill()
        resumed = await resume(lab, key, parameters)
        if resumed is None:
            return "finished, nothing to resume"
        run, how = resumed, "resumed"
    else:
        await asyncio.to_thread(kill_database, lab)
        run.release()
        how = "same run"
    if await finish(run, key) != 0:
        resumed = await resume(lab, key, parameters)
        if resumed is None:
            return f"{how}, exit {run.process.returncode}"
        how += ", failed, resumed"
        run = resumed
        await finish(run, key)
    return how if run.process.returncode == 0 else f"{how}, exit {run.process.returncode}"


def render(outcomes: list[Outcome]) -> list[str]:
    lines = [
        f"{'step@point':<34} {'killed':<9} {'after the kill':<28} {'status':<10} "
        f"{'counts':<44} {'s':>5}  problems"
    ]
    for o in outcomes:
        c = o.census
        lines.append(
            f"{o.scenario.label:<34} {o.scenario.target:<9} {o.how:<28} {c.status:<10} "
            f"{c.counts():<44} {o.seconds:5.1f}  {'; '.join(c.problems) or 'none'}"
        )
    clean = sum(not o.census.problems for o in outcomes)
    lines.append(f"{clean}/{len(outcomes)} scenarios clean")
    return lines


@contextmanager
def prefect_api() -> Iterator[None]:
    """A Prefect server of the benchmark's own (PREFECT_API_URL) while it runs."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


async def run_matrix(lab: Lab, scenarios: list[Scenario]) -> list[Outcome]:
    from storage.db.session import dispose_engine

    outcomes = []
    for scenario in scenarios:
        outcome = await run_scenario(lab, scenario)
        print(render([outcome])[1], file=sys.stderr, flush=True)
        outcomes.append(outcome)
        await dispose_engine()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", help="comma-separated steps (default: all)")
    parser.add_argument("--targets", help="flow, database or both (default)")
    args = parser.parse_args(argv)
    scenarios = matrix(
        args.steps.split(",") if args.steps else None,
        args.targets.split(",") if args.targets else None,
    )
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with prefect_api(), open_lab() as lab:
        outcomes = asyncio.run(run_matrix(lab, scenarios))
    print("\n".join(render(outcomes)))
    return 0 if all(not o.census.problems for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

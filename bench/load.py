"""Many concurrent requests through the served deployments of the embedded stack (`tagen up`).

Starts a stack of its own (embedded PostgreSQL, Prefect server, the deployment runner) in a
lab home, submits N requests at once through the request-lifecycle deployment, approves each
at its gate as soon as it waits there, and samples the database meanwhile: how many validation
runs are RUNNING (and requests VALIDATING) at once. Then checks every request (all COMPLETED,
versions unique, nothing orphaned: `bench.lifecycle_lab.census`), that MAX_PARALLEL_VALIDATIONS
was never exceeded, and prints p50/p95 latency per step from the audit trail and the
validation runs' own timestamps.

    python -m bench.load [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from bench.lifecycle_lab import Census, Lab, approve, census, open_lab, prepare, request_parameters

DEFAULT_REQUESTS = 20
SAMPLE_EVERY_S = 0.2
RUN_TIMEOUT_S = 1800.0
STEPS = (
    ("intake", "created", "pending"),
    ("approval", "pending", "approved"),
    ("resume", "approved", "generating"),
    ("generation", "generating", "queued"),
    ("slot wait", "queued", "started"),
    ("validation", "started", "validated"),
    ("completion", "validated", "completed"),
    ("total", "created", "completed"),
)
"""Each step's latency: from one moment of a request to another (see `_moments`)."""


@dataclass
class Concurrency:
    """The most validation runs RUNNING, and requests VALIDATING, seen at once."""

    running: int = 0
    validating: int = 0
    samples: int = 0


@dataclass
class LoadResult:
    requests: int
    seconds: float
    limit: int
    concurrency: Concurrency
    censuses: list[Census] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        found = [p for c in self.censuses for p in c.problems]
        found += [f"ended {c.status}" for c in self.censuses if c.status != "COMPLETED"]
        if self.concurrency.running > self.limit:
            found.append(f"{self.concurrency.running} validations ran at once, limit {self.limit}")
        return found


async def sample_concurrency(lab: Lab, into: Concurrency, stop: asyncio.Event) -> None:
    """Count RUNNING validation runs and VALIDATING requests until `stop` is set."""
    async with await psycopg.AsyncConnection.connect(lab.app_url(), autocommit=True) as conn:
        while not stop.is_set():
            cursor = await conn.execute(
                "SELECT (SELECT count(*) FROM validation_runs WHERE status = 'RUNNING'),"
                " (SELECT count(*) FROM requests WHERE status = 'VALIDATING')"
            )
            row = await cursor.fetchone()
            assert row is not None
            into.running = max(into.running, int(row[0]))
            into.validating = max(into.validating, int(row[1]))
            into.samples += 1
            await asyncio.sleep(SAMPLE_EVERY_S)


async def one_request(label: str) -> str:
    """Submit through the deployment, approve at the gate, wait for the end; the key."""
    from tagen import lifecycle

    parameters = request_parameters(label)
    submission = await lifecycle.submit(parameters, timeout=RUN_TIMEOUT_S)
    if submission.request_id is None:
        raise RuntimeError(f"request {label} was not created")
    kind = await lifecycle.wait(submission.flow_run_id, until={"PAUSED"}, timeout=RUN_TIMEOUT_S)
    if kind == "PAUSED":
        await approve(submission.request_id)
        await lifecycle.wait(submission.flow_run_id, timeout=RUN_TIMEOUT_S)
    return str(parameters["idempotency_key"])


def _moments(conn: psycopg.Connection, key: str) -> dict[str, datetime]:
    """When the request of `key` was created, reached each status, and when its last
    validation run was queued, started and finished."""
    moments: dict[str, datetime] = {}
    rows = conn.execute(
        "SELECT a.action::text, a.details->>'to', a.timestamp FROM audit_logs a"
        " JOIN requests r ON a.entity_id = r.id::text WHERE r.idempotency_key = %s"
        " ORDER BY a.timestamp",
        (key,),
    ).fetchall()
    names = {"PENDING_APPROVAL": "pending", "APPROVED": "approved", "COMPLETED": "completed"}
    for action, target, at in rows:
        if action == "CREATE":
            moments.setdefault("created", at)
        elif target == "GENERATING_TA":
            moments.setdefault("generating", at)
        elif target in names:
            moments[names[target]] = at
    run = conn.execute(
        "SELECT v.created_at, v.started_at, v.completed_at FROM validation_runs v"
        " JOIN requests r ON v.request_id = r.id WHERE r.idempotency_key = %s"
        " ORDER BY v.created_at DESC LIMIT 1",
        (key,),
    ).fetchone()
    if run is not None:
        moments.update(zip(("queued", "started", "validated"), run, strict=True))
    return moments


def latencies(lab: Lab, keys: list[str]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {name: [] for name, _, _ in STEPS}
    with psycopg.connect(lab.app_url()) as conn:
        for key in keys:
            moments = _moments(conn, key)
            for name, start, end in STEPS:
                if start in moments and end in moments:
                    found[name].append((moments[end] - moments[start]).total_seconds())
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def render(result: LoadResult) -> list[str]:
    completed = sum(c.status == "COMPLETED" for c in result.censuses)
    lines = [
        f"{result.requests} concurrent requests in {result.seconds:.1f} s: {completed} COMPLETED",
        f"validations RUNNING at once: max {result.concurrency.running} "
        f"(MAX_PARALLEL_VALIDATIONS {result.limit}); requests VALIDATING at once: max "
        f"{result.concurrency.validating} ({result.concurrency.samples} samples)",
        f"{'step':<12} {'n':>4} {'p50 s':>8} {'p95 s':>8} {'max s':>8}",
    ]
    for name, values in result.latencies.items():
        if values:
            lines.append(
                f"{name:<12} {len(values):>4} {statistics.median(values):8.2f} "
                f"{percentile(values, 0.95):8.2f} {max(values):8.2f}"
            )
    problems = result.problems
    lines.append(f"problems: {'; '.join(problems[:20]) if problems else 'none'}")
    return lines


async def run_load(lab: Lab, requests: int) -> LoadResult:
    from storage.db.session import dispose_engine
    from tasks.backends import unit_of_work
    from tasks.runtime import MAX_PARALLEL_VALIDATIONS, config_int

    async with unit_of_work() as uow:
        limit = await config_int(uow, MAX_PARALLEL_VALIDATIONS)
    concurrency = Concurrency()
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_concurrency(lab, concurrency, stop))
    started = time.monotonic()
    try:
        keys = await asyncio.gather(*(one_request(f"load-{n}") for n in range(requests)))
    finally:
        stop.set()
        await sampler
    seconds = time.monotonic() - started
    await dispose_engine()
    result = LoadResult(requests, seconds, limit, concurrency)
    result.censuses = [census(lab, key) for key in keys]
    result.latencies = latencies(lab, list(keys))
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_stack(lab: Lab) -> Iterator[None]:
    """`tagen up` in the lab (a free port), its deployments registered; `down` afterwards."""
    from tagen import stack

    os.environ["TAGEN_PREFECT_PORT"] = str(_free_port())
    stack.get_stack_settings.cache_clear()
    try:
        state = stack.up()
        stack.connect_prefect()
        stack.wait_for_deployments(state.api_url, names=(stack.REQUEST_DEPLOYMENT,))
        prepare(lab)
        yield
    finally:
        stack.down()
        os.environ.pop("TAGEN_PREFECT_PORT", None)
        stack.get_stack_settings.cache_clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    args = parser.parse_args(argv)
    with open_lab(start_database=False) as lab, served_stack(lab):
        result = asyncio.run(run_load(lab, args.requests))
    print("\n".join(render(result)))
    return 0 if not result.problems else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The flow-run process the crash benchmark kills: one request-lifecycle run, held at a chosen
point of a chosen task until the benchmark kills it (or lets it go on).

The hold is this process's own: `UnitOfWork` is wrapped here, nowhere in the product. Within
the task named by TAGEN_CRASH_TASK, at TAGEN_CRASH_POINT (`begin`: its first unit of work
opens; `commit`: its first commit is about to happen, every side effect before it done;
`committed`: that commit is done, the task has not returned) the process writes
`<TAGEN_CRASH_DIR>/reached` and waits for `<TAGEN_CRASH_DIR>/release`. Once only.

    python -m bench.crash_child PARAMETERS_JSON

The database, objects and Prefect API come from the environment (DATABASE_URL,
TAGEN_OBJECTS_URL, PREFECT_API_URL), as for any flow-run process; the flow is the deployment
entrypoint's, which provides tagen's backends when it starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

CRASH_POINTS = ("begin", "commit", "committed")
HOLD_POLL_S = 0.05


def _current_task() -> str | None:
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    return context.task.name if context is not None else None


class Hold:
    """Where this process stops once: a task name and a point in it."""

    def __init__(self, task: str, point: str, control: Path) -> None:
        if point not in CRASH_POINTS:
            raise SystemExit(f"TAGEN_CRASH_POINT {point!r} is not one of {CRASH_POINTS}")
        self.task, self.point, self.control = task, point, control
        self.done = False

    async def at(self, point: str) -> None:
        if self.done or point != self.point or _current_task() != self.task:
            return
        self.done = True
        (self.control / "reached").write_text(str(os.getpid()))
        while not (self.control / "release").exists():
            await asyncio.sleep(HOLD_POLL_S)


def install(hold: Hold) -> None:
    """Wrap UnitOfWork so that `hold` sees every unit of work and commit of this process."""
    from storage.db.unit_of_work import UnitOfWork

    enter, commit = UnitOfWork.__aenter__, UnitOfWork.commit

    async def held_enter(self: UnitOfWork) -> UnitOfWork:
        await hold.at("begin")
        return await enter(self)

    async def held_commit(self: UnitOfWork) -> None:
        await hold.at("commit")
        await commit(self)
        await hold.at("committed")

    UnitOfWork.__aenter__ = held_enter  # type: ignore[method-assign]
    UnitOfWork.commit = held_commit  # type: ignore[method-assign]


async def _run(parameters: dict[str, Any]) -> dict[str, Any]:
    from storage.db.session import dispose_engine
    from tagen.deployments import request_lifecycle

    try:
        return await request_lifecycle(**parameters)
    finally:
        await dispose_engine()


def main() -> None:
    task = os.environ.get("TAGEN_CRASH_TASK")
    if task:
        control = Path(os.environ["TAGEN_CRASH_DIR"])
        install(Hold(task, os.environ.get("TAGEN_CRASH_POINT", "commit"), control))
    started = time.monotonic()
    result = asyncio.run(_run(json.loads(sys.argv[1])))
    print(json.dumps({**result, "seconds": round(time.monotonic() - started, 2)}))


if __name__ == "__main__":
    main()

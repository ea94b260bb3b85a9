"""One validation of a packaged TA: open it (folder or archive), run the sandbox, write the bundle.

The CLI (`tagen validate`) and the VALIDATING task both validate a package this way; keeping it
here means the two cannot drift in how a TA is opened or what the debug bundle holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from engine.conf.ta import TA, load_ta
from engine.packaging.unpack import unpacked_ta
from engine.sandbox.bundle import write_bundle
from engine.sandbox.pipeline import EventSink, run_sandbox
from engine.sandbox.report import ValidationReport
from engine.sandbox.routes import InputRoute
from engine.settings import SandboxSettings


@contextlib.contextmanager
def opened_ta(path: Path) -> Iterator[TA]:
    """The TA at ``path``: a folder read in place, an archive safely unpacked for the duration."""
    if path.is_dir():
        yield load_ta(path)
    elif path.is_file():
        with unpacked_ta(path) as folder:
            yield load_ta(folder)
    else:
        raise FileNotFoundError(f"TA {path}: no such file or directory")


def validate_package(
    ta_path: Path,
    samples: Sequence[Path],
    *,
    sourcetype: str | None,
    source: str | None,
    host: str | None,
    settings: SandboxSettings,
    sinks: Sequence[EventSink] = (),
    bundle: Path | None = None,
    input_route: InputRoute = InputRoute.MONITOR,
    input_time: datetime | None = None,
) -> ValidationReport:
    """Sandbox the TA at ``ta_path`` on ``samples``; write the debug bundle if ``bundle`` is set.

    ``input_route`` and ``input_time``: how the samples reach Splunk (see :func:`run_sandbox`).
    """
    with opened_ta(ta_path) as ta:
        result = run_sandbox(
            ta=ta,
            samples=samples,
            sourcetype=sourcetype,
            source=source,
            host=host,
            settings=settings,
            sinks=sinks,
            input_route=input_route,
            input_time=input_time,
        )
        if bundle is not None:
            write_bundle(
                bundle,
                report=result.report,
                ta=ta,
                failing_events=result.failing_events,
                samples=samples,
            )
    return result.report

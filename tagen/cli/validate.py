"""`tagen validate`: run a TA over samples in the local sandbox and print the verdict.

Exit codes: 0 PASSED, 1 FAILED, 2 bad input or usage (one line on stderr, no traceback).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from engine.outputs import atomic_output, check_outputs
from engine.samples import observe_reads
from engine.sandbox.events_out import EventsWriter
from engine.sandbox.pipeline import EventSink
from engine.sandbox.report import ValidationReport
from engine.sandbox.routes import InputRoute
from engine.sandbox.validate import validate_package
from engine.settings import SandboxSettings, get_sandbox_settings
from tagen.cli.common import fail, given_path, one_line
from tagen.cli.progress import ProgressOption, byte_progress

FIELDS_SHOWN = 20
ROWS_SHOWN = 10
LINT_REASON = "lint error at "  # how ValidationReport.reasons names a lint error


class UsageError(ValueError):
    """A command-line value that cannot be used."""


def _settings(now: str | None) -> SandboxSettings:
    settings = get_sandbox_settings()
    if now is None:
        return settings
    try:
        moment = datetime.fromisoformat(now)
    except ValueError as exc:
        raise UsageError(f"--now {now!r} is not an ISO-8601 date/time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return settings.model_copy(update={"now": moment})


def _input_time(value: str | None) -> datetime | None:
    """--time: epoch seconds or ISO-8601 (UTC when it carries no offset)."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"--time {value!r} is neither epoch seconds nor ISO-8601") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _print_summary(console: Console, report: ValidationReport) -> None:
    console.print(f"[bold]{report.ta}[/bold] {report.ta_version}")
    samples = Table(title="Samples", show_lines=False)
    for column in ("sample", "input", "sourcetype", "source", "host", "events"):
        samples.add_column(
            column, justify="right" if column == "events" else "left", overflow="fold"
        )
    for run in report.samples[:ROWS_SHOWN]:
        samples.add_row(run.path, run.input, run.sourcetype, run.source, run.host, str(run.events))
    console.print(samples)
    if len(report.samples) > ROWS_SHOWN:
        console.print(f"... and {len(report.samples) - ROWS_SHOWN} more samples")
    console.print(
        f"events {report.events}  truncated {report.truncated_events} "
        f"({report.truncated_ratio:.1%})  events with fields {report.events_with_fields} "
        f"({report.field_event_ratio:.1%})"
    )
    timestamps = report.timestamps
    console.print(
        f"timestamps read {timestamps.parsed} of the {report.timeable_events} events a TA can "
        f"time ({timestamps.ratio:.1%})  without any timestamp {timestamps.timeless}  "
        f"older than Splunk accepts {timestamps.too_old}",
        highlight=False,
    )
    for failure in timestamps.failures[:3]:
        console.print(f"  timestamp: {failure.error}: {failure.raw[:120]!r}", markup=False)
    for example in timestamps.out_of_reach[:1]:
        console.print(f"  out of reach: {example.error}: {example.raw[:120]!r}", markup=False)
    if report.fields:
        fields = Table(title=f"Field coverage (top {FIELDS_SHOWN})")
        for column in ("field", "events", "coverage", "example"):
            fields.add_column(column, overflow="fold")
        for coverage in report.fields[:FIELDS_SHOWN]:
            fields.add_row(
                coverage.name, str(coverage.events), f"{coverage.ratio:.1%}", coverage.example[:40]
            )
        console.print(fields)
    if report.cim.datasets:
        cim = Table(title="CIM compliance")
        for column in ("stanza", "dataset", "events", "compliant", "problems"):
            cim.add_column(column, overflow="fold")
        for summary in report.cim.datasets:
            problems = ", ".join(
                f"{name}: {'/'.join(tally.problems)}"
                for name, tally in summary.fields.items()
                if tally.problems
            )
            cim.add_row(
                summary.stanza,
                summary.dataset,
                str(summary.events),
                str(summary.compliant_events),
                problems or "-",
            )
        console.print(cim)
    for finding in report.lint[:ROWS_SHOWN]:
        console.print(
            f"lint {finding.severity}: {finding.location}: {finding.message}", markup=False
        )
    if len(report.lint) > ROWS_SHOWN:
        console.print(f"... and {len(report.lint) - ROWS_SHOWN} more lint findings (see --report)")
    for warning in report.warnings:
        console.print(f"warning: {warning}", markup=False)
    if report.passed:
        console.print("[bold green]PASSED[/bold green]")
    else:
        console.print("[bold red]FAILED[/bold red]")
        for reason in report.reasons:
            if report.lint and reason.startswith(LINT_REASON):
                # The finding itself is printed above: say where, not the whole message again.
                errors = sum(1 for item in report.lint if item.severity == "error")
                shown = any(item.severity == "error" for item in report.lint[:ROWS_SHOWN])
                where = "listed above" if shown else "see --report"
                reason = f"{errors} lint error{'s' * (errors > 1)} ({where})"
            console.print(f"  - {reason}", markup=False)


def validate(
    ta: Annotated[str, typer.Argument(metavar="TA", help="TA folder or .tgz/.spl/.zip")],
    sample_args: Annotated[list[str], typer.Argument(metavar="SAMPLE...", help="sample log files")],
    sourcetype: Annotated[str | None, typer.Option(help="sourcetype of the samples")] = None,
    source: Annotated[str | None, typer.Option(help="source of the samples")] = None,
    host: Annotated[str | None, typer.Option(help="host of the samples")] = None,
    events_out: Annotated[
        Path | None, typer.Option(help="write events as JSONL for shared/tools/score.py")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="write the report as JSON")] = None,
    bundle: Annotated[Path | None, typer.Option(help="write a debug bundle (zip)")] = None,
    now: Annotated[
        str | None, typer.Option(help="ISO-8601 clock for MAX_DAYS_AGO/HENCE and CURRENT")
    ] = None,
    input_route: Annotated[
        InputRoute,
        typer.Option(
            "--input",
            help="how the samples reach Splunk: a monitored file, HEC's raw or event endpoint, "
            "or a modular input (one event per sample file)",
        ),
    ] = InputRoute.MONITOR,
    time: Annotated[
        str | None,
        typer.Option(
            help="the input's time (epoch or ISO-8601): a file's modification time, HEC's time "
            "parameter, a modular input's explicit event time"
        ),
    ] = None,
    progress: ProgressOption = None,
) -> None:
    """Apply a TA to log samples in the local Splunk sandbox: exit 0 PASSED, 1 FAILED."""
    console = Console(emoji=False)  # events and regexes are printed as they are
    ta_path = given_path(ta, "TA")
    samples = [given_path(sample, "sample") for sample in sample_args]
    try:
        settings = _settings(now)
        input_time = _input_time(time)
        outputs = {"--events-out": events_out, "--report": report, "--bundle": bundle}
        check_outputs(
            {flag: path for flag, path in outputs.items() if path is not None},
            [("TA", ta_path), *(("sample", path) for path in samples)],
        )
        with contextlib.ExitStack() as stack:
            total = sum(path.stat().st_size for path in samples if path.is_file())
            advance = stack.enter_context(byte_progress("validating", total, show=progress))
            stack.enter_context(observe_reads(advance))
            sinks: list[EventSink] = []
            if events_out is not None:
                sinks.append(stack.enter_context(EventsWriter(events_out)))
            result = validate_package(
                ta_path,
                samples,
                sourcetype=sourcetype,
                source=source,
                host=host,
                settings=settings,
                sinks=sinks,
                bundle=bundle,
                input_route=input_route,
                input_time=input_time,
            )
        if report is not None:
            with atomic_output(report) as partial:
                partial.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    except (ValueError, ValidationError, OSError) as exc:
        raise fail(one_line(exc)) from None
    _print_summary(console, result)
    raise typer.Exit(code=0 if result.passed else 1)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)

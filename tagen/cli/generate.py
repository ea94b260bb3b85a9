"""`tagen generate`: build a TA from log samples, check it in the sandbox, package it.

`--llm` asks the configured model (OPENAI_API_KEY, OPENAI_BASE_URL, TAGEN_LLM_MODEL) for what
the rules leave open, every proposal proven in the sandbox; `--no-llm` uses the rules only. By
default the model is asked when one is configured.

Exit codes: 0 generated and the self-check PASSED, 1 generated but the self-check FAILED (the
TA is still written, with the problems in its README), 2 bad input or usage (one line on
stderr, no traceback).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from engine.conf.ta import InvalidTAError
from engine.generator.generate import generate_ta
from engine.generator.model import GenerationError, GenerationRequest, GenerationResult
from engine.generator.planner import Planner, RulePlanner
from engine.outputs import OutputError
from engine.packaging.archive import PackagingError
from engine.samples import observe_reads
from storage.breaker import LLM, CircuitBreaker
from tagen.cli.common import fail, given_path, one_line
from tagen.cli.progress import ProgressOption, byte_progress
from tagen.llm import LlmSettings, llm_planner

FIELDS_SHOWN = 15


def summary(result: GenerationResult) -> dict[str, Any]:
    """The machine-readable summary printed by ``--json``."""
    cim = result.cim
    return {
        "name": result.name,
        "sourcetype": result.sourcetype,
        "ta_dir": str(result.ta_dir),
        "package": str(result.package),
        "sha256": result.sha256,
        "format": {"kind": result.format.kind, "confidence": result.format.confidence},
        "breaking": result.breaking.settings(),
        "timestamps": result.timestamps.settings(),
        "fields": {item.name: list(item.examples) for item in result.fields.fields},
        "cim": None
        if cim is None
        else {
            "models": list(cim.models),
            "mapped": dict(cim.mapped),
            "unmapped": {model: list(names) for model, names in cim.unmapped.items()},
        },
        "self_check": {
            "passed": result.check.passed,
            "rounds": result.check.rounds,
            "problems": list(result.check.problems),
            "repairs": list(result.check.repairs),
        },
        "caveats": list(result.caveats),
        "planner": result.planner,
        "assisted": list(result.assisted),
        "llm": None
        if result.transcript is None
        else {
            **result.transcript.summary(),
            "verdicts": [asdict(verdict) for verdict in result.transcript.verdicts],
        },
    }


def _print_llm(console: Console, result: GenerationResult) -> None:
    transcript = result.transcript
    if transcript is None:
        return
    info = transcript.summary()
    sent = "redacted" if transcript.redacted else "raw"
    console.print(
        f"LLM {info['model']} ({sent} samples): {info['exchanges']} questions "
        f"({info['failed_exchanges']} failed), {info['total_tokens']} tokens, "
        f"{info['latency_ms']} ms; {info['accepted']} of {info['proposals']} proposals kept",
        markup=False,
        highlight=False,
    )
    for exchange in transcript.exchanges:
        if exchange.error:
            console.print(f"  {exchange.task}: {exchange.error}", markup=False, highlight=False)
    for verdict in transcript.verdicts:
        mark = "kept" if verdict.accepted and not transcript.combined else "rejected"
        console.print(
            f"  {mark} {verdict.kind} {verdict.target}: {verdict.reason}",
            markup=False,
            highlight=False,
        )
    for line in (*transcript.skipped, transcript.stopped, transcript.combined):
        if line:
            console.print(f"  note: {line}", markup=False, highlight=False)


def _planner(use_llm: bool | None) -> Planner:
    """The rules, or the LLM planner when asked for (or configured, by default)."""
    if use_llm is False:
        return RulePlanner()
    try:
        settings = LlmSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        variable = name if name.isupper() else f"TAGEN_LLM_{name.upper()}"
        raise GenerationError(f"{variable}: {first['msg']}") from None
    missing = settings.missing()
    if missing is not None:
        if use_llm:
            raise GenerationError(f"--llm: {missing}")
        return RulePlanner()
    assert settings.model is not None  # missing() said so
    return llm_planner(
        settings,
        model=settings.model,
        breaker=CircuitBreaker(LLM, settings.breaker_policy()),
    )


def _print(console: Console, result: GenerationResult) -> None:
    console.print(f"[bold]{result.name}[/bold] -> {result.package}", highlight=False)
    console.print(
        f"format {result.format.kind} ({result.format.confidence:.0%})  "
        f"sourcetype {result.sourcetype}  "
        f"{'multi-line' if result.breaking.multiline else 'single-line'} events",
        highlight=False,
    )
    time_format = result.timestamps.time_format or "none (index time)"
    console.print(f"timestamps {time_format}", markup=False, highlight=False)
    names = [item.name for item in result.fields.fields]
    shown = ", ".join(names[:FIELDS_SHOWN]) + (" ..." if len(names) > FIELDS_SHOWN else "")
    console.print(f"fields ({len(names)}): {shown}", markup=False, highlight=False)
    if result.cim is None:
        console.print("CIM: not requested")
    elif not result.cim.models:
        console.print("CIM: no data model fits")
    else:
        missing = sum(len(names) for names in result.cim.unmapped.values())
        console.print(
            f"CIM: {', '.join(result.cim.models)}; {len(result.cim.mapped)} fields mapped, "
            f"{missing} required fields unmapped",
            highlight=False,
        )
    for repair in result.check.repairs:
        console.print(f"  repaired: {repair}", markup=False, highlight=False)
    if result.check.passed:
        console.print(f"self-check [bold green]PASSED[/bold green] ({result.check.rounds} rounds)")
    else:
        console.print(f"self-check [bold red]FAILED[/bold red] ({result.check.rounds} rounds)")
        for problem in result.check.problems:
            console.print(f"  - {problem}", markup=False, highlight=False)
    _print_llm(console, result)


def generate(
    samples: Annotated[list[str], typer.Argument(metavar="SAMPLE...", help="sample log files")],
    out: Annotated[str, typer.Option("--out", help="folder for the TA and its .tgz")],
    name: Annotated[str | None, typer.Option(help="app id, e.g. TA-acme-firewall")] = None,
    sourcetype: Annotated[str | None, typer.Option(help="sourcetype, e.g. acme:fw")] = None,
    source_system: Annotated[str, typer.Option(help="the system that wrote the logs")] = "",
    description: Annotated[str, typer.Option(help="what the logs are")] = "",
    no_cim: Annotated[bool, typer.Option("--no-cim", help="skip CIM mapping")] = False,
    redact: Annotated[
        bool, typer.Option("--redact", help="mask e-mails, IPs, tokens and secrets shipped")
    ] = False,
    include_samples: Annotated[
        bool, typer.Option("--include-samples", help="ship samples/ for pytest-splunk-addon")
    ] = False,
    tz: Annotated[str, typer.Option(help="zone of timestamps without an offset")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    use_llm: Annotated[
        bool | None,
        typer.Option(
            "--llm/--no-llm",
            help="ask the configured LLM (OPENAI_API_KEY, TAGEN_LLM_MODEL) [default: when set]",
            show_default=False,
        ),
    ] = None,
    progress: ProgressOption = None,
) -> None:
    """Generate a Splunk TA from log samples, self-check it in the sandbox and package it."""
    out_dir = given_path(out, "--out")
    request = GenerationRequest(
        samples=tuple(given_path(sample, "sample") for sample in samples),
        name=name,
        sourcetype=sourcetype,
        source_system=source_system,
        description=description,
        cim_required=not no_cim,
        redact=redact,
        include_samples=include_samples,
        default_tz=tz,
    )
    try:
        # Analysis and each self-check round read the samples again: bytes, no fixed end.
        with byte_progress("generating", None, show=progress) as advance, observe_reads(advance):
            result = generate_ta(request, out_dir=out_dir, planner=_planner(use_llm))
    except (GenerationError, InvalidTAError, PackagingError, OutputError, OSError) as exc:
        raise fail(one_line(exc)) from None
    if as_json:
        typer.echo(json.dumps(summary(result), indent=2))
    else:
        _print(Console(emoji=False), result)
    raise typer.Exit(code=0 if result.check.passed else 1)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)

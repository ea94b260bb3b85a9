"""The generated TA's README: what it parses, the fields with examples, CIM mapping, caveats.

Written for the Splunk engineer installing the add-on; every example value goes through the
redactor when the request asked for redaction, because the README ships inside the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.generator.model import (
    BreakingPlan,
    CimPlan,
    FieldPlan,
    FormatGuess,
    SelfCheck,
    TimestampPlan,
)
from engine.generator.redact import Redactor
from engine.generator.repair import Draft, Uncovered
from engine.generator.timestamps import SMALL_SAMPLE
from engine.samples import SampleSet
from engine.sandbox.timestamps import MAX_DAYS_AGO_LIMIT

MAX_EXAMPLE_CHARS = 60


@dataclass(frozen=True)
class ReadmeInput:
    """Everything the README describes."""

    name: str
    sourcetype: str
    source_system: str
    description: str
    format: FormatGuess
    breaking: BreakingPlan
    timestamps: TimestampPlan
    fields: FieldPlan
    cim: CimPlan | None
    caveats: Sequence[str]
    ships_samples: bool
    charset: str | None = None
    """props.conf CHARSET when the samples are not UTF-8."""
    about: str = ""
    """A language model's description of the source (empty when none was kept)."""
    assisted: Sequence[str] = ()
    """What a language model's proven proposals changed."""


def _cell(text: str) -> str:
    """Markdown table cell: one line, pipes escaped, bounded length."""
    flat = " ".join(text.split()).replace("|", "\\|").replace("`", "'")
    return flat if len(flat) <= MAX_EXAMPLE_CHARS else flat[: MAX_EXAMPLE_CHARS - 1] + "…"


def _timestamp_lines(plan: TimestampPlan) -> list[str]:
    if plan.automatic:
        lines = ["- Timestamps: Splunk's automatic recognition (no `TIME_FORMAT`)"]
        if plan.time_format:
            lines.append(f"  layout seen most: `{plan.time_format}`")
    elif plan.time_format is None:
        return ["- Timestamps: none found in the samples; events get the index time."]
    else:
        lines = [f"- Timestamps: `TIME_FORMAT = {plan.time_format}`"]
    if plan.time_prefix:
        lines.append(f"  after `TIME_PREFIX = {plan.time_prefix}`")
    if plan.tz:
        lines.append(f"  read in time zone `{plan.tz}` (the samples carry no UTC offset)")
    if not plan.has_year:
        lines.append("  (the timestamps carry no year: Splunk assumes the current one)")
    return lines


def render_readme(info: ReadmeInput, *, redactor: Redactor | None) -> str:
    """The README.md text (deterministic for the same input)."""

    def clean(name: str, text: str) -> str:
        return _cell(redactor.redact_field(name, text) if redactor is not None else text)

    title = info.source_system or info.sourcetype
    lines = [f"# {info.name}", "", f"Splunk Technology Add-on for {title}.", ""]
    if info.description:
        lines += [info.description.strip(), ""]
    if info.about:
        about = redactor.redact(info.about) if redactor is not None else info.about
        lines += ["## About the source", "", about, "", "_Written by a language model._", ""]
    lines += [
        "## Sourcetypes",
        "",
        "| sourcetype | format | events |",
        "|---|---|---|",
        f"| `{info.sourcetype}` | {info.format.kind} | "
        f"{'multi-line' if info.breaking.multiline else 'one per line'} |",
        "",
        "## Index time",
        "",
        f"- Event breaking: `LINE_BREAKER = {info.breaking.line_breaker}`, "
        f"`SHOULD_LINEMERGE = false`, `TRUNCATE = {info.breaking.truncate}`"
        + (f" ({info.breaking.reason})" if info.breaking.reason else ""),
        *_timestamp_lines(info.timestamps),
        *(
            [
                f"- Character set: `CHARSET = {info.charset}` (the samples are not UTF-8, and "
                "Splunk reads UTF-8 unless told otherwise)"
            ]
            if info.charset
            else []
        ),
        "",
        "## Fields",
        "",
    ]
    if info.fields.fields:
        lines += ["| field | extracted by | examples |", "|---|---|---|"]
        for item in info.fields.fields:
            examples = ", ".join(f"`{clean(item.name, value)}`" for value in item.examples)
            lines.append(f"| `{item.name}` | {_cell(item.source)} | {examples} |")
    else:
        lines.append("No search-time fields are extracted.")
    lines += ["", "## CIM mapping", ""]
    if info.cim is None:
        lines.append("CIM mapping was not requested.")
    elif not info.cim.models:
        lines.append("No CIM data model fits these events.")
    else:
        lines.append(f"Data models: {', '.join(info.cim.models)}.")
        lines.append("")
        if info.cim.mapped:
            lines += ["| CIM field | from |", "|---|---|"]
            lines += [f"| `{key}` | `{_cell(value)}` |" for key, value in info.cim.mapped.items()]
            lines.append("")
        for model, missing in info.cim.unmapped.items():
            if missing:
                lines.append(f"- {model}: could not map {', '.join(sorted(missing))}")
        if info.cim.tags:
            tags = sorted({tag for stanza in info.cim.tags.values() for tag in stanza})
            lines.append(f"- Tagged `{', '.join(tags)}` through eventtypes.conf/tags.conf")
    if info.assisted:
        lines += [
            "",
            "## AI assistance",
            "",
            "A language model proposed these changes; each was kept only after the sandbox "
            "showed it lowers nothing and improves what it targets:",
            "",
            *(f"- {note}" for note in info.assisted),
        ]
    caveats = [*info.caveats, *info.fields.caveats, *(info.cim.caveats if info.cim else ())]
    lines += ["", "## Caveats", ""]
    lines += [f"- {caveat}" for caveat in dict.fromkeys(caveats)] or ["None known."]
    lines += [
        "",
        "## Installation",
        "",
        "Install on search heads (search-time fields, CIM) and on indexers or heavy forwarders",
        "(event breaking, timestamps). Universal forwarders use `EVENT_BREAKER`.",
    ]
    if info.ships_samples:
        lines += [
            "",
            "`samples/` holds the (masked) sample events with `pytest-splunk-addon-data.conf`",
            "for pytest-splunk-addon.",
        ]
    return "\n".join(lines) + "\n"


def generation_caveats(
    sample: SampleSet, draft: Draft, check: SelfCheck, gaps: Uncovered
) -> tuple[str, ...]:
    """The README's caveats about how the TA was made: the share of the samples analysed,
    what the timestamp rule rests on and leaves uncovered, and a failed self-check."""
    caveats: list[str] = []
    if sample.subset:
        caveats.append(
            f"Only the first {len(sample.text):,} characters of {sample.total_bytes:,} bytes of "
            "samples were analysed."
        )
    caveats.extend(_timestamp_caveats(draft.timestamps, gaps))
    if "MAX_DAYS_AGO" in draft.extra:
        caveats.append("MAX_DAYS_AGO is raised so that old sample data keeps its own time.")
    if not check.passed:
        caveats.extend(f"Self-check: {problem}" for problem in check.problems)
    return tuple(caveats)


def _timestamp_caveats(plan: TimestampPlan, gaps: Uncovered) -> list[str]:
    """What the timestamp rule rests on and, precisely, which events it leaves uncovered."""
    caveats: list[str] = []
    read = round(plan.success * plan.events)
    if plan.automatic:
        caveats.append(
            "No TIME_FORMAT: the samples mix timestamp layouts or hold too few timestamps to "
            "pin one, so Splunk's automatic recognition reads them"
            + (
                f"; set TIME_FORMAT = {plan.time_format} once more data confirms it."
                if plan.time_format
                else "."
            )
        )
    elif plan.time_format is None:
        caveats.append(
            "No timestamp rule reads most events: events are stamped with the time they arrive."
            if plan.success
            else "No timestamp was found: events are stamped with the time they arrive."
        )
    elif plan.success < 1.0:
        caveats.append(
            f"The timestamp rule read {read} of the {plan.events} sampled events "
            f"({plan.success:.0%})."
        )
    if plan.time_format is not None and 0 < read < SMALL_SAMPLE:
        caveats.append(
            f"The sample was small: the timestamp rule was verified on {read} event"
            f"{'s' if read > 1 else ''} only; confirm it on more data."
        )
    limit = f"more than {MAX_DAYS_AGO_LIMIT} days ago, older than Splunk accepts even with "
    limit += "MAX_DAYS_AGO at its maximum"
    for events, (one, many) in (
        (gaps.timeless, ("carries no timestamp", "carry no timestamp")),
        (gaps.too_old, (f"is dated {limit}", f"are dated {limit}")),
    ):
        if events:
            example = " ".join(events[0].split())[:80]
            caveats.append(
                f"{len(events)} of {gaps.events} sampled events {many if events[1:] else one} "
                f"(e.g. `{example}`): Splunk gives each the time of the event before it."
            )
    return caveats

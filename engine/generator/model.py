"""The generator's shared vocabulary: what each inference step hands to the next.

Every step (format detection, event breaking, timestamps, fields, CIM) reads an
:class:`AnalysisContext` and returns a plain, immutable plan. Plans carry the exact props.conf /
transforms.conf settings they want written, so the assembler never re-derives anything and a
planner (rule-based today, an LLM later) can propose plans that go through the same
validation and repair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.generator.llm.transcript import Transcript
from engine.samples import SampleSet
from engine.sandbox.report import ValidationReport
from engine.sandbox.routes import InputRoute
from engine.settings import SandboxSettings, get_sandbox_settings

FormatKind = Literal[
    "json",
    "ndjson",
    "csv",
    "tsv",
    "psv",
    "w3c",
    "zeek_tsv",
    "kv",
    "syslog3164",
    "syslog5424",
    "apache_access",
    "apache_error",
    "nginx_access",
    "cef",
    "leef",
    "xml",
    "multiline",
    "unstructured",
]
"""Format families the generator recognises (``multiline``: unstructured events spanning lines)."""

Settings = dict[str, str]
"""Settings of one .conf stanza, in the order they should be written."""


@dataclass(frozen=True)
class FormatGuess:
    """The format family of the samples and what was learned while detecting it.

    ``header`` holds column names for delimited formats (csv/tsv/psv/w3c/zeek_tsv);
    ``delimiter`` their separator; ``details`` anything else worth reporting (e.g. the syslog
    flavour, the JSON root kind, the share of lines that matched).
    """

    kind: FormatKind
    confidence: float
    header: tuple[str, ...] = ()
    delimiter: str | None = None
    header_lines: int = 0
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BreakingPlan:
    """Index-time event breaking: LINE_BREAKER with SHOULD_LINEMERGE=false.

    ``event_start`` is the regex (without anchors) an event's first line matches when events span
    lines; ``None`` for one event per line. ``skip`` matches lines that are not events (Zeek/W3C
    ``#`` headers): an index-time transform sends them to the nullQueue.
    """

    line_breaker: str
    truncate: int
    event_breaker: str
    multiline: bool = False
    event_start: str | None = None
    reason: str = ""
    skip: str | None = None

    def settings(self) -> Settings:
        return {
            "SHOULD_LINEMERGE": "false",
            "LINE_BREAKER": self.line_breaker,
            "TRUNCATE": str(self.truncate),
            "EVENT_BREAKER_ENABLE": "true",
            "EVENT_BREAKER": self.event_breaker,
        }


@dataclass(frozen=True)
class TimestampPlan:
    """Index-time timestamp recognition, verified against the samples.

    ``time_format`` is Splunk strptime. ``success`` is the share of sampled events whose time the
    plan parsed; ``tz`` is set only when the data carries no offset. ``None`` format without
    ``automatic`` means the events carry no timestamp the generator could trust
    (DATETIME_CONFIG=CURRENT).
    """

    time_prefix: str | None
    time_format: str | None
    lookahead: int
    tz: str | None = None
    has_year: bool = True
    success: float = 0.0
    example: str = ""
    automatic: bool = False
    """No TIME_FORMAT is written: Splunk's own recognition reads the timestamps, because the
    samples mix layouts or hold too few timestamps to pin one (``time_format`` is then the
    layout seen most, for the README)."""
    events: int = 0
    """Sampled events the plan was verified on."""
    timeless: int = 0
    """Of those, events in which no timestamp was found at all (no rule can read them)."""

    def settings(self) -> Settings:
        if self.time_format is None and not self.automatic:
            return {"DATETIME_CONFIG": "CURRENT"}
        out: Settings = {}
        if self.time_prefix is not None:
            out["TIME_PREFIX"] = self.time_prefix
        if self.time_format is not None and not self.automatic:
            out["TIME_FORMAT"] = self.time_format
        out["MAX_TIMESTAMP_LOOKAHEAD"] = str(self.lookahead)
        if self.tz is not None:
            out["TZ"] = self.tz
        return out


@dataclass(frozen=True)
class FieldInfo:
    """One search-time field the TA produces, with example values for the README."""

    name: str
    examples: tuple[str, ...] = ()
    source: str = ""
    """How it is extracted, e.g. ``KV_MODE=json``, ``EXTRACT-x``, ``REPORT-y``."""


@dataclass(frozen=True)
class FieldPlan:
    """Search-time field extraction: settings for the sourcetype stanza plus transforms.

    ``props`` go into the sourcetype's props.conf stanza (KV_MODE, EXTRACT-*, REPORT-*,
    INDEXED_EXTRACTIONS, FIELD_NAMES...); ``transforms`` maps transforms.conf stanza names to
    their settings.
    """

    props: Settings = field(default_factory=dict)
    transforms: dict[str, Settings] = field(default_factory=dict)
    fields: tuple[FieldInfo, ...] = ()
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class CimPlan:
    """CIM mapping: aliases/evals for the sourcetype, eventtypes and tags, and what is missing.

    ``unmapped`` maps a data model name to its required fields that could not be produced.
    """

    models: tuple[str, ...] = ()
    props: Settings = field(default_factory=dict)
    eventtypes: dict[str, Settings] = field(default_factory=dict)
    tags: dict[str, Settings] = field(default_factory=dict)
    mapped: dict[str, str] = field(default_factory=dict)
    """CIM field -> source field or expression."""
    unmapped: dict[str, tuple[str, ...]] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalysisContext:
    """Everything known about the samples when fields and CIM are inferred.

    ``events`` are the raw texts of the sampled events as the breaking plan splits them (a
    bounded subset), with the timestamp plan already verified on them.
    """

    sample: SampleSet
    format: FormatGuess
    breaking: BreakingPlan
    timestamps: TimestampPlan
    events: tuple[str, ...]
    sourcetype: str
    source_system: str = ""
    description: str = ""
    knowledge: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationRequest:
    """What a requestor hands the generator.

    ``knowledge`` are snippets (docs, stanzas of existing TAs) retrieved by the caller;
    ``reports`` the validation reports of the earlier revisions, oldest first, for a repair
    revision; ``sandbox`` the settings the TA will be validated with and ``input_route`` how
    the samples will reach Splunk there, which the self-check applies too (the environment's
    settings and a monitored file by default, as ``tagen validate`` does).
    """

    samples: tuple[Path, ...]
    name: str | None = None
    sourcetype: str | None = None
    source_system: str = ""
    description: str = ""
    cim_required: bool = True
    redact: bool = False
    include_samples: bool = False
    default_tz: str = "UTC"
    version: str = "1.0.0"
    knowledge: tuple[str, ...] = ()
    reports: tuple[ValidationReport, ...] = ()
    sandbox: SandboxSettings = field(default_factory=get_sandbox_settings)
    input_route: InputRoute = InputRoute.MONITOR


@dataclass(frozen=True)
class SelfCheck:
    """The verdict of the generator's own sandbox run on the samples."""

    passed: bool
    rounds: int
    problems: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationResult:
    """The generated TA: where it is, what it holds and how it checked itself."""

    name: str
    sourcetype: str
    ta_dir: Path
    package: Path
    sha256: str
    format: FormatGuess
    breaking: BreakingPlan
    timestamps: TimestampPlan
    fields: FieldPlan
    cim: CimPlan | None
    check: SelfCheck
    caveats: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    """What the validation reports of earlier revisions made the generator change, and why."""
    planner: str = "rules"
    assisted: tuple[str, ...] = ()
    """What the LLM planner's proven proposals changed (empty: the rules' TA)."""
    transcript: Transcript | None = None
    """The LLM session (None when no model was asked)."""


class GenerationError(ValueError):
    """Samples or a request the generator cannot work with (empty, binary, unreadable...)."""

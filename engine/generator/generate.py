"""Generate a TA from raw samples: analyse, plan, assemble, self-check and repair, package.

A bounded subset of the samples is analysed (:func:`engine.samples.read_sample_set`: the head of
each file plus whole-line windows spread over the rest); the self-check (:func:`_self_check`)
then runs the sandbox over the samples themselves (up to ``MAX_CHECK_EVENTS`` events). Every
plan, whoever proposed it (rules or, later, an LLM), goes through the same check, and failures
are repaired for a bounded number of rounds: truncated events widen TRUNCATE; timestamps
rejected as too old raise MAX_DAYS_AGO; for unread ones, the rule that reads the most of them
and of the analysed events wins (as planned, a wider window, re-planned with them, automatic);
CIM tags whose events are not compliant are withheld; extractions that match nothing, hit the
PCRE limits or fail the linter are dropped. Before the self-check, the planner may refine the
draft (:meth:`engine.generator.planner.Planner.refine`: the LLM planner's proposals, each proven
with the same sandbox run). A repair revision also gets the validation reports
of the earlier revisions (``GenerationRequest.reports``): their failing events join the analysis
and their findings are repaired first (:mod:`engine.generator.repair`), and the README says what
changed. The output is deterministic: the same samples and request (reports included) give a
byte-identical package.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.conf.parse import ConfFile, render_conf
from engine.conf.ta import TA, InvalidTAError, validate_app_id, validate_version, write_ta
from engine.generator.formats import pick_lines
from engine.generator.model import (
    AnalysisContext,
    BreakingPlan,
    FormatGuess,
    GenerationError,
    GenerationRequest,
    GenerationResult,
    SelfCheck,
    Settings,
    TimestampPlan,
)
from engine.generator.planner import Planner, RulePlanner
from engine.generator.readme import ReadmeInput, generation_caveats, render_readme
from engine.generator.redact import Redactor
from engine.generator.repair import (
    Draft,
    failing_examples,
    failing_keys,
    repair_after_check,
    repair_from_report,
    repair_timestamps,
    uncovered,
)
from engine.generator.timestamp_shapes import read_time
from engine.outputs import cannot_write, check_folder, check_outputs, output_lock
from engine.packaging.archive import build_package
from engine.regex import Regex, RegexLimitError, compile_regex
from engine.samples import SampleError, SampleSet, read_sample_set, splunk_charset
from engine.sandbox.linebreak import LineBreaker, compile_line_breaker
from engine.sandbox.pipeline import EventSink, SandboxResult, run_sandbox
from engine.sandbox.report import ValidationReport
from engine.sandbox.timestamps import DEFAULT_MAX_DAYS_AGO, MAX_DAYS_AGO_LIMIT

MAX_FIELD_EVENTS = 2000
"""Events handed to field inference, picked evenly over the analysed subset."""

MAX_EVENT_CHARS = 10_240
"""Characters of each event the inference looks at. Not a speed guard (the inference regexes are
linear): learned templates carry an event's literal tokens, and a template learned from a
300K-character line is a regex PCRE2 refuses to compile ("regular expression is too large");
the typed-token rules would also hit Splunk's match limits there. Splunk's automatic key/value
extraction reads no further than this either."""

MAX_CHECK_EVENTS = 20_000
"""Events the self-check reads from the samples."""

MAX_REPAIR_ROUNDS = 3
SHIPPED_SAMPLE_EVENTS = 200

_SOURCETYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_KIND_SUFFIX = {
    "syslog3164": "syslog",
    "syslog5424": "syslog",
    "apache_access": "access",
    "nginx_access": "access",
    "apache_error": "error",
    "ndjson": "json",
    "zeek_tsv": "tsv",
    "unstructured": "log",
    "multiline": "log",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def split_events(text: str, plan: BreakingPlan) -> list[str]:
    """``text`` broken into events exactly as the sandbox (and Splunk) will break it.

    Lines the plan's skip transform sends to the nullQueue (``#`` headers, a header row) are
    left out: Splunk never indexes them, so no rule may be learned from them.
    """
    breaker = LineBreaker(
        compile_line_breaker(plan.line_breaker), truncate=plan.truncate, lookbehind=100
    )
    data = text.encode("utf-8")
    events = [line.text for line in chain(breaker.feed(data), breaker.finish())]
    if plan.skip is None:
        return events
    skip = compile_regex(plan.skip)
    return [event for event in events if not _matches(skip, event)]


def _matches(regex: Regex, text: str) -> bool:
    """Whether ``regex`` matches ``text``; a run stopped by the PCRE limits does not (Splunk)."""
    try:
        return regex.search(text) is not None
    except RegexLimitError:
        return False


def _names(request: GenerationRequest, fmt: FormatGuess) -> tuple[str, str]:
    """(app id, sourcetype): the request's, or derived from the source system or file name."""
    base = _slug(request.source_system) or _slug(Path(request.samples[0]).stem) or "custom"
    sourcetype = request.sourcetype or f"{base}:{_KIND_SUFFIX.get(fmt.kind, fmt.kind)}"
    if not _SOURCETYPE.match(sourcetype) or "::" in sourcetype:
        raise GenerationError(
            f"sourcetype {sourcetype!r} is not valid: use letters, digits and _ . : - "
            "(no '::'), e.g. vendor:product"
        )
    name = request.name or "TA-" + base.replace("_", "-")
    try:
        validate_app_id(name)
        validate_version(request.version)
    except InvalidTAError as exc:
        raise GenerationError(str(exc)) from exc
    return name, sourcetype


SKIP_TRANSFORM = "tagen_skip_non_events"


def _confs(draft: Draft, sourcetype: str) -> dict[str, ConfFile]:
    props = ConfFile(path="default/props.conf")
    for key, value in draft.props().items():
        props.set(sourcetype, key, value)
    confs = {"props": props}
    transforms = ConfFile(path="default/transforms.conf")
    if draft.breaking.skip is not None:
        props.set(sourcetype, "TRANSFORMS-skip", SKIP_TRANSFORM)
        for key, value in (
            ("REGEX", draft.breaking.skip),
            ("DEST_KEY", "queue"),
            ("FORMAT", "nullQueue"),
        ):
            transforms.set(SKIP_TRANSFORM, key, value)
    for stanza, settings in draft.fields.transforms.items():
        for key, value in settings.items():
            transforms.set(stanza, key, value)
    confs["transforms"] = transforms
    if draft.cim is not None:
        for conf_name, stanzas in (("eventtypes", draft.cim.eventtypes), ("tags", draft.cim.tags)):
            conf = ConfFile(path=f"default/{conf_name}.conf")
            for stanza, settings in stanzas.items():
                for key, value in settings.items():
                    conf.set(stanza, key, value)
            confs[conf_name] = conf
    return confs


def _ta(draft: Draft, *, name: str, sourcetype: str, request: GenerationRequest) -> TA:
    title = request.source_system or sourcetype
    ta = TA(
        app_id=name,
        version=request.version,
        label=f"Add-on for {title}"[:80],
        description=request.description or f"Index-time and search-time parsing of {sourcetype}.",
        author="tagen",
        confs=_confs(draft, sourcetype),
    )
    ta.confs["app"] = ta.app.to_conf()
    return ta


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise GenerationError(
            f"time zone {name!r} is unknown (use an IANA name such as UTC)"
        ) from exc


def _charset(sample: SampleSet) -> Settings:
    """CHARSET for samples that are not UTF-8 (Splunk reads UTF-8 unless told otherwise)."""
    charset = splunk_charset(sample.encodings)
    return {} if charset is None else {"CHARSET": charset}


def _age_settings(plan: TimestampPlan) -> Settings:
    """MAX_DAYS_AGO raised when the samples are older than Splunk accepts by default."""
    if (plan.time_format is None and not plan.automatic) or not plan.has_year or not plan.example:
        return {}
    layout = None if plan.automatic else plan.time_format
    when = read_time(plan.example, layout, ZoneInfo(plan.tz or "UTC"))
    if when is None or datetime.now(UTC) - when < timedelta(days=DEFAULT_MAX_DAYS_AGO - 30):
        return {}
    return {"MAX_DAYS_AGO": str(MAX_DAYS_AGO_LIMIT)}


def _check(
    ta: TA,
    request: GenerationRequest,
    sourcetype: str,
    *,
    max_events: int = MAX_CHECK_EVENTS,
    sinks: Sequence[EventSink] = (),
) -> SandboxResult:
    """The sandbox run of the self-check: the validation's settings, verdict and input route
    (``request.sandbox``, ``request.input_route``), with the differences named here only: at
    most ``max_events`` events (MAX_CHECK_EVENTS), in the request's zone."""
    settings = request.sandbox.model_copy(
        update={"default_tz": request.default_tz, "max_events": max_events}
    )
    try:
        return run_sandbox(
            ta=ta,
            samples=list(request.samples),
            sourcetype=sourcetype,
            source=None,
            host=None,
            settings=settings,
            sinks=sinks,
            input_route=request.input_route,
        )
    except SampleError as exc:  # e.g. a sample that is no HEC event stream for hec-event
        raise GenerationError(str(exc)) from exc


def _analyse(
    request: GenerationRequest, planner: Planner
) -> tuple[SampleSet, FormatGuess, BreakingPlan, TimestampPlan, list[str]]:
    try:
        sample = read_sample_set(request.samples)
    except SampleError as exc:
        raise GenerationError(str(exc)) from exc
    fmt = planner.detect_format(sample)
    breaking = planner.plan_breaking(sample, fmt)
    if fmt.kind == "unstructured" and breaking.multiline:
        fmt = replace(fmt, kind="multiline")
    events = [
        event[:MAX_EVENT_CHARS]
        for event in pick_lines(split_events(sample.text, breaking), MAX_FIELD_EVENTS)
    ]
    if not events:
        raise GenerationError("the samples hold no events")
    timestamps = planner.plan_timestamps(events, default_tz=request.default_tz, fmt=fmt)
    return sample, fmt, breaking, timestamps, events


def _shipped_samples(
    sample: SampleSet, draft: Draft, sourcetype: str, redactor: Redactor | None
) -> dict[str, bytes]:
    """samples/<sourcetype>.log (masked if asked, in the CHARSET the TA declares) and its
    pytest-splunk-addon-data.conf."""
    breaking = draft.breaking
    charset = draft.extra.get("CHARSET", "AUTO")
    events = split_events(sample.text, breaking)[:SHIPPED_SAMPLE_EVENTS]
    text = "\n".join(redactor.redact(event) if redactor else event for event in events) + "\n"
    file_name = f"{_slug(sourcetype)}.log"
    data_conf = ConfFile(path="samples/pytest-splunk-addon-data.conf")
    for key, value in (
        ("sourcetype", sourcetype),
        ("source", f"pytest-splunk-addon:{file_name}"),
        ("input_type", "file_monitor"),
        ("host_type", "plugin"),
        ("timestamp_type", "event"),
        ("sample_count", "1"),
    ):
        data_conf.set(file_name, key, value)
    return {
        f"samples/{file_name}": text.encode(
            "utf-8" if charset == "AUTO" else charset, errors="replace"
        ),
        "samples/pytest-splunk-addon-data.conf": render_conf(data_conf).encode("utf-8"),
    }


def _install(ta: TA, out_dir: Path) -> Path:
    """Write ``ta`` as ``out_dir/<app id>``, replacing an earlier generation of the same app."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{ta.app_id}-", dir=out_dir))
    try:
        built = write_ta(ta, staging)
        target = out_dir / ta.app_id
        if target.exists():
            if not (target / "default" / "app.conf").is_file():
                raise GenerationError(f"{target} exists and is not a generated add-on")
            shutil.rmtree(target)
        built.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def generate_ta(
    request: GenerationRequest, *, out_dir: Path, planner: Planner | None = None
) -> GenerationResult:
    """Generate, self-check, repair and package a TA for ``request``'s samples under ``out_dir``."""
    planner = planner or RulePlanner()
    _check_zone(request.default_tz)
    check_folder(out_dir)
    sample, fmt, breaking, timestamps, events = _analyse(request, planner)
    name, sourcetype = _names(request, fmt)
    check_outputs(
        {"the TA folder": out_dir / name, "the package": out_dir / f"{name}-{request.version}.tgz"},
        [("sample", Path(path)) for path in request.samples],
        files=False,
    )
    # Events that failed an earlier validation join the analysis (whole ones only for fields).
    examples = failing_examples(request.reports)
    context = AnalysisContext(
        sample=sample,
        format=fmt,
        breaking=breaking,
        timestamps=timestamps,
        events=(*events, *failing_examples(request.reports, whole_only=True)),
        sourcetype=sourcetype,
        source_system=request.source_system,
        description=request.description,
        knowledge=request.knowledge,
    )
    fields = planner.plan_fields(context)
    cim = planner.plan_cim(context, fields) if request.cim_required else None
    draft = Draft(
        breaking, timestamps, fields, cim, {**_charset(sample), **_age_settings(timestamps)}
    )
    replanned = (
        planner.plan_timestamps([*examples, *events], default_tz=request.default_tz, fmt=fmt)
        if examples
        else timestamps
    )
    validation_repairs: list[str] = []
    for earlier in request.reports:
        draft, done = repair_from_report(
            draft,
            earlier,
            examples=examples,
            replanned=replanned,
            events=events,
            default_tz=request.default_tz,
        )
        validation_repairs.extend(done)

    def sandbox(draft: Draft, *, max_events: int, sinks: Sequence[EventSink]) -> ValidationReport:
        """The self-check's run for a planner's proofs; a draft whose settings cannot be
        written to .conf files raises ConfRenderError before it runs."""
        ta = _ta(draft, name=name, sourcetype=sourcetype, request=request)
        for conf in ta.confs.values():
            render_conf(conf)
        return _check(ta, request, sourcetype, max_events=max_events, sinks=sinks).report

    refinement = planner.refine(
        draft, context=context, sandbox=sandbox, check_events=MAX_CHECK_EVENTS
    )
    draft = refinement.draft
    draft, ta, check = _self_check(
        draft,
        request=request,
        planner=planner,
        fmt=fmt,
        events=events,
        name=name,
        sourcetype=sourcetype,
    )
    caveats = (
        *generation_caveats(sample, draft, check, uncovered(draft, events, request.default_tz)),
        *(f"Repaired after validation: {repair}." for repair in validation_repairs),
    )
    ta.readme = render_readme(
        ReadmeInput(
            name=name,
            sourcetype=sourcetype,
            source_system=request.source_system,
            description=request.description,
            format=fmt,
            breaking=draft.breaking,
            timestamps=draft.timestamps,
            fields=draft.fields,
            cim=draft.cim,
            caveats=caveats,
            ships_samples=request.include_samples,
            charset=draft.extra.get("CHARSET"),
            about=refinement.about,
            assisted=refinement.notes,
        ),
        redactor=Redactor(ip_shape=False) if request.redact else None,
    )
    if request.include_samples:
        masker = Redactor() if request.redact else None
        ta.extra_files.update(_shipped_samples(sample, draft, sourcetype, masker))
    with output_lock(out_dir):  # concurrent runs on one folder take turns, never interleave
        try:
            ta_dir = _install(ta, out_dir)
            try:
                package = build_package(ta_dir, out_dir)
            except BaseException:
                shutil.rmtree(ta_dir, ignore_errors=True)  # no TA folder without its package
                raise
        except OSError as exc:
            raise cannot_write(out_dir, exc) from exc
    return GenerationResult(
        name=name,
        sourcetype=sourcetype,
        ta_dir=ta_dir,
        package=package.path,
        sha256=package.sha256,
        format=fmt,
        breaking=draft.breaking,
        timestamps=draft.timestamps,
        fields=draft.fields,
        cim=draft.cim,
        check=check,
        caveats=caveats,
        repairs=tuple(validation_repairs),
        planner=planner.name,
        assisted=refinement.notes,
        transcript=refinement.transcript,
    )


def _self_check(
    draft: Draft,
    *,
    request: GenerationRequest,
    planner: Planner,
    fmt: FormatGuess,
    events: Sequence[str],
    name: str,
    sourcetype: str,
) -> tuple[Draft, TA, SelfCheck]:
    """Run the draft's TA over the samples and repair what the sandbox finds, for at most
    ``MAX_REPAIR_ROUNDS`` rounds; returns the final draft, its TA and the verdict."""
    repairs: list[str] = []
    rounds = 0
    while True:
        rounds += 1
        ta = _ta(draft, name=name, sourcetype=sourcetype, request=request)
        report = _check(ta, request, sourcetype).report
        failing = failing_keys(report)
        problems = [*report.reasons, *(f"{key} hit the PCRE limits" for key in sorted(failing))]
        if not problems or rounds > MAX_REPAIR_ROUNDS:
            break
        repaired, done = repair_after_check(draft, ta, report)
        own = failing_examples([report])
        if own and (repaired.timestamps, repaired.extra) == (draft.timestamps, draft.extra):
            # Events of the samples the timestamp rule missed: a rule that reads them too.
            repaired, more = repair_timestamps(
                repaired,
                report,
                examples=own,
                replanned=planner.plan_timestamps(
                    [*own, *events], default_tz=request.default_tz, fmt=fmt
                ),
                events=events,
                default_tz=request.default_tz,
            )
            done = [*done, *more]
        if not done:
            break
        repairs.extend(done)
        tags_only = replace(repaired, cim=draft.cim) == draft
        draft = repaired
        if tags_only:
            # Withholding CIM tags changes nothing but CIM compliance: no need to re-run.
            ta = _ta(draft, name=name, sourcetype=sourcetype, request=request)
            problems = [problem for problem in problems if not problem.startswith("CIM:")]
            break
    check = SelfCheck(
        passed=not problems, rounds=rounds, problems=tuple(problems), repairs=tuple(repairs)
    )
    return draft, ta, check

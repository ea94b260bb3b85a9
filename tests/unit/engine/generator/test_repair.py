"""Repairs from earlier validation reports: each finding changes the TA the expected way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from engine.cim.compliance import DatasetSummary, FieldTally
from engine.conf.ta import TA, load_ta
from engine.generator.generate import generate_ta
from engine.generator.model import (
    BreakingPlan,
    CimPlan,
    FieldInfo,
    FieldPlan,
    FormatGuess,
    GenerationRequest,
    TimestampPlan,
)
from engine.generator.planner import RulePlanner
from engine.generator.repair import (
    MAX_TRUNCATE,
    Draft,
    failing_examples,
    repair_after_check,
    repair_from_report,
)
from engine.sandbox.pipeline import run_sandbox
from engine.sandbox.report import (
    EXCERPT_CHARS,
    CimReport,
    LintItem,
    TimestampFailure,
    TimestampSummary,
    ValidationReport,
)
from engine.settings import SandboxSettings

SYSLOG = "".join(
    f"Mar {day:2d} 10:0{day % 10}:0{day % 6} gw{day % 3} sshd[{100 + day}]: "
    f"Failed password for user{day % 4} from 10.0.{day}.{day + 1} port {2000 + day} ssh2\n"
    for day in range(1, 21)
)
SOURCETYPE = "acme:ssh"


def _request(tmp_path: Path, text: str = SYSLOG, **changes: object) -> GenerationRequest:
    sample = tmp_path / "sample.log"
    sample.write_text(text, encoding="utf-8")
    request = GenerationRequest(samples=(sample,), sourcetype=SOURCETYPE, cim_required=False)
    return replace(request, **changes)  # type: ignore[arg-type]


def _props(result_dir: Path) -> dict[str, str]:
    return dict(load_ta(result_dir).props.get(SOURCETYPE))


def _failure(raw: str, error: str) -> TimestampFailure:
    return TimestampFailure(sample="all.log", event_offset=0, raw=raw, error=error)


def test_truncation_lint_and_config_errors_change_the_ta(tmp_path: Path) -> None:
    request = _request(tmp_path)
    v1 = generate_ta(request, out_dir=tmp_path / "v1")
    props = _props(v1.ta_dir)
    assert props["TRUNCATE"] == "10000" and "EXTRACT-a_header" in props
    assert "context_port" in props["REPORT-context"]
    report = ValidationReport(
        ta=v1.name,
        events=40,
        truncated_events=2,
        lint=[
            LintItem(
                file="default/props.conf",
                line=9,
                severity="error",
                message=f"[{SOURCETYPE}] EXTRACT-a_header: not valid PCRE2: missing )",
            ),
            LintItem(
                file="default/props.conf",
                line=3,
                severity="warning",
                message=f"[{SOURCETYPE}] EXTRACT-t001_x: a warning is not a reason to drop",
            ),
        ],
        config_errors=["transforms.conf [context_port]: REGEX needs a capturing group"],
    )
    v2 = generate_ta(replace(request, reports=(report,)), out_dir=tmp_path / "v2")
    props = _props(v2.ta_dir)
    assert props["TRUNCATE"] == "40000"
    assert "EXTRACT-a_header" not in props and "REPORT-context" not in props
    assert any(key.startswith("EXTRACT-t001") for key in props)
    assert "context_port" not in load_ta(v2.ta_dir).transforms.names()
    assert any("TRUNCATE raised to 40000" in repair for repair in v2.repairs)
    assert any("EXTRACT-a_header, REPORT-context" in repair for repair in v2.repairs)
    readme = (v2.ta_dir / "README.md").read_text(encoding="utf-8")
    assert "Repaired after validation: TRUNCATE raised to 40000" in readme
    assert v1.repairs == ()


def test_old_timestamps_raise_max_days_ago_and_the_result_is_deterministic(
    tmp_path: Path,
) -> None:
    request = _request(tmp_path)
    v1 = generate_ta(request, out_dir=tmp_path / "v1")
    assert "MAX_DAYS_AGO" not in _props(v1.ta_dir)
    line = SYSLOG.splitlines()[0]
    report = ValidationReport(
        ta=v1.name,
        timestamps=TimestampSummary(
            ratio=0.5,
            failures=[
                _failure(line, "timestamp 2001-03-01T10:01:01+00:00 is more than MAX_DAYS_AGO=2000")
            ],
        ),
    )
    repaired = replace(request, reports=(report,))
    v2 = generate_ta(repaired, out_dir=tmp_path / "v2")
    assert _props(v2.ta_dir)["MAX_DAYS_AGO"] == "10951"
    assert v2.sha256 != v1.sha256
    again = generate_ta(repaired, out_dir=tmp_path / "v2-again")
    assert again.package.read_bytes() == v2.package.read_bytes()


def test_failing_examples_are_deduplicated_and_excerpts_lose_their_marker() -> None:
    long_raw = "x" * EXCERPT_CHARS + "..."
    report = ValidationReport(
        ta="TA-x",
        timestamps=TimestampSummary(
            failures=[_failure("a 1", "e"), _failure(long_raw, "e"), _failure("a 1", "e")]
        ),
    )
    assert failing_examples([report, report]) == ("a 1", "x" * EXCERPT_CHARS)
    assert failing_examples([report], whole_only=True) == ("a 1",)


def test_non_compliant_eventtypes_lose_their_tags_and_list_what_failed() -> None:
    cim = CimPlan(
        models=("Authentication", "Change"),
        props={"FIELDALIAS-cim_dest": "host ASNEW dest"},
        eventtypes={"acme_auth": {"search": "sourcetype=acme"}, "acme_change": {"search": "x"}},
        tags={
            "eventtype=acme_auth": {"authentication": "enabled"},
            "eventtype=acme_change": {"change": "enabled"},
        },
    )
    draft = Draft(
        breaking=BreakingPlan(line_breaker="([\\r\\n]+)", truncate=10_000, event_breaker="x"),
        timestamps=TimestampPlan(None, None, 0),
        fields=FieldPlan(fields=(FieldInfo(name="user"),)),
        cim=cim,
        extra={},
    )
    report = ValidationReport(
        ta="TA-x",
        cim=CimReport(
            tagged_events=10,
            compliant_events=6,
            ratio=0.6,
            datasets=[
                DatasetSummary(
                    stanza="eventtype=acme_auth",
                    model="Authentication",
                    dataset="Authentication",
                    events=5,
                    compliant_events=1,
                    fields={
                        "src": FieldTally(type="string", problems={"missing": 4}),
                        "user": FieldTally(type="string", problems={}),
                    },
                ),
                DatasetSummary(
                    stanza="eventtype=acme_change",
                    model="Change",
                    dataset="All_Changes",
                    events=5,
                    compliant_events=5,
                ),
            ],
        ),
    )
    repaired, repairs = repair_from_report(
        draft, report, examples=(), replanned=draft.timestamps, events=(), default_tz="UTC"
    )
    assert repaired.cim is not None
    assert repaired.cim.tags == {"eventtype=acme_change": {"change": "enabled"}}
    assert set(repaired.cim.eventtypes) == {"acme_change"}
    assert repaired.cim.unmapped == {"Authentication": ("src",)}
    assert repaired.cim.props == cim.props
    assert repairs == [
        "CIM tags of [eventtype=acme_auth] withheld: 1 of 5 events compliant with "
        "Authentication in validation (src: missing)"
    ]


MIXED = [
    f'{{"ts": "2024-03-0{day}T10:{minute:02d}:07Z", "user": "u{minute}", "action": "login"}}'
    for day in (1, 2)
    for minute in range(10)
] + [
    f'{{"ts": "0{day}/Mar/2024:11:{minute:02d}:09 +0000", "user": "v{minute}"}}'
    for day in (3, 4)
    for minute in range(10)
]
"""JSON lines whose second half writes its timestamps in another layout."""


def _validate(ta_dir: Path, sample: Path) -> ValidationReport:
    return run_sandbox(
        ta=load_ta(ta_dir),
        samples=[sample],
        sourcetype=None,
        source=None,
        host=None,
        settings=SandboxSettings(),
    ).report


def test_a_failed_validation_on_all_samples_repairs_v2_into_a_pass(tmp_path: Path) -> None:
    """Generated from the first half, validated on all of it: the second half's timestamp
    layout fails v1; v2, given that report, reads both layouts and passes."""
    first, second = MIXED[:20], MIXED[20:]
    half = tmp_path / "half.log"
    half.write_text("\n".join(first) + "\n", encoding="utf-8")
    whole = tmp_path / "whole.log"
    whole.write_text("\n".join(first + second) + "\n", encoding="utf-8")
    request = GenerationRequest(samples=(half,), sourcetype=SOURCETYPE, cim_required=False)
    v1 = generate_ta(request, out_dir=tmp_path / "v1")
    assert v1.check.passed and _props(v1.ta_dir)["TIME_FORMAT"] == "%Y-%m-%dT%H:%M:%SZ"
    first_report = _validate(v1.ta_dir, whole)
    assert not first_report.passed and first_report.timestamps.ratio == 0.5

    v2 = generate_ta(replace(request, reports=(first_report,)), out_dir=tmp_path / "v2")
    second_report = _validate(v2.ta_dir, whole)
    assert second_report.passed, second_report.reasons
    assert second_report.timestamps.ratio == 1.0
    assert "TIME_FORMAT" not in _props(v2.ta_dir)
    assert v2.repairs and "reads 10 of the 10 events" in v2.repairs[0]


class _OneLayoutPlanner(RulePlanner):
    """Proposes the first half's timestamp rule whatever the samples hold (as a planner that
    saw too little might)."""

    def plan_timestamps(
        self, events: Sequence[str], *, default_tz: str, fmt: FormatGuess | None = None
    ) -> TimestampPlan:
        return TimestampPlan('"ts"\\s*:\\s*"', "%Y-%m-%dT%H:%M:%SZ", 24, tz="UTC", success=1.0)


def test_the_self_check_replaces_a_timestamp_rule_its_samples_refute(tmp_path: Path) -> None:
    request = _request(tmp_path, "\n".join(MIXED) + "\n")
    result = generate_ta(request, out_dir=tmp_path / "out", planner=_OneLayoutPlanner())
    assert result.check.passed and result.check.rounds == 2
    assert "TIME_FORMAT" not in _props(result.ta_dir)
    assert any("automatic recognition" in repair for repair in result.check.repairs)


def test_truncate_at_its_cap_is_not_raised_again() -> None:
    draft = Draft(
        breaking=BreakingPlan(
            line_breaker="([\\r\\n]+)", truncate=MAX_TRUNCATE // 2, event_breaker="x"
        ),
        timestamps=TimestampPlan(None, None, 0),
        fields=FieldPlan(fields=()),
        cim=None,
        extra={},
    )
    report = ValidationReport(ta="TA-x", truncated_events=3)
    ta = TA(app_id="TA-x", version="1.0.0")
    raised, repairs = repair_after_check(draft, ta, report)
    assert raised.breaking.truncate == MAX_TRUNCATE
    assert repairs == [f"TRUNCATE raised to {MAX_TRUNCATE} (3 cut)"]
    again, repairs = repair_after_check(raised, ta, report)
    assert again == raised and repairs == []


def test_events_longer_than_the_truncate_cap_are_reported_once(tmp_path: Path) -> None:
    line = "2024-01-01 10:00:00 msg=" + "x" * (MAX_TRUNCATE + 1000) + "\n"
    result = generate_ta(_request(tmp_path, line * 2), out_dir=tmp_path / "out")
    raised = [repair for repair in result.check.repairs if repair.startswith("TRUNCATE")]
    assert raised[-1] == f"TRUNCATE raised to {MAX_TRUNCATE} (2 cut)"
    assert len(set(result.check.repairs)) == len(result.check.repairs)  # each repair once
    assert not result.check.passed  # the events are still cut, and the check says so

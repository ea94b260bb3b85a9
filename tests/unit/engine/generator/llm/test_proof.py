"""The proof's measure: what counts as worse than the current draft."""

from __future__ import annotations

from engine.generator.llm.proof import Metrics
from engine.sandbox.report import (
    CimReport,
    FieldCoverage,
    LintItem,
    TimestampSummary,
    ValidationReport,
)


def _report(**changes: object) -> ValidationReport:
    report = ValidationReport(
        ta="TA-x",
        events=10,
        events_with_fields=8,
        timestamps=TimestampSummary(parsed=10),
        fields=[FieldCoverage(name="user", events=8, ratio=0.8)],
        cim=CimReport(tagged_events=4, compliant_events=4, ratio=1.0),
    )
    return report.model_copy(update=changes)


def test_nothing_lowered_is_no_loss() -> None:
    base = Metrics.of(_report())
    assert base.losses(base) == [] and base.field_values == 8 and base.cim_ratio == 1.0


def test_each_loss_is_named_with_both_figures() -> None:
    base = Metrics.of(_report())
    worse = Metrics.of(
        _report(
            events=10,
            events_with_fields=7,
            timestamps=TimestampSummary(parsed=9),
            cim=CimReport(tagged_events=4, compliant_events=3, ratio=0.75),
            lint=[LintItem(file="default/props.conf", line=3, severity="error", message="bad")],
            truncated_events=1,
        )
    )
    assert worse.losses(base) == [
        "timestamps parsed fell (10 -> 9)",
        "events with fields fell (8 -> 7)",
        "CIM compliance fell (100.0% -> 75.0%)",
        "errors rose (0 -> 1)",
        "truncated events rose (0 -> 1)",
    ]
    assert "the events changed (10 -> 11)" in Metrics.of(_report(events=11)).losses(base)


def test_no_event_time_is_read_under_current() -> None:
    assert Metrics.of(_report(), reads_time=False).timestamps == 0

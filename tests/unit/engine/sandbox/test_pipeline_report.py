"""The report's measurements and verdict, the scorer's JSONL and the debug bundle."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.conf.parse import parse_conf
from engine.conf.ta import TA
from engine.sandbox.bundle import write_bundle
from engine.sandbox.events import Event
from engine.sandbox.events_out import EventsWriter, event_record
from engine.sandbox.report import LintItem, ReportBuilder, SampleRun, Verdict
from engine.settings import SandboxSettings, get_sandbox_settings

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _event(raw: str, *, time: datetime | None = T0, error: str | None = None, **fields) -> Event:
    event = Event(raw=raw, sourcetype="st", source="/var/log/x.log", host="h1", time=time)
    event.time_error = error
    for name, value in fields.items():
        event.set_field(name, value)
    return event


def _builder(**overrides) -> ReportBuilder:
    builder = ReportBuilder(ta="TA-x", ta_version="1.0.0", settings=SandboxSettings(**overrides))
    builder.start_sample(SampleRun(path="x.log", sourcetype="st", source="s", host="h"))
    return builder


def test_a_clean_run_passes_and_measures_coverage() -> None:
    builder = _builder()
    builder.add_event(_event("a=1 b=2", a="1", b="2", punct="=_=", date_hour="12"), sample="x")
    builder.add_event(_event("a=3", a="3"), sample="x")
    report = builder.build(lint=[], stanza_models={})
    assert report.verdict is Verdict.PASSED
    assert report.reasons == []
    assert (report.events, report.samples[0].events) == (2, 2)
    assert [(item.name, item.events, item.ratio) for item in report.fields] == [
        ("a", 2, 1.0),
        ("b", 1, 0.5),
    ]
    assert report.timestamps.ratio == 1.0


def test_each_threshold_fails_with_a_reason_naming_it() -> None:
    builder = _builder(min_timestamp_ratio=0.9, min_field_coverage=0.9, max_truncated_ratio=0.1)
    truncated = _event("x" * 50, a="1")
    truncated.truncated = True
    builder.add_event(truncated, sample="x")
    unread = "2024-05-01 12:00:00 unread"
    builder.add_event(_event(unread, time=None, error="no timestamp found"), sample="x")
    report = builder.build(lint=[], stanza_models={})
    assert report.verdict is Verdict.FAILED
    joined = " | ".join(report.reasons)
    assert "timestamps parsed for 50.0% of events (minimum 90.0%)" in joined
    assert "fields extracted in 50.0% of events" in joined
    assert "50.0% of events truncated" in joined
    failure = report.timestamps.failures[0]
    assert (failure.raw, failure.error) == (unread, "no timestamp found")


def test_lint_errors_fail_only_when_configured() -> None:
    lint = [LintItem(file="default/props.conf", line=7, severity="error", message="bad REPORT")]
    strict = _builder()
    strict.add_event(_event("a=1", a="1"), sample="x")
    report = strict.build(lint=lint, stanza_models={})
    assert report.reasons == ["lint error at default/props.conf:7: bad REPORT"]
    lenient = _builder(fail_on_lint_errors=False)
    lenient.add_event(_event("a=1", a="1"), sample="x")
    assert lenient.build(lint=lint, stanza_models={}).passed


def test_no_events_is_a_failure() -> None:
    report = _builder().build(lint=[], stanza_models={})
    assert report.reasons == ["no events were produced from the samples"]


def test_repeated_warnings_are_counted_once() -> None:
    builder = _builder()
    for _ in range(3):
        builder.warn("regex limit hit in EXTRACT-x")
    builder.warn("other")
    report = builder.build(lint=[], stanza_models={})
    assert report.warnings == ["regex limit hit in EXTRACT-x (3 times)", "other"]


def test_event_record_keeps_extracted_fields_and_iso_time_with_offset() -> None:
    plus2 = timezone(timedelta(hours=2))
    event = _event("raw", time=datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=plus2), user="bob")
    event.set_field("ip", ["10.0.0.1", "10.0.0.2"])
    for internal in ("_raw", "linecount", "punct", "date_wday", "timestartpos", "eventtype"):
        event.set_field(internal, "x")
    event.set_field("tag::host", "web")
    event.eventtypes, event.tags = ["logins"], ["authentication", "web"]
    assert event_record(event) == {
        "raw": "raw",
        "time": "2024-01-02T03:04:05.678000+02:00",
        "fields": {"user": "bob", "ip": ["10.0.0.1", "10.0.0.2"]},
        "host": "h1",
        "source": "/var/log/x.log",
        "sourcetype": "st",
        "eventtypes": ["logins"],
        "tags": ["authentication", "web"],
    }
    extracted_host = _event("raw", time=None, host="web01")
    assert event_record(extracted_host) == {
        "raw": "raw",
        "time": None,
        "fields": {"host": "web01"},
        "host": "h1",
        "source": "/var/log/x.log",
        "sourcetype": "st",
        "eventtypes": [],
        "tags": [],
    }


def test_events_writer_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "events.jsonl"
    with EventsWriter(out) as writer:
        writer.write(_event("one", a="1"))
        writer.write(_event("two"))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["raw"] for line in lines] == ["one", "two"]
    failed = tmp_path / "failed.jsonl"
    with pytest.raises(RuntimeError), EventsWriter(failed) as writer:
        writer.write(_event("one"))
        raise RuntimeError("boom")
    assert not failed.exists()
    assert list(tmp_path.glob("*.partial")) == []


def test_bundle_holds_report_confs_failing_events_and_sample_heads(tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    sample.write_text("line one\nline two\n", encoding="utf-8")
    ta = TA(app_id="TA-x", version="1.0.0")
    ta.confs["props"] = parse_conf("[st]\nEXTRACT-a = a=(?<a>\\d+)\n", path="default/props.conf")
    builder = _builder()
    bad = _event("line one", time=None, error="no timestamp found")
    builder.add_event(bad, sample=str(sample))
    report = builder.build(lint=[], stanza_models={})
    bundle = tmp_path / "bundle.zip"
    write_bundle(bundle, report=report, ta=ta, failing_events=[bad], samples=[sample])
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert names == [
            "report.json",
            "ta/props.conf",
            "failing_events.jsonl",
            "samples/1_app.log",
        ]
        assert json.loads(archive.read("report.json"))["verdict"] == "FAILED"
        assert "EXTRACT-a" in archive.read("ta/props.conf").decode()
        failing = json.loads(archive.read("failing_events.jsonl").decode().splitlines()[0])
        assert failing["time_error"] == "no timestamp found"
        assert archive.read("samples/1_app.log").decode() == "line one\nline two\n"
    again = tmp_path / "again.zip"
    write_bundle(again, report=report, ta=ta, failing_events=[bad], samples=[sample])
    assert again.read_bytes() == bundle.read_bytes()


def test_settings_come_from_the_environment_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGEN_SANDBOX_MIN_TIMESTAMP_RATIO", "0.5")
    monkeypatch.setenv("TAGEN_SANDBOX_NOW", "2024-01-01T00:00:00+00:00")
    get_sandbox_settings.cache_clear()
    try:
        settings = get_sandbox_settings()
        assert settings.min_timestamp_ratio == 0.5
        assert settings.now == datetime(2024, 1, 1, tzinfo=UTC)
    finally:
        get_sandbox_settings.cache_clear()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"now": datetime(2024, 1, 1)}, "now must carry a UTC offset"),
        ({"default_tz": "Mars/Olympus"}, "unknown time zone"),
        ({"min_timestamp_ratio": 1.5}, "less than or equal to 1"),
    ],
)
def test_settings_reject_unusable_values(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SandboxSettings(**overrides)


def test_field_coverage_stays_bounded_when_names_carry_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("engine.sandbox.report.MAX_TRACKED_FIELDS", 3)
    builder = _builder()
    for i in range(5):
        builder.add_event(_event("x", **{f"id_{i}": "1", "user": "u"}), sample="x")
    report = builder.build(lint=[], stanza_models={})
    assert [item.name for item in report.fields] == ["user", "id_0", "id_1"]
    assert report.fields[0].events == 5
    assert report.warnings == [
        "more than 3 distinct field names: coverage lists the first ones only "
        "(field names probably carry data) (3 times)"
    ]


def test_distinct_warnings_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.sandbox.report.MAX_WARNINGS", 2)
    builder = _builder()
    for i in range(5):
        builder.warn(f"eval error on value {i}")
    report = builder.build(lint=[], stanza_models={})
    assert report.warnings == [
        "eval error on value 0",
        "eval error on value 1",
        "further distinct warnings beyond the first 2 (3 times)",
    ]


def _untimed(raw: str) -> Event:
    return _event(
        raw, time=None, error="no timestamp recognized in the first 128 characters", job="1"
    )


def test_events_without_any_timestamp_are_counted_apart_and_do_not_fail() -> None:
    builder = _builder(now=T0)
    for second in range(3):
        builder.add_event(_event(f"2024-05-01 10:00:0{second} job={second}", job="1"), sample="x")
    builder.add_event(_untimed("user note without any time at all"), sample="x")
    report = builder.build(lint=[], stanza_models={})
    assert report.passed, report.reasons
    timestamps = report.timestamps
    assert (timestamps.parsed, timestamps.timeless, timestamps.too_old) == (3, 1, 0)
    assert (report.timeable_events, timestamps.ratio, timestamps.failures) == (3, 1.0, [])
    assert [(e.raw, e.error) for e in timestamps.out_of_reach] == [
        ("user note without any time at all", "no timestamp in the event")
    ]


def test_a_ta_missing_timestamps_that_are_there_still_fails() -> None:
    builder = _builder(now=T0)
    builder.add_event(_event("2024-05-01 10:00:00 job=1", job="1"), sample="x")
    for second in (5, 6):
        builder.add_event(_untimed(f"2024-05-01 10:00:0{second} job=2"), sample="x")
    builder.add_event(_untimed("user note without any time at all"), sample="x")
    report = builder.build(lint=[], stanza_models={})
    assert not report.passed
    assert report.reasons == [
        "timestamps parsed for 33.3% of the 3 events a TA can time (not 1 without any "
        "timestamp) (minimum 95.0%)"
    ]
    assert [failure.raw for failure in report.timestamps.failures] == [
        "2024-05-01 10:00:05 job=2",
        "2024-05-01 10:00:06 job=2",
    ]


def test_a_ta_extracting_timestamps_from_events_that_have_none_fails() -> None:
    builder = _builder(now=T0)
    for name in ("a", "b"):
        builder.add_event(_untimed(f"no time here user={name}"), sample="x")
    report = builder.build(lint=[], stanza_models={})
    assert (report.timestamps.timeless, report.timestamps.ratio) == (2, 0.0)
    assert "timestamps parsed for 0.0% of events (minimum 95.0%)" in report.reasons


def test_dates_older_than_any_setting_accepts_are_not_the_tas_failure() -> None:
    builder = _builder(now=T0)
    for second in range(2):
        raw = f"1986-04-26T01:23:4{second}+04:00 halt"
        builder.add_event(_event(raw, time=None, error="MAX_DAYS_AGO", a="1"), sample="x")
    recent = _event("2024-01-01T00:00:00+00:00 halt", time=None, error="MAX_DAYS_AGO", a="1")
    only_old = builder.build(lint=[], stanza_models={})
    assert (only_old.timestamps.too_old, only_old.timestamps.ratio) == (2, 1.0)
    assert only_old.passed, only_old.reasons
    builder = _builder(now=T0)
    builder.add_event(recent, sample="x")
    assert builder.build(lint=[], stanza_models={}).timestamps.ratio == 0.0  # a TA can time it

"""A real Splunk's search results turned into events and judged by the sandbox's measurement."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.conf.parse import parse_conf
from engine.conf.ta import TA
from engine.sandbox.report import SampleRun
from engine.sandbox.splunk_results import (
    NO_TIMESTAMP,
    SplunkResults,
    event_from_result,
    parse_splunk_time,
)
from engine.settings import SandboxSettings

PROPS = {"TRUNCATE": "40"}


def _result(**extra: object) -> dict[str, object]:
    return {
        "_raw": "2024-05-01 10:00:00 user=ann action=login",
        "_time": "2024-05-01T10:00:00.000+02:00",
        "_cd": "0:1",
        "_indextime": "1717200000",
        "source": "/in/a.log",
        "sourcetype": "x:y",
        "host": "h1",
        "index": "main",
        "linecount": "1",
        "timestartpos": "0",
        "timeendpos": "19",
        "user": "ann",
        "action": "login",
        "date_hour": "10",
        **extra,
    }


def test_a_result_becomes_an_event_with_metadata_apart_from_fields():
    event = event_from_result(
        _result(eventtype=["auth", "login"], tag="authentication", dest=["a", "b"]), props=PROPS
    )
    assert event.raw.startswith("2024-05-01 10:00:00")
    assert event.time == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert event.time_error is None
    assert (event.source, event.sourcetype, event.host) == ("/in/a.log", "x:y", "h1")
    assert event.eventtypes == ["auth", "login"] and event.tags == ["authentication"]
    assert event.fields["user"] == ["ann"] and event.fields["dest"] == ["a", "b"]
    assert not {"_raw", "_time", "_cd", "source", "eventtype", "tag"} & set(event.fields)
    assert event.truncated is True  # 41 bytes of _raw reach TRUNCATE = 40


def test_no_timestartpos_means_splunk_found_no_timestamp_unless_props_ask_for_none():
    result = _result()
    del result["timestartpos"]
    assert event_from_result(result, props={}).time_error == NO_TIMESTAMP
    for props in (
        {"DATETIME_CONFIG": "CURRENT"},
        {"DATETIME_CONFIG": "none"},
        {"INDEXED_EXTRACTIONS": "json"},
    ):
        assert event_from_result(result, props=props).time_error is None


def test_an_unreadable_or_missing_time_is_an_error_and_epoch_times_are_read():
    assert "not a time" in (
        event_from_result(_result(_time="yesterday"), props={}).time_error or ""
    )
    assert event_from_result(_result(_time=None), props={}).time_error == "no _time in the result"
    assert parse_splunk_time("1714557600.250") == datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC)


def test_events_shorter_than_truncate_are_whole():
    assert event_from_result(_result(), props={"TRUNCATE": "10000"}).truncated is False
    assert event_from_result(_result(), props={"TRUNCATE": "0"}).truncated is False


def _ta() -> TA:
    ta = TA(app_id="TA-x", version="2.0.0")
    ta.confs["props"] = parse_conf("[x:y]\nTRUNCATE = 1000\n", path="default/props.conf")
    ta.confs["tags"] = parse_conf(
        "[eventtype=auth]\nauthentication = enabled\n", path="default/tags.conf"
    )
    return ta


def test_results_of_two_samples_are_counted_per_sample_and_judged():
    results = SplunkResults(ta=_ta(), settings=SandboxSettings())
    runs = [
        SampleRun(path=f"/in/{n}.log", sourcetype="x:y", source=f"/in/{n}.log", host="h1")
        for n in "ab"
    ]
    results.start_sample(runs[0])
    for _ in range(3):
        results.add(_result(source="/in/a.log"))
    results.start_sample(runs[1])
    untimed = _result(source="/in/b.log")
    del untimed["timestartpos"]
    results.add(untimed)
    report = results.result().report
    assert [(s.path, s.events) for s in report.samples] == [("/in/a.log", 3), ("/in/b.log", 1)]
    assert report.events == 4 and report.timestamps.parsed == 3
    assert report.verdict == "FAILED"
    assert report.reasons == ["timestamps parsed for 75.0% of events (minimum 95.0%)"]
    assert {f.name for f in report.fields} == {"user", "action"}
    assert report.ta == "TA-x" and report.ta_version == "2.0.0"


def test_cim_compliance_of_splunk_results_uses_the_engine_checker():
    results = SplunkResults(ta=_ta(), settings=SandboxSettings())
    results.start_sample(
        SampleRun(path="/in/a.log", sourcetype="x:y", source="/in/a.log", host="h")
    )
    results.add(_result(eventtype="auth", tag=["authentication"]))
    report = results.result().report
    assert report.cim.tagged_events == 1
    assert report.cim.compliant_events == 0  # Authentication needs app, dest, src...
    assert report.verdict == "FAILED" and report.reasons[0].startswith("CIM: 0 of 1")


def test_splunk_error_messages_fail_the_verdict_and_warnings_are_kept():
    results = SplunkResults(ta=_ta(), settings=SandboxSettings())
    results.start_sample(
        SampleRun(path="/in/a.log", sourcetype="x:y", source="/in/a.log", host="h")
    )
    results.add(_result())
    results.message("WARN", "Could not load lookup=LOOKUP-x")
    results.message("FATAL", "Error in 'search' command")
    report = results.result().report
    assert report.config_errors == ["Splunk: Error in 'search' command"]
    assert "Splunk warn: Could not load lookup=LOOKUP-x" in report.warnings
    assert report.verdict == "FAILED"


def test_a_result_before_any_sample_is_refused():
    with pytest.raises(ValueError, match="before any sample"):
        SplunkResults(ta=_ta(), settings=SandboxSettings()).add(_result())

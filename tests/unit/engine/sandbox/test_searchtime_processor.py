"""SearchTimeProcessor end to end: eventtypes and tags, bounded regexes, plan caching, real TAs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.conf.parse import parse_conf
from engine.sandbox.events import Event
from engine.sandbox.searchtime import SearchTimeProcessor

FIXTURES = Path(__file__).resolve().parents[5] / "shared" / "fixtures" / "splunk-addons"


def _processor(**confs: dict[str, dict[str, str]]) -> SearchTimeProcessor:
    return SearchTimeProcessor(
        transforms=confs.get("transforms", {}),
        eventtypes=confs.get("eventtypes", {}),
        tags=confs.get("tags", {}),
        lookup_files={},
    )


def _event(raw: str, sourcetype: str = "fw:log") -> Event:
    return Event(raw=raw, sourcetype=sourcetype, source="/var/log/fw.log", host="fw01")


def test_eventtypes_and_tags_are_set_on_the_event() -> None:
    processor = _processor(
        eventtypes={
            "fw_traffic": {"search": "sourcetype=fw:log action IN (allowed, blocked)"},
            "fw_blocked": {"search": "eventtype=fw_traffic action=blocked"},
            "fw_off": {"search": "sourcetype=fw:log", "disabled": "true"},
        },
        tags={
            "eventtype=fw_traffic": {"network": "enabled", "communicate": "enabled"},
            "eventtype=fw_blocked": {"attack": "disabled"},
            "source=%2Fvar%2Flog%2Ffw.log": {"firewall_file": "enabled"},
            "action=BLOCKED": {"denied": "enabled"},
        },
    )
    event = _event("action=blocked src=1.1.1.1")
    assert processor.apply(event, {}) == []
    assert event.eventtypes == ["fw_blocked", "fw_traffic"]
    assert event.tags == ["communicate", "denied", "firewall_file", "network"]
    assert event.fields["eventtype"] == ["fw_blocked", "fw_traffic"]
    assert event.fields["tag"] == event.tags


def test_event_without_eventtype_gets_no_eventtype_field() -> None:
    processor = _processor(eventtypes={"x": {"search": "action=allowed"}})
    event = _event("action=blocked")
    processor.apply(event, {})
    assert event.eventtypes == [] and "eventtype" not in event.fields and event.tags == []


def test_catastrophic_regex_is_a_bounded_error_and_the_rest_still_runs() -> None:
    processor = _processor(transforms={"slow": {"REGEX": r"(?<y>(a+)+b)"}})
    props = {
        "EXTRACT-boom": r"(?<x>(a+)+b)",
        "EXTRACT-fine": r"(?<first>\w)",
        "REPORT-slow": "slow",
        "EVAL-m": 'if(match(_raw, "(a+)+b"), "y", "n")',
        "EVAL-ok": '"done"',
    }
    event = _event("a" * 40 + "c b")
    errors = processor.apply(event, props)
    assert [e.split(":")[0] for e in errors] == ["EXTRACT-boom", "REPORT-slow (slow)", "EVAL-m"]
    assert all("limit" in e for e in errors)
    assert event.fields["first"] == ["a"]
    assert event.fields["ok"] == ["done"]
    assert "x" not in event.fields and "y" not in event.fields and "m" not in event.fields


def test_match_limit_setting_tightens_the_bound() -> None:
    processor = _processor()
    raw = "a" * 12 + "c b"
    relaxed = processor.apply(_event(raw), {"EXTRACT-r": r"(?<x>(a+)+b)"})
    strict = processor.apply(_event(raw), {"EXTRACT-r": r"(?<x>(a+)+b)", "MATCH_LIMIT": "50"})
    assert relaxed == []
    assert len(strict) == 1 and strict[0].startswith("EXTRACT-r")


def test_plan_is_compiled_once_per_props_mapping() -> None:
    processor = _processor()
    props = {"EXTRACT-a": r"(?<a>\d+)", "EVAL-b": "a * 2"}
    first = processor.plan(props)
    assert processor.plan(props) is first
    assert processor.plan(dict(props)) is first
    assert processor.plan({**props, "EVAL-c": "1"}) is not first
    event = _event("n 21")
    processor.apply(event, props)
    assert event.fields["b"] == ["42"]


def test_transition_fixture_ta() -> None:
    ta = FIXTURES / "TA_transition_from_req" / "default"
    props = parse_conf((ta / "props.conf").read_text()).get("test:data:1")
    processor = SearchTimeProcessor(
        transforms={},
        eventtypes={
            name: dict(s.settings)
            for name, s in parse_conf((ta / "eventtypes.conf").read_text()).stanzas.items()
        },
        tags={
            name: dict(s.settings)
            for name, s in parse_conf((ta / "tags.conf").read_text()).stanzas.items()
        },
        lookup_files={},
    )
    event = Event(
        raw="2021-12-31 15:15:30 result=success tester=admin ip=10.0.0.2",
        sourcetype="test:data:1",
        host="10.0.0.1",
    )
    assert processor.apply(event, props) == []
    expected = {
        "action": ["success"],
        "user": ["admin"],
        "src": ["10.0.0.2"],
        "dest": ["10.0.0.1"],
        "status": ["PASS"],
        "access": ["allowed"],
        "app": ["psa"],
        "vendor_product": ["Pytest Splunk Addon"],
    }
    assert {name: event.fields.get(name) for name in expected} == expected
    assert event.eventtypes == ["test_auth"]
    assert event.tags == ["authentication"]


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        (
            "ta_fiction_lookup component OUTPUT fiction_context_test1",
            {"fiction_context_test1": ["management1"]},
        ),
        (
            "ta_fiction_lookup test_name AS name OUTPUT AS_port as_host",
            {"AS_port": ["AS_port"], "as_host": ["as_host"]},
        ),
        ("ta_fiction_lookup component OUTPUTNEW status.test", {"status.test": ["a"]}),
    ],
)
def test_fiction_fixture_lookups(lookup: str, expected: dict[str, list[str]]) -> None:
    ta = FIXTURES / "TA_fiction"
    transforms = {
        name: dict(s.settings)
        for name, s in parse_conf((ta / "default" / "transforms.conf").read_text()).stanzas.items()
    }
    processor = SearchTimeProcessor(
        transforms=transforms,
        eventtypes={},
        tags={},
        lookup_files={p.name: p.read_bytes() for p in (ta / "lookups").glob("*.csv")},
    )
    event = _event("component=METRICS name=management", sourcetype="splunkd")
    assert processor.apply(event, {"LOOKUP-t": lookup}) == []
    for name, values in expected.items():
        assert event.fields.get(name) == values


def test_undefined_transforms_stanzas_are_plan_errors_naming_their_kind() -> None:
    processor = _processor(transforms={"bad_table": {"external_type": "kvstore"}})
    errors = processor.plan(
        {
            "REPORT-kv": "no_such_transform",
            "LOOKUP-missing": "no_such_table src OUTPUT zone",
            "LOOKUP-kvstore": "bad_table src OUTPUT zone",
        }
    ).errors
    assert any(
        "transform 'no_such_transform' is not defined in transforms.conf" in e for e in errors
    )
    assert any("lookup 'no_such_table' is not defined in transforms.conf" in e for e in errors)
    assert any("kvstore lookups are not supported" in e for e in errors)

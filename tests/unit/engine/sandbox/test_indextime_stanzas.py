"""props.conf stanza precedence and wildcard matching (props.conf.spec, Admin Manual)."""

from __future__ import annotations

import pytest

from engine.sandbox.stanzas import StanzaError, resolve_props, spec_matches


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (".../web/....log", "/opt/web/splunk/a.log", True),
        ("/var/log/*.log", "/var/log/messages.log", True),
        ("/var/log/*.log", "/var/log/sub/messages.log", False),
        ("/var/log/...", "/var/log/sub/messages.log", True),
        ("....(?<!tar.)(gz|bz2)", "/data/file.gz", True),
        ("....(?<!tar.)(gz|bz2)", "/data/file.tar.gz", False),
        ("/var/log/a.log", "/var/log/a.log", True),
        ("/var/log/a.log", "/var/log/aXlog", False),
        ("web*", "web01", True),
        ("web*", "db01", False),
        ("(web|db)01", "db01", True),
    ],
)
def test_spec_matches(spec: str, value: str, expected: bool) -> None:
    assert spec_matches(spec, value) is expected


def test_source_over_host_over_sourcetype_over_default() -> None:
    props = {
        "default": {"TRUNCATE": "1", "A": "default", "B": "default", "C": "default"},
        "st": {"A": "st", "B": "st", "C": "st"},
        "host::web*": {"A": "host", "B": "host", "priority": "1000"},
        "source::.../x.log": {"A": "source"},
    }
    merged = resolve_props(props, sourcetype="st", source="/var/x.log", host="web1")
    assert merged == {"TRUNCATE": "1", "A": "source", "B": "host", "C": "st"}


def test_ascii_first_pattern_wins_and_priority_overrides() -> None:
    props = {"source::.../bar/baz": {"attr": "val1"}, "source::.../bar/*": {"attr": "val2"}}
    assert resolve_props(props, sourcetype="", source="/a/bar/baz", host="")["attr"] == "val2"
    props = {"source::...a...": {"st": "a"}, "source::...z...": {"st": "z"}}
    assert resolve_props(props, sourcetype="", source="az", host="")["st"] == "a"
    props["source::...z..."] = {"st": "z", "priority": "10"}
    props["source::...a..."] = {"st": "a", "priority": "5"}
    assert resolve_props(props, sourcetype="", source="az", host="")["st"] == "z"


def test_literal_stanza_beats_pattern_unless_priority_above_100() -> None:
    props = {"source::/logs/abc/gh.log": {"TZ": "UTC"}, "source::/logs/.../*.log": {"TZ": "CST"}}
    assert resolve_props(props, sourcetype="", source="/logs/abc/gh.log", host="")["TZ"] == "UTC"
    props["source::/logs/.../*.log"]["priority"] = "101"
    assert resolve_props(props, sourcetype="", source="/logs/abc/gh.log", host="")["TZ"] == "CST"


def test_non_matching_and_bad_priority() -> None:
    props = {"other": {"A": "1"}, "host::db*": {"A": "2"}}
    assert resolve_props(props, sourcetype="st", source="s", host="web") == {}
    with pytest.raises(StanzaError, match="priority"):
        resolve_props({"host::w*": {"priority": "high"}}, sourcetype="", source="", host="w")

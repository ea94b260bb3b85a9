"""Bad index-time settings fail up front with a message naming the setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.regex import RegexLimitError
from engine.sandbox.indextime import IndexTimeStats, index_events
from engine.sandbox.stanzas import SettingError

NOW = datetime(2020, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("settings", "transforms", "message"),
    [
        ({"LINE_BREAKER": r"[\r\n]+"}, {}, "no capturing group"),
        ({"LINE_BREAKER": r"([\r\n]+"}, {}, "LINE_BREAKER"),
        ({"TRUNCATE": "lots"}, {}, "TRUNCATE"),
        ({"SHOULD_LINEMERGE": "maybe"}, {}, "SHOULD_LINEMERGE"),
        ({"BREAK_ONLY_BEFORE": "(unclosed"}, {}, "BREAK_ONLY_BEFORE"),
        ({"TIME_FORMAT": "%Y-%m-%d %Q%"}, {}, "dangling"),
        ({"TIME_FORMAT": "%Y %v"}, {}, "unsupported directive"),
        ({"TZ": "Mars/Olympus"}, {}, "TZ"),
        ({"INDEXED_EXTRACTIONS": "xml"}, {}, "INDEXED_EXTRACTIONS"),
        ({"INDEXED_EXTRACTIONS": "csv", "FIELD_DELIMITER": ";;"}, {}, "FIELD_DELIMITER"),
        ({"SEDCMD-x": "s/a/b"}, {}, "SEDCMD-x"),
        ({"SEDCMD-x": "s/a/b/q"}, {}, "flags"),
        ({"SEDCMD-x": "y/ab/c/"}, {}, "equal-length"),
        ({"TRANSFORMS-x": "missing"}, {}, r"\[missing\]"),
        ({"TRANSFORMS-x": "t"}, {"t": {"DEST_KEY": "queue", "FORMAT": "nullQueue"}}, "no REGEX"),
        ({"TRANSFORMS-x": "t"}, {"t": {"REGEX": "(a", "DEST_KEY": "queue"}}, r"\[t\]"),
        ({"TRANSFORMS-x": "t"}, {"t": {"REGEX": "(a)", "WRITE_META": "true"}}, "FORMAT"),
    ],
)
def test_bad_settings_raise_before_streaming(
    settings: dict[str, str], transforms: dict[str, dict[str, str]], message: str
) -> None:
    with pytest.raises(SettingError, match=message):
        index_events(["x"], props={"st": settings}, transforms=transforms, sourcetype="st", now=NOW)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        index_events(["x"], props={}, transforms={}, sourcetype="st", now=datetime(2020, 1, 1))


def test_catastrophic_breaker_is_bounded() -> None:
    events = index_events(
        ["a" * 40 + "!"],
        props={"st": {"LINE_BREAKER": r"((a+)+)$", "SHOULD_LINEMERGE": "false"}},
        transforms={},
        sourcetype="st",
        now=NOW,
    )
    with pytest.raises(RegexLimitError):
        list(events)


CATASTROPHIC = r"^((a+)+)$"


def test_catastrophic_per_event_regexes_are_reported_not_fatal() -> None:
    """TIME_PREFIX, merge rules, TRANSFORMS and SEDCMD that exceed the PCRE limits count as
    not matching (as in Splunk); the timestamp failure and the transform error are reported."""
    stats = IndexTimeStats()
    props = {
        "st": {
            "TIME_PREFIX": CATASTROPHIC,
            "BREAK_ONLY_BEFORE": CATASTROPHIC,
            "BREAK_ONLY_BEFORE_DATE": "false",
            "MUST_BREAK_AFTER": "b$",
            "TRANSFORMS-x": "slow",
            "SEDCMD-y": f"s/{CATASTROPHIC}/z/",
        }
    }
    transforms = {"slow": {"REGEX": CATASTROPHIC, "DEST_KEY": "queue", "FORMAT": "nullQueue"}}
    raw = "a" * 40 + "!"
    events = list(
        index_events(
            [f"{raw}\nb\n{raw}"],
            props=props,
            transforms=transforms,
            sourcetype="st",
            now=NOW,
            stats=stats,
        )
    )
    assert [e.raw for e in events] == [f"{raw}\nb", raw]
    assert all(e.time_error and "match limit" in e.time_error for e in events)
    assert stats.regex_errors == 4
    assert stats.regex_error_examples[0].startswith("transforms.conf [slow]")


def test_source_stanza_overrides_sourcetype_settings() -> None:
    props = {
        "st": {"SHOULD_LINEMERGE": "false", "LINE_BREAKER": "(;)"},
        "source::.../special/*.log": {"LINE_BREAKER": "(\\|)"},
    }
    events = index_events(
        ["a;b|c"],
        props=props,
        transforms={},
        sourcetype="st",
        source="/var/special/x.log",
        now=NOW,
    )
    assert [e.raw for e in events] == ["a;b", "c"]
    events = index_events(
        ["a;b|c"], props=props, transforms={}, sourcetype="st", source="/var/x.log", now=NOW
    )
    assert [e.raw for e in events] == ["a", "b|c"]

from __future__ import annotations

import io

import pytest
from addonfactory_splunk_conf_parser_lib import TABConfigParser

from engine.conf.parse import ConfFile, ConfRenderError, parse_conf, render_conf

SAMPLE = """\
# top comment
global_key = g

[syslog:app]
SHOULD_LINEMERGE = false
TIME_PREFIX = ^
EXTRACT-user = user=(?<user>\\S+)
  # indented comment
REPORT-kv = kv_pairs, other
EXTRACT-user = user:(?<user>\\w+)

[kv_pairs]
REGEX = (\\w+)=(\\w+) ; not a comment
FORMAT = $1::$2
Mixed_Case = Value # not a comment either

[syslog:app]
TRUNCATE = 20000
"""


def test_stanzas_in_file_order_and_duplicate_stanzas_merge() -> None:
    conf = parse_conf(SAMPLE, path="default/props.conf")
    assert conf.names() == ["default", "syslog:app", "kv_pairs"]
    assert conf.get("syslog:app") == {
        "SHOULD_LINEMERGE": "false",
        "TIME_PREFIX": "^",
        "EXTRACT-user": "user:(?<user>\\w+)",
        "REPORT-kv": "kv_pairs, other",
        "TRUNCATE": "20000",
    }
    assert conf.path == "default/props.conf"


def test_settings_before_any_stanza_belong_to_default() -> None:
    conf = parse_conf(SAMPLE)
    assert conf.get("default") == {"global_key": "g"}
    assert conf.stanzas["default"].line == 2


def test_keys_are_case_sensitive_and_values_keep_semicolons_and_hashes() -> None:
    conf = parse_conf(SAMPLE)
    settings = conf.get("kv_pairs")
    assert settings["REGEX"] == "(\\w+)=(\\w+) ; not a comment"
    assert settings["Mixed_Case"] == "Value # not a comment either"
    assert "mixed_case" not in settings


def test_last_duplicate_key_wins_and_its_line_is_recorded() -> None:
    conf = parse_conf(SAMPLE)
    assert conf.line_of("syslog:app") == 4
    assert conf.line_of("syslog:app", "EXTRACT-user") == 10
    assert conf.line_of("syslog:app", "TRUNCATE") == 18
    assert conf.line_of("missing") == 0


def test_continuation_lines_keep_the_line_break_and_drop_the_backslash() -> None:
    text = "[s]\nsearch = index=main \\\n| stats count \\\nby host\nnext = 1\n"
    conf = parse_conf(text)
    assert conf.get("s") == {"search": "index=main \n| stats count \nby host", "next": "1"}
    assert conf.line_of("s", "next") == 5
    assert conf.line_of("s", "search") == 2


def test_backslash_followed_by_space_is_not_a_continuation() -> None:
    conf = parse_conf("[s]\nDELIM = \\ \nnext = 1\n")
    assert conf.get("s") == {"DELIM": "\\", "next": "1"}


def test_crlf_bom_and_invalid_lines() -> None:
    conf = parse_conf("\ufeff[s]\r\na = 1\r\nnot a setting\r\n= orphan\r\n")
    assert conf.get("s") == {"a": "1"}
    assert conf.invalid_lines == [(3, "not a setting"), (4, "= orphan")]


def test_empty_value_and_empty_stanza_name() -> None:
    conf = parse_conf("[]\naccess = read : [ * ]\nempty =\n")
    assert conf.get("") == {"access": "read : [ * ]", "empty": ""}


def test_get_of_a_missing_stanza_is_empty_and_set_creates_it() -> None:
    conf = ConfFile()
    assert conf.get("nope") == {}
    conf.set("nope", "KEY", "v")
    conf.set("nope", "KEY", "w")
    assert conf.get("nope") == {"KEY": "w"}
    assert "nope" in conf


ROUND_TRIP_VALUES = [
    "plain",
    "",
    "multi\nline\nvalue",
    "ends with backslash\\",
    "inner backslash\\\nline",
    "blank\n\nline",
    "(?<a>x) ; # = [not] a header",
    "unicode é ü 漢",
]


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES)
def test_render_then_parse_round_trips(value: str) -> None:
    conf = ConfFile()
    conf.set("[weird] stanza::*", "KEY-1", value)
    conf.set("other", "a", "b")
    again = parse_conf(render_conf(conf))
    assert again.get("[weird] stanza::*") == {"KEY-1": value}
    assert again.names() == ["[weird] stanza::*", "other"]


def test_parse_render_parse_is_stable_on_a_real_file() -> None:
    first = parse_conf(SAMPLE)
    rendered = render_conf(first)
    second = parse_conf(rendered)
    assert {n: second.get(n) for n in second.names()} == {n: first.get(n) for n in first.names()}
    assert render_conf(second) == rendered


@pytest.mark.parametrize(
    ("stanza", "key", "value"),
    [
        ("s", "k", " leading"),
        ("s", "k", "trailing "),
        ("s", "bad key", "v "),
        ("s", "#k", "v"),
        ("s", "a=b", "v"),
        ("s\nt", "k", "v"),
    ],
)
def test_render_refuses_what_cannot_be_written(stanza: str, key: str, value: str) -> None:
    conf = ConfFile()
    conf.set(stanza, key, value)
    with pytest.raises(ConfRenderError):
        render_conf(conf)


def test_agrees_with_the_addonfactory_parser_where_semantics_coincide() -> None:
    """Cross-check against the field's parser on a file without the constructs it reads
    differently (inline ';', ':' assignments, indented lines, [DEFAULT])."""
    text = (
        "[source::/var/log/*.log]\nsourcetype = app\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n\n"
        "[app]\nEXTRACT-a = (?<a>\\d+)\nKV_MODE = none\nKV_MODE = json\n\n[app]\nTZ = UTC\n"
    )
    theirs = TABConfigParser()
    theirs.read_file(io.StringIO(text))
    ours = parse_conf(text)
    assert {name: ours.get(name) for name in ours.names()} == theirs.item_dict()
    assert ours.names() == theirs.sections()

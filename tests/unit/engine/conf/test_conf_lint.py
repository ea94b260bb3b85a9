from __future__ import annotations

from pathlib import Path

import pytest

from engine.conf.lint import LintFinding, lint_ta
from engine.conf.parse import parse_conf
from engine.conf.ta import TA, load_ta

FIXTURES = Path(__file__).resolve().parents[5] / "shared" / "fixtures" / "splunk-addons"

CLEAN = {
    "app": "[package]\nid = TA-lint\n[id]\nname = TA-lint\nversion = 1.0.0\n",
    "props": (
        "[acme:fw]\n"
        "LINE_BREAKER = ([\\r\\n]+)\n"
        "TIME_PREFIX = ^\n"
        "EXTRACT-user = user=(?<user>\\S+)\n"
        "EXTRACT-in = (?<domain>[^\\\\]+)\\\\ in user\n"
        "REPORT-kv = acme_kv, acme_delims\n"
        "TRANSFORMS-drop = acme_drop\n"
        "FIELDALIAS-src = src_ip AS src, dst_ip ASNEW dest\n"
        "EVAL-action = lower(act)\n"
        "LOOKUP-proto = acme_proto proto_num OUTPUT proto AS transport\n"
        "SEDCMD-mask = s/password=\\S+/password=####/g\n"
        "KV_MODE = none\n"
    ),
    "transforms": (
        "[acme_kv]\nREGEX = (\\w+)=(\\w+)\nFORMAT = $1::$2\n\n"
        '[acme_delims]\nDELIMS = ",", "="\nFIELDS = a, b\n\n'
        "[acme_drop]\nREGEX = DEBUG\nDEST_KEY = queue\nFORMAT = nullQueue\n\n"
        "[acme_proto]\nfilename = acme_proto.csv\n"
    ),
    "eventtypes": '[acme_fw_traffic]\nsearch = sourcetype=acme:fw (action=allowed OR "a|b")\n',
    "tags": "[eventtype=acme_fw_traffic]\nnetwork = enabled\ncommunicate = disabled\n",
}


def make_ta(**overrides: str) -> TA:
    texts = CLEAN | overrides
    confs = {name: parse_conf(text, path=f"default/{name}.conf") for name, text in texts.items()}
    return TA(
        app_id="TA-lint",
        version="1.0.0",
        confs=confs,
        lookups={"acme_proto.csv": b"proto_num,proto\n6,tcp\n"},
    )


def codes(findings: list[LintFinding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[LintFinding], code: str) -> LintFinding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, findings
    return matching[0]


def test_clean_ta_has_no_findings() -> None:
    assert lint_ta(make_ta()) == []


def test_report_pointing_at_missing_transform() -> None:
    props = CLEAN["props"] + "REPORT-more = acme_kv, nowhere\n"
    found = only(lint_ta(make_ta(props=props)), "missing-transform")
    assert (found.file, found.line, found.severity) == ("default/props.conf", 13, "error")
    assert "[nowhere]" in found.message
    assert str(found).startswith("default/props.conf:13: error [missing-transform]")


def test_transforms_pointing_at_missing_transform() -> None:
    props = CLEAN["props"].replace("TRANSFORMS-drop = acme_drop", "TRANSFORMS-drop = gone")
    assert "missing-transform" in codes(lint_ta(make_ta(props=props)))


def test_regex_that_pcre2_rejects() -> None:
    props = CLEAN["props"] + "EXTRACT-bad = (?<x>[a-\n"
    found = only(lint_ta(make_ta(props=props)), "regex-invalid")
    assert found.line == 13


def test_pcre_only_syntax_is_accepted() -> None:
    """Python's re would reject these; Splunk (PCRE2) accepts them."""
    props = CLEAN["props"] + "EXTRACT-pcre = (?<n>\\d++)\\K(?<rest>(?>a|b)*)\n"
    assert lint_ta(make_ta(props=props)) == []


def test_extract_without_named_group() -> None:
    props = CLEAN["props"] + "EXTRACT-anon = user=(\\S+)\n"
    assert codes(lint_ta(make_ta(props=props))) == ["regex-no-named-group"]


def test_line_breaker_without_group() -> None:
    props = CLEAN["props"].replace("LINE_BREAKER = ([\\r\\n]+)", "LINE_BREAKER = [\\r\\n]+")
    found = only(lint_ta(make_ta(props=props)), "regex-no-group")
    assert found.line == 2


def test_report_transform_regex_without_group() -> None:
    transforms = CLEAN["transforms"].replace("REGEX = (\\w+)=(\\w+)", "REGEX = \\w+=\\w+")
    found = lint_ta(make_ta(transforms=transforms))
    assert "regex-no-group" in codes(found)
    assert "format-group-out-of-range" in codes(found)


def test_format_reference_beyond_group_count() -> None:
    transforms = CLEAN["transforms"].replace("FORMAT = $1::$2", "FORMAT = $1::$3")
    found = only(lint_ta(make_ta(transforms=transforms)), "format-group-out-of-range")
    assert "$3" in found.message and "REGEX has 2 group" in found.message


def test_report_transform_without_regex_or_delims() -> None:
    transforms = CLEAN["transforms"] + "[empty]\nFORMAT = a::b\n"
    props = CLEAN["props"] + "REPORT-empty = empty\n"
    assert codes(lint_ta(make_ta(props=props, transforms=transforms))) == ["transform-no-regex"]


def test_index_time_transform_needs_destination_and_format() -> None:
    no_dest = CLEAN["transforms"].replace("DEST_KEY = queue\n", "")
    assert codes(lint_ta(make_ta(transforms=no_dest))) == ["transform-no-destination"]
    no_format = CLEAN["transforms"].replace("FORMAT = nullQueue\n", "")
    found = only(lint_ta(make_ta(transforms=no_format)), "transform-no-format")
    assert found.severity == "warning"


def test_ingest_eval_and_clone_transforms_need_no_destination() -> None:
    transforms = CLEAN["transforms"] + "[ie]\nINGEST_EVAL = size=len(_raw)\n"
    transforms += "[clone]\nREGEX = .\nCLONE_SOURCETYPE = acme:copy\n"
    props = CLEAN["props"] + "TRANSFORMS-more = ie, clone\n"
    assert lint_ta(make_ta(props=props, transforms=transforms)) == []


def test_dotted_and_namespaced_field_names_are_valid() -> None:
    props = CLEAN["props"] + "FIELDALIAS-ok = a AS http.status b AS ns:name\n"
    assert lint_ta(make_ta(props=props)) == []


@pytest.mark.parametrize(
    ("search", "code"),
    [
        ("sourcetype=acme:fw | where x=1", "eventtype-pipe"),
        ("sourcetype=acme:fw [search index=a | fields host]", "eventtype-subsearch"),
    ],
)
def test_eventtype_search_with_pipe_or_subsearch(search: str, code: str) -> None:
    eventtypes = f"[acme_fw_traffic]\nsearch = {search}\n"
    found = lint_ta(make_ta(eventtypes=eventtypes))
    assert code in codes(found)
    assert all(f.line == 2 for f in found if f.code == code)


def test_pipe_inside_quotes_is_fine_but_empty_search_is_not() -> None:
    assert lint_ta(make_ta(eventtypes='[e]\nsearch = msg="a|[b]"\n', tags="")) == []
    assert codes(lint_ta(make_ta(eventtypes="[e]\nsearch =\n", tags=""))) == ["eventtype-no-search"]


def test_empty_lookup_setting() -> None:
    props = CLEAN["props"] + "LOOKUP-empty =\n"
    assert codes(lint_ta(make_ta(props=props))) == ["lookup-syntax"]


def test_lookup_definition_missing() -> None:
    props = CLEAN["props"] + "LOOKUP-nope = no_such_lookup a OUTPUT b\n"
    assert codes(lint_ta(make_ta(props=props))) == ["lookup-missing-definition"]


def test_lookup_csv_file_missing() -> None:
    ta = make_ta()
    ta.lookups.clear()
    found = only(lint_ta(ta), "lookup-file-missing")
    assert (found.file, found.line) == ("default/transforms.conf", 15)


def test_lookup_pointing_at_a_transform_that_is_not_a_lookup() -> None:
    props = CLEAN["props"] + "LOOKUP-wrong = acme_kv a OUTPUT b\n"
    assert codes(lint_ta(make_ta(props=props))) == ["lookup-not-a-definition"]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("EXTRACT-u = (?<_user>\\S+)", "field-name-unusual"),
        ("FIELDALIAS-x = a AS 9lives", "field-name-unusual"),
        ("FIELDALIAS-z = a AS b-c", "field-name-unusual"),
        ("FIELDALIAS-y = a AS b c", "fieldalias-syntax"),
        ("EVAL-bad name = 1", "field-name-invalid"),
        ("LOOKUP-x = acme_proto proto_num OUTPUT proto AS trans=port", "field-name-invalid"),
    ],
)
def test_field_names(line: str, code: str) -> None:
    assert codes(lint_ta(make_ta(props=CLEAN["props"] + line + "\n"))) == [code]


def test_format_and_fields_names_in_transforms() -> None:
    transforms = CLEAN["transforms"] + "[named]\nREGEX = (\\w+)\nFORMAT = bad-name::$1\n"
    assert codes(lint_ta(make_ta(transforms=transforms))) == ["field-name-unusual"]
    transforms = CLEAN["transforms"].replace("FIELDS = a, b", 'FIELDS = a, "b c"')
    assert codes(lint_ta(make_ta(transforms=transforms))) == ["field-name-invalid"]


def test_props_default_stanza() -> None:
    props = "[default]\nTZ = UTC\n" + CLEAN["props"]
    found = only(lint_ta(make_ta(props=props)), "props-default-stanza")
    assert (found.line, found.severity) == (1, "error")


def test_kv_mode_json_with_indexed_extractions_json() -> None:
    props = CLEAN["props"].replace("KV_MODE = none", "KV_MODE = json\nINDEXED_EXTRACTIONS = JSON")
    assert codes(lint_ta(make_ta(props=props))) == ["kv-mode-double-json"]


@pytest.mark.parametrize("name", ["acme::fw", "acme/fw", "acme<fw>", "acme#fw", "a[b]"])
def test_sourcetype_names_with_reserved_characters(name: str) -> None:
    props = CLEAN["props"] + f"\n[{name}]\nKV_MODE = auto\n"
    found = only(lint_ta(make_ta(props=props)), "sourcetype-name")
    assert found.severity == "warning"


def test_special_stanzas_are_not_sourcetypes_but_their_sourcetype_value_is() -> None:
    props = CLEAN["props"] + "\n[source::/var/log/acme/*.log]\nsourcetype = acme::fw\n"
    found = only(lint_ta(make_ta(props=props)), "sourcetype-name")
    assert found.line == 15


def test_sedcmd_syntax_and_regex() -> None:
    props = CLEAN["props"] + "SEDCMD-x = s/a/b\n"
    assert codes(lint_ta(make_ta(props=props))) == ["sedcmd-syntax"]
    props = CLEAN["props"] + "SEDCMD-y = s/(unclosed/b/g\n"
    assert codes(lint_ta(make_ta(props=props))) == ["regex-invalid"]


def test_tags_values_stanzas_and_unknown_eventtypes() -> None:
    tags = "[eventtype=acme_fw_traffic]\nnetwork = yes\n[noequals]\nx = enabled\n[eventtype=zz]\n"
    expected = ["tag-value", "tag-stanza", "tag-unknown-eventtype"]
    assert codes(lint_ta(make_ta(tags=tags))) == expected


def test_invalid_lines_and_app_identity() -> None:
    ta = make_ta(props=CLEAN["props"] + "this is not a setting\n")
    ta.version = "1.0"
    found = lint_ta(ta)
    assert codes(found) == ["app-version", "conf-invalid-line"]
    assert found[1].line == 13
    ta.version = "1.0.0"
    ta.app_id = "9-lives"
    found = only(lint_ta(ta), "app-id")
    assert (found.file, found.line) == ("default/app.conf", 2)
    ta.confs.pop("app")
    assert "app-conf-missing" in codes(lint_ta(ta))


def test_splunk_engineers_fixture_add_ons_lint_clean_of_errors() -> None:
    if not FIXTURES.is_dir():
        pytest.skip("shared fixtures not present")
    for name in ("TA_fiction", "TA_fiction_indextime", "TA_cim_addon"):
        errors = [f for f in lint_ta(load_ta(FIXTURES / name)) if f.severity == "error"]
        assert errors == [], name


@pytest.mark.parametrize("name", ["syslog", "access_combined", "splunkd"])
def test_redefining_a_builtin_sourcetype_is_a_warning(name: str) -> None:
    props = CLEAN["props"] + f"\n[{name}]\nEXTRACT-x = (?<x>\\d+)\n"
    found = only(lint_ta(make_ta(props=props)), "sourcetype-builtin")
    assert (found.severity, found.line) == ("warning", 14)


def test_findings_in_local_overrides_point_at_the_local_file(tmp_path: Path) -> None:
    for layer, text in (("default", CLEAN["props"]), ("local", "[acme:fw]\nREPORT-kv = gone\n")):
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "props.conf").write_text(text)
    for name in ("app", "transforms", "eventtypes", "tags"):
        (tmp_path / "default" / f"{name}.conf").write_text(CLEAN[name])
    (tmp_path / "lookups").mkdir()
    (tmp_path / "lookups" / "acme_proto.csv").write_text("proto_num,proto\n")
    found = lint_ta(load_ta(tmp_path))
    assert [(f.file, f.line, f.code) for f in found] == [
        ("local/props.conf", 2, "missing-transform")
    ]


@pytest.mark.parametrize(
    ("key", "value", "empty"),
    [
        ("LINE_BREAKER", "()", True),
        ("LINE_BREAKER", "([\\r\\n]*)", True),
        ("EVENT_BREAKER", "(\\s*)", True),
        ("LINE_BREAKER", "([\\r\\n]*)(?=\\d)", True),  # before every digit
        ("LINE_BREAKER", "(x)|()", True),
        ("LINE_BREAKER", "([\\r\\n]+)", False),
        ("LINE_BREAKER", "(^$|[\\r\\n]+[\\r\\n]+)", False),  # empty only for an empty chunk
        ("LINE_BREAKER", "()(?=\\d{4}-\\d\\d-\\d\\d)", False),  # spec rule 3: zero-length break
        ("LINE_BREAKER", "end(\\n)begin|begin3", False),
    ],
)
def test_an_event_boundary_that_can_be_empty_is_an_error(key: str, value: str, empty: bool) -> None:
    props = CLEAN["props"].replace("LINE_BREAKER = ([\\r\\n]+)", f"{key} = {value}")
    found = [f for f in lint_ta(make_ta(props=props)) if f.code == "line-breaker-empty"]
    if not empty:
        assert found == []
        return
    assert [(f.severity, f.line) for f in found] == [("error", 2)]
    assert f"[acme:fw] {key}: the event boundary can be empty" in found[0].message


def test_a_huge_invalid_regex_is_quoted_by_its_head_and_length() -> None:
    pattern = "(?<big>" + "ab" * 500_000
    props = CLEAN["props"] + f"EXTRACT-big = {pattern}\n"
    found = only(lint_ta(make_ta(props=props)), "regex-invalid")
    assert len(found.message) < 600
    assert f"... ({len(pattern)} characters): missing closing parenthesis" in found.message

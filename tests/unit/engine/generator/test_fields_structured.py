"""JSON, delimited and key=value families."""

from __future__ import annotations

from engine.generator.fields import infer_fields
from engine.generator.fields.builder import PlanBuilder
from engine.generator.fields.kv import plan_kv
from engine.generator.model import FormatGuess
from engine.regex import compile_regex
from tests.unit.engine.generator.conftest import run_plan


def test_json_uses_kv_mode_json_with_splunk_names() -> None:
    events = ['{"user": {"name": "bob"}, "tags": ["a", "b"], "n": 3, "ok": true}']
    plan = infer_fields(events, FormatGuess(kind="ndjson", confidence=1.0))
    assert plan.props["KV_MODE"] == "json"
    examples = {f.name: f.examples for f in plan.fields}
    assert examples["user.name"] == ("bob",)
    assert examples["tags{}"] == ("a", "b")
    assert examples["ok"] == ("true",)


ZEEK = [
    "#separator \\x09",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tservice",
    "1521911741.356590\tCT1orU31\t10.128.0.233\t33692\t-",
]


def test_zeek_tsv_columns_from_fields_header() -> None:
    plan = infer_fields(ZEEK, FormatGuess(kind="zeek_tsv", confidence=1.0))
    stanza = plan.transforms[plan.props["REPORT-columns"]]
    match = compile_regex(stanza["REGEX"]).search(ZEEK[2])
    assert match is not None
    pairs = dict(part.split("::") for part in stanza["FORMAT"].split())
    values = {name: match.group(int(ref[1:])) for name, ref in pairs.items()}
    assert values["id.orig_h"] == "10.128.0.233"
    assert values["ts"] == "1521911741.356590"
    assert compile_regex(stanza["REGEX"]).search(ZEEK[1]) is None


def test_csv_with_quotes_and_cleaned_header() -> None:
    events = ['1,bob,"hello, world"', "2,amy,plain"]
    guess = FormatGuess(kind="csv", confidence=1.0, header=("id", "user name", "msg"))
    plan = infer_fields(events, guess)
    stanza = plan.transforms[plan.props["REPORT-columns"]]
    assert "user_name::" in stanza["FORMAT"]
    match = compile_regex(stanza["REGEX"]).search(events[0])
    assert match is not None
    assert "hello, world" in match.groups()


def test_space_separated_pairs_use_kv_mode_auto() -> None:
    events = ['action=success user=admin msg="a b"', "action=failure user=root msg=x"]
    plan = infer_fields(events, FormatGuess(kind="kv", confidence=1.0))
    assert plan.props["KV_MODE"] == "auto"
    assert {"action", "user", "msg"} <= {f.name for f in plan.fields}


def test_semicolon_pairs_get_a_transform() -> None:
    events = ["action=success;user=admin;msg=a b;", "action=failure;user=root;msg=x;"]
    plan = infer_fields(events, FormatGuess(kind="kv", confidence=1.0))
    assert plan.props["KV_MODE"] == "none"
    stanza = plan.transforms[plan.props["REPORT-assignments"]]
    found = {
        m.group(1): m.group(2) or m.group(3)
        for m in compile_regex(stanza["REGEX"]).finditer(events[0])
    }
    assert found == {"action": "success", "user": "admin", "msg": "a b"}


def test_underscore_json_keys_get_a_visible_extraction() -> None:
    events = ['{"_path":"ftp","_write_ts":"2018-03-24T17:15:25Z","n":1}']
    plan = infer_fields(events, FormatGuess(kind="ndjson", confidence=1.0))
    match = compile_regex(plan.props["EXTRACT-json_path"]).search(events[0])
    assert match is not None
    assert match.group("path") == "ftp"
    ts = compile_regex(plan.props["EXTRACT-json_write_ts"]).search(events[0])
    assert ts is not None
    assert ts.group("write_ts") == "2018-03-24T17:15:25Z"


def test_colon_separated_pairs_get_a_transform() -> None:
    events = [
        "# Query_time: 0.000211  Lock_time: 0.000082 Rows_sent: 1  Rows_examined: 0",
        "# Query_time: 1.5  Lock_time: 0.1 Rows_sent: 10  Rows_examined: 2000",
    ]
    plan = infer_fields(events, FormatGuess(kind="multiline", confidence=1.0))
    stanza = plan.transforms[plan.props["REPORT-colon_pairs"]]
    found = {
        m.group(1): m.group(2) or m.group(3)
        for m in compile_regex(stanza["REGEX"]).finditer(events[1])
    }
    assert found == {
        "Query_time": "1.5",
        "Lock_time": "0.1",
        "Rows_sent": "10",
        "Rows_examined": "2000",
    }


def test_knowledge_extracts_are_kept_only_when_they_work() -> None:
    events = ['{"a": 1}']
    knowledge = [
        '[acme:app]\nEXTRACT-a_value = "a":\\s*(?<a_value>\\d+)\n'
        "EXTRACT-broken = (?<x>[a-\n"
        "EXTRACT-other = ^never (?<y>\\w+)\n"
    ]
    plan = infer_fields(events, FormatGuess(kind="json", confidence=1.0), knowledge=knowledge)
    assert plan.props["EXTRACT-kb_a_value"] == '"a":\\s*(?<a_value>\\d+)'
    assert not any(key in plan.props for key in ("EXTRACT-kb_broken", "EXTRACT-kb_other"))
    assert plan.props["KV_MODE"] == "json"


def test_spaced_pairs_after_a_300k_character_word() -> None:
    """The spaced-pairs probe once rescanned the rest of a word from each of its characters
    (quadratic: minutes on one 300K-character line); it reads each word once now."""
    events = ["x" * 300_000 + " sudo: TTY=pts/0 ; PWD=/home/bob ; COMMAND=/bin/cat /var/log/y"]
    builder = PlanBuilder(events)
    plan_kv(builder)
    stanza = builder.transforms[builder.props["REPORT-assignments"]]
    found = {
        m.group(1): m.group(2) or m.group(3)
        for m in compile_regex(stanza["REGEX"]).finditer(events[0])
    }
    assert found == {"TTY": "pts/0", "PWD": "/home/bob", "COMMAND": "/bin/cat /var/log/y"}


def test_tables_nobody_called_delimited_get_columns_named_by_role() -> None:
    events = [
        '"2020-08-26 20:32:46","ann","192.168.1.1","51000","81.2.69.144","443","Web"',
        '"2020-08-26 20:32:47","bob","192.168.1.2","51001","81.2.69.145","80","Mail"',
    ]
    plan = infer_fields(events, FormatGuess(kind="unstructured", confidence=1.0))
    stanza = plan.transforms[plan.props["REPORT-columns"]]
    names = [part.split("::")[0] for part in stanza["FORMAT"].split()][::2]
    assert names == ["column_1", "column_2", "src", "src_port", "dest", "dest_port", "column_7"]
    match = compile_regex(stanza["REGEX"]).search(events[1])
    assert match is not None
    assert "81.2.69.145" in match.groups()


def test_a_header_row_with_a_hash_and_a_syslog_header_before_rows() -> None:
    events = ["#retries|time|username|act", "45|2024-03-10T18:28:06|ann|modified", "9|t|bo|read"]
    plan = infer_fields(events, FormatGuess(kind="unstructured", confidence=1.0))
    examples = {f.name: f.examples for f in plan.fields}
    assert examples["username"] == ("ann", "bo")
    syslog = [
        "Nov 30 16:44:36 fw-1 1,2018/11/30 16:44:36,10.0.0.1,10.0.0.2,tcp,allow",
        "Nov 30 16:44:37 fw-1 1,2018/11/30 16:44:37,10.0.0.3,10.0.0.4,udp,deny",
    ]
    plan = infer_fields(syslog, FormatGuess(kind="syslog3164", confidence=1.0))
    examples = {f.name: f.examples for f in plan.fields}
    assert examples["syslog_host"] == ("fw-1",)
    assert examples["src"] == ("10.0.0.1", "10.0.0.3")
    assert examples["transport"] == ("tcp", "udp")


def test_pairs_inside_a_json_string_are_read_from_the_raw_text() -> None:
    events = [
        '{"host":{"name":"fw"},"message":"DROP: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 SPT=1"}',
        '{"host":{"name":"fw"},"message":"DROP: IN=eth1 OUT= SRC=10.0.0.3 DST=10.0.0.4 SPT=2"}',
    ]
    plan = infer_fields(events, FormatGuess(kind="ndjson", confidence=1.0))
    stanza = plan.transforms[plan.props["REPORT-embedded_pairs"]]
    pairs = dict(m.groups() for m in compile_regex(stanza["REGEX"]).finditer(events[1]))
    assert pairs == {"IN": "eth1", "SRC": "10.0.0.3", "DST": "10.0.0.4", "SPT": "2"}
    assert {f.name for f in plan.fields} >= {"SRC", "DST", "message", "host.name"}


def test_a_json_document_written_as_a_string_is_read_by_spath() -> None:
    events = ['{"labels":{"payload":"{\\"kind\\":\\"NODE_POOL\\",\\"n\\":{\\"v\\":2}}"},"x":1}']
    plan = infer_fields(events, FormatGuess(kind="ndjson", confidence=1.0))
    assert plan.props["EVAL-labels.payload.kind"] == "spath('labels.payload', \"kind\")"
    fields = run_plan(plan, events[0])
    assert fields["labels.payload.kind"] == ["NODE_POOL"]
    assert fields["labels.payload.n.v"] == ["2"]

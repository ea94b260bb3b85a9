"""The emitted props/transforms extract the expected values when the sandbox applies them."""

from __future__ import annotations

from engine.generator.fields import infer_fields
from engine.generator.model import FormatGuess
from tests.unit.engine.generator.conftest import run_plan


def _has(fields: dict[str, list[str]], value: str) -> bool:
    return any(value in values for values in fields.values())


APP_LOG = [
    "2015-10-18 18:01:47,978 INFO [main] org.app.Master: Created job_1445_0020 in 35 ms",
    "2015-10-18 18:01:48,978 INFO [main] org.app.Master: Created job_1445_0021 in 12 ms",
    "2015-10-18 18:01:49,978 WARN [IPC Server on 62260] org.ipc.Server: Lost peer 10.1.2.3:50010",
    "2015-10-18 18:01:50,978 WARN [IPC Server on 62260] org.ipc.Server: Lost peer 10.1.2.4:50010",
    "2015-10-18 18:01:51,978 ERROR [main] org.app.Master: retry=3 path=/tmp/x failed",
]


def test_application_log_values_come_out_of_the_sandbox() -> None:
    plan = infer_fields(APP_LOG[:4], FormatGuess(kind="unstructured", confidence=1.0))
    fields = run_plan(
        plan, "2015-10-18 18:02:00,000 INFO [main] org.app.Master: Created job_9_1 in 7 ms"
    )
    assert fields["level"] == ["INFO"]
    assert fields["thread"] == ["main"]
    assert fields["component"] == ["org.app.Master"]
    assert _has(fields, "job_9_1")
    assert _has(fields, "7")
    unseen = run_plan(plan, APP_LOG[4])
    assert unseen["level"] == ["ERROR"]
    assert _has(unseen, "/tmp/x")
    peer = run_plan(plan, APP_LOG[3])
    assert _has(peer, "10.1.2.4:50010")


def test_zeek_and_kv_plans_run_in_the_sandbox() -> None:
    zeek = [
        "#separator \\x09",
        "#fields\tts\tuid\tid.orig_h",
        "1521911741.356590\tCT1\t10.128.0.233",
    ]
    plan = infer_fields(zeek, FormatGuess(kind="zeek_tsv", confidence=1.0))
    fields = run_plan(plan, zeek[2])
    assert fields["id.orig_h"] == ["10.128.0.233"]
    assert fields["uid"] == ["CT1"]
    kv = ["action=success;user=admin;msg=a b;", "action=failure;user=root;msg=x;"]
    plan = infer_fields(kv, FormatGuess(kind="kv", confidence=1.0))
    fields = run_plan(plan, kv[0])
    assert fields["user"] == ["admin"]
    assert fields["msg"] == ["a b"]


def test_csv_header_row_is_not_an_event_with_fields() -> None:
    events = ["id,user name,msg", '1,bob,"hello, world"']
    plan = infer_fields(
        events, FormatGuess(kind="csv", confidence=1.0, header=("id", "user name", "msg"))
    )
    assert run_plan(plan, events[0]) == {}
    assert run_plan(plan, events[1]) == {"id": ["1"], "user_name": ["bob"], "msg": ["hello, world"]}


def test_cef_and_key_value_records_in_the_sandbox() -> None:
    cef = [
        "CEF:0|Acme|Gate|1.0|100|Login failed|5|"
        "src=10.0.0.1 msg=bad password cs1Label=Policy cs1=Deny"
    ]
    fields = run_plan(infer_fields(cef, FormatGuess(kind="cef", confidence=1.0)), cef[0])
    assert fields["vendor"] == ["Acme"]
    assert fields["msg"] == ["bad password"]
    assert fields["policy"] == ["Deny"]
    records = [
        "2021-12-31 15:15:30 action=success user=admin",
        "2021-12-31 15:16:30 action=failure user=bob",
    ]
    plan = infer_fields(records, FormatGuess(kind="kv", confidence=1.0))
    assert not any(key.startswith("EXTRACT-t") for key in plan.props)
    fields = run_plan(plan, records[1])
    assert fields["action"] == ["failure"]
    assert fields["user"] == ["bob"]


def test_semicolon_spaced_pairs_keep_values_with_spaces() -> None:
    events = [
        "Feb 23 00:08:48 web01 sudo: alice : TTY=pts/1 ; PWD=/home/a ; USER=root ; "
        "COMMAND=/bin/cat /var/log/secure",
        "Feb 23 00:09:48 web01 sshd[7483]: Accepted password for alice from 10.0.0.1 port 22 ssh2",
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog3164", confidence=1.0))
    fields = run_plan(plan, events[0])
    assert "/bin/cat /var/log/secure" in fields["COMMAND"]
    assert "pts/1" in fields["TTY"]


def test_json_after_a_syslog_header() -> None:
    events = [
        '<14>Jan  1 10:00:00 host app[12]: {"user":"bob","n":3,"ok":true}',
        '<14>Jan  1 10:00:01 host app[12]: {"user":"amy","n":4,"ok":false}',
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog3164", confidence=1.0))
    assert not any(key.startswith("EXTRACT-t") for key in plan.props)
    fields = run_plan(plan, events[1])
    assert (fields["user"], fields["n"], fields["ok"]) == (["amy"], ["4"], ["false"])
    assert fields["process"] == ["app"]


def test_templates_match_the_first_line_of_multi_line_events() -> None:
    events = [
        "2020-01-01 10:00:00 ERROR [main] a.B: Failed job 12\njava.lang.IllegalStateException: x\n"
        "\tat a.B.run(B.java:1)",
        "2020-01-01 10:00:01 ERROR [main] a.B: Failed job 13\njava.lang.IllegalStateException: y",
        "2020-01-01 10:00:02 ERROR [main] a.B: Failed job 14\njava.lang.IllegalStateException: z",
    ]
    plan = infer_fields(events, FormatGuess(kind="multiline", confidence=1.0))
    fields = run_plan(plan, events[0].replace("12", "99"))
    assert fields["job"] == ["99"]
    assert fields["exception"] == ["java.lang.IllegalStateException"]

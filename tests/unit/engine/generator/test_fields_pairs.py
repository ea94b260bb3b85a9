"""Pair syntaxes learned from the samples: assignment, separator, quoting, multi-word keys."""

from __future__ import annotations

import pytest

from engine.generator.fields import infer_fields
from engine.generator.fields.kv import PairStyle, pair_style
from engine.generator.model import FormatGuess
from tests.unit.engine.generator.conftest import learned_fields, run_plan


@pytest.mark.parametrize(
    ("events", "style"),
    [
        (["a=>1 | b=>x y | c=>3", "a=>2 | b=>z | c=>4"], PairStyle("=>", "|", words=False)),
        (["t=1 k='a b' n='c'", "t=2 k='d' n='e f'"], PairStyle("=", "", words=False)),
        (
            ["Src Host: 10.0.0.1,Dst Port: 80,Act: ok", "Src Host: 10.0.0.2,Dst Port: 81,Act: no"],
            PairStyle(":", ",", words=True),
        ),
        (
            ["ok : reason = bad pw : server = 10.0.0.1 : user IP = 10.0.0.9"],
            PairStyle("=", ":", words=True),
        ),
        (['k1:"v"\tk2:"w x"\tk3:"7"', 'k1:"u"\tk2:"y"\tk3:"8"'], PairStyle(":", "\t", words=False)),
        (["plain words only", "and more words"], None),
    ],
)
def test_pair_styles_are_learned(events: list[str], style: PairStyle | None) -> None:
    assert pair_style(events) == style


def test_unusual_pairs_come_out_of_the_sandbox_with_their_roles() -> None:
    events = [
        "2025-05-17 07:03:31 act=>allowed | source_ip=>10.1.1.1 | username=>ann | msg=>a b",
        "2025-05-17 07:03:32 act=>blocked | source_ip=>10.1.1.2 | username=>bob | msg=>c",
    ]
    plan = infer_fields(events, FormatGuess(kind="kv", confidence=1.0))
    fields = run_plan(plan, "2025-05-17 07:04:00 act=>blocked | source_ip=>10.9.9.9 | username=>cy")
    assert (fields["act"], fields["source_ip"], fields["username"]) == (
        ["blocked"],
        ["10.9.9.9"],
        ["cy"],
    )
    assert run_plan(plan, events[0])["msg"] == ["a b"]


def test_single_quoted_values_lose_their_quotes() -> None:
    events = ["1700000000 severity='high' reason='bad credentials' n=3"] * 2
    plan = infer_fields(events, FormatGuess(kind="kv", confidence=1.0))
    fields = run_plan(plan, "1700000001 severity='low' reason='queue is full' n=4")
    assert (fields["severity"], fields["reason"], fields["n"]) == (
        ["low"],
        ["queue is full"],
        ["4"],
    )


def test_multi_word_keys_after_a_syslog_header() -> None:
    events = [
        "<166>May 01 2026 09:24:32Z  %FTD-6-113005: AAA user authentication Rejected : "
        "reason = Invalid password : server = 10.0.1.20 : user = ann : user IP = 10.0.100.30",
        "<165>1 2021-11-16T05:14:15-07:00 192.0.2.1 proc 8710 - - host-1,Local Host IP: "
        "192.168.1.113,Local Port: 80,Remote Host IP: 192.168.1.1,Remote Port: 33424",
    ]
    for event in events:
        plan = infer_fields([event], FormatGuess(kind="syslog3164", confidence=1.0))
        fields = run_plan(plan, event)
        if "AAA" in event:
            assert fields["server"] == ["10.0.1.20"]
            assert fields["user_IP"] == ["10.0.100.30"]
            assert fields["reason"] == ["Invalid password"]
        else:
            assert fields["Remote_Host_IP"] == ["192.168.1.1"]
            assert fields["Local_Port"] == ["80"]


def test_pairs_in_free_text_leave_splunks_own_pairs_on() -> None:
    events = [
        "Feb 22 11:47:05 host groupadd[6991]: new group: name=apache, GID=48",
        "Feb 22 11:47:05 host sudo: ann : TTY=pts/1 ; PWD=/home/ann ; USER=root ; COMMAND=/bin/ls",
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog3164", confidence=1.0))
    assert plan.props["KV_MODE"] == "auto"
    assert run_plan(plan, events[0])["name"] == ["apache"]
    assert run_plan(plan, events[1])["COMMAND"] == ["/bin/ls"]


def test_symbol_keys_and_escaped_quotes() -> None:
    events = [
        'x {:took_in_nanos=>10477, :took_in_millis=>0, :event=>"{\\"a\\":1}"}',
        'x {:took_in_nanos=>9171, :took_in_millis=>1, :event=>"{\\"a\\":2}"}',
    ]
    assert pair_style(events) == PairStyle("=>", ",", words=False)
    plan = infer_fields(events, FormatGuess(kind="unstructured", confidence=1.0))
    fields = run_plan(plan, events[0])
    assert (fields["took_in_nanos"], fields["took_in_millis"]) == (["10477"], ["0"])
    assert fields["event"] == ['{\\"a\\":1}']


def test_text_cut_at_commas_inside_brackets_is_no_table() -> None:
    events = [
        "run f(a, b) then g(c, d) and h(e, f) done 1",
        "run f(a, x) then g(y, d) and h(e, z) done 2",
    ]
    plan = infer_fields(events, FormatGuess(kind="unstructured", confidence=1.0))
    assert "REPORT-columns" not in plan.props


def test_angle_bracketed_addresses_lose_their_brackets() -> None:
    events = [
        "NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 denied; from=<a@b.org> to=<c@d.org> x=1",
        "4F9D: to=<x@y.org>, relay=mx.example.com[1.2.3.4]:25, delay=0.1, status=sent (250 OK)",
    ]
    for event in events:
        plan = infer_fields([event, event], FormatGuess(kind="syslog3164", confidence=1.0))
        fields = run_plan(plan, event)
        assert fields["to"][0] in ("c@d.org", "x@y.org")
    assert run_plan(plan, events[1])["status"] == ["sent (250 OK)"]


def test_pairs_on_crlf_lines_end_before_the_carriage_return() -> None:
    record = "2024-10-16T11:25:4{0} summary\r\n\tsize:\t36{0}MB\r\n\tqtype:\tSRV\r\n\tport:\t12{0}"
    fields = learned_fields(
        [record.format(i) for i in range(4)],
        "multiline",
        "2024-10-16T11:26:00 summary\r\n\tqtype:\tMX\r\n\tport:\t99",
    )
    assert (fields["qtype"], fields["port"]) == (["MX"], ["99"])


def test_segments_of_a_pair_record_that_hold_no_pair_are_values() -> None:
    record = "host-{0},Local Port: 8{0},Remote Host IP: 10.0.0.{0},TCP,Inbound,Rule: Block {0}"
    training = [record.format(i) for i in range(3)]
    fields = learned_fields(
        training, "unstructured", "host-9,Local Port: 443,UDP,Outbound,Remote Host IP: 1"
    )
    assert fields["segment"] == ["UDP", "Outbound"]
    assert fields["Local_Port"] == ["443"]

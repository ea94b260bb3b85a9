"""Template-independent extractions: typed tokens and context words."""

from __future__ import annotations

from engine.generator.fields.builder import PlanBuilder
from engine.generator.fields.context import FEW_EVENTS, RULES, plan_context
from engine.regex import compile_regex

EVENTS = [
    "connection from 10.0.0.1 port 2222 for user alice",
    "loaded /etc/app/conf.yml with 12 entries at 0x1f00 (size 3.5)",
]


def _values(builder: PlanBuilder, field: str, event: str) -> list[str]:
    out: list[str] = []
    for stanza in builder.props["REPORT-context"].split(", "):
        settings = builder.transforms[stanza]
        if settings["FORMAT"].startswith(f"{field}::"):
            regex = compile_regex(settings["REGEX"])
            out.extend(m.group(1) or "" for m in regex.finditer(event))
    return out


def test_typed_tokens_and_context_words_are_extracted() -> None:
    builder = PlanBuilder(EVENTS)
    plan_context(builder)
    assert _values(builder, "src", EVENTS[0]) == ["10.0.0.1"]
    assert _values(builder, "port", EVENTS[0]) == ["2222"]
    assert _values(builder, "user", EVENTS[0]) == ["alice"]
    assert _values(builder, "ip", EVENTS[0]) == ["10.0.0.1"]
    assert _values(builder, "path", EVENTS[1]) == ["/etc/app/conf.yml"]
    assert _values(builder, "hex", EVENTS[1]) == ["0x1f00"]
    assert _values(builder, "number", EVENTS[1]) == ["12", "3.5"]
    multi = {name for name, s in builder.transforms.items() if s.get("MV_ADD") == "true"}
    assert {name for name in builder.transforms if name.startswith("token_")} <= multi
    assert {"context_src", "context_user"}.isdisjoint(multi)  # CIM roles take one value


def test_context_rules_that_match_nothing_are_left_out_typed_tokens_stay() -> None:
    builder = PlanBuilder([f"plain words only here {i}" for i in range(FEW_EVENTS)])
    plan_context(builder)
    stanzas = builder.props["REPORT-context"].split(", ")
    assert stanzas == [
        "token_ip",
        "token_ipv6",
        "token_address",
        "token_bracketed",
        "token_url",
        "token_path",
        "token_hex",
        "token_number",
    ]


def test_sshd_context_words_give_user_method_and_outcome() -> None:
    events = ["Failed password for invalid user admin from 10.0.0.9 port 22 ssh2"]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "user", events[0]) == ["admin", "admin"]
    assert _values(builder, "auth_method", events[0]) == ["password"]
    assert _values(builder, "outcome", events[0]) == ["Failed", "invalid"]
    assert _values(builder, "src", events[0]) == ["10.0.0.9"]


def test_host_port_addresses_and_bare_hex_without_timestamp_noise() -> None:
    events = ["# Time: 2019-01-01T00:00:00Z New: msra-sa-41:9000 iar 003a9260 id 1546300800"]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "address", events[0]) == ["msra-sa-41:9000"]
    assert _values(builder, "hex", events[0]) == ["003a9260"]


def test_ipv6_addresses_but_not_times() -> None:
    events = ["client 2a02:cf40:add:4002::6fc6, ::1 at 12:01:01 node 0:0:0:0:2181"]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "ip", events[0]) == ["2a02:cf40:add:4002::6fc6", "::1"]


def test_java_exception_classes() -> None:
    events = [
        "ERROR x failed\njava.lang.IllegalStateException: boom\n\tat com.acme.A.run(A.java:12)",
        "Caused by: org.acme.io.StorageError: disk",
    ]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "exception", events[0]) == ["java.lang.IllegalStateException"]
    assert _values(builder, "exception", events[1]) == ["org.acme.io.StorageError"]


def test_a_long_dotted_run_neither_stops_inference_nor_hides_a_later_exception() -> None:
    """10K characters of ``a.a.a.`` once exhausted the PCRE limits (every dot restarted the
    package scan); now the scan starts once per dotted run."""
    events = ["a." * 5_000 + " then java.lang.IllegalStateException: boom", "plain line"]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "exception", events[0]) == ["java.lang.IllegalStateException"]


def test_a_small_sample_keeps_every_rule_its_lines_do_not_show() -> None:
    builder = PlanBuilder(["plain words only here"])
    plan_context(builder)
    assert builder.props["REPORT-context"].split(", ") == [rule.stanza for rule in RULES]


def test_flows_written_with_arrows_and_bytes_either_side() -> None:
    events = [
        "RT_FLOW_SESSION_CREATE: session created 10.0.0.1/51234->192.0.2.7/80 junos-http",
        "IP 10.0.0.2.40000 > 192.0.2.8.53: UDP, length 40, bytes 1234",
    ]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "src", events[0]) == ["10.0.0.1"]
    regex = compile_regex(builder.transforms["context_flow"]["REGEX"])
    match = regex.search(events[1])
    assert match is not None
    assert match.groups() == ("10.0.0.2", "40000", "192.0.2.8", "53")
    bytes_rule = compile_regex(builder.transforms["context_bytes"]["REGEX"]).search(events[1])
    assert bytes_rule is not None
    assert bytes_rule.group(2) == "1234"


def test_host_names_anywhere_but_not_user_names_or_files() -> None:
    events = ["Sent login (host cache-09.acme.test) by ann.smith reading main.c"]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "domain_name", events[0]) == ["cache-09.acme.test"]


def test_parts_of_qualified_names_source_lines_flags_and_noted_addresses() -> None:
    events = [
        "IN=eth0 SRC=10.0.0.1 DST=10.0.0.2 TTL=64 ID=0 DF PROTO=TCP SPT=22 RST URGP=0",
        "pam_unix(sudo-i:session): session opened by userauth3(uid=0)",
        "[PA]dtl_net.c:4102 sent to 198.51.100.14[...It occurred 3 times.!]",
        "DHCPACK on 10.1.2.3 to 04:7b:cb:a1:d2:93 (CLIENTHOST) via eth1",
        "- pcs-name - [10.9.9.9] username(REALM)[ROLE] - Primary authentication successful",
    ]
    builder = PlanBuilder(events)
    plan_context(builder)
    assert _values(builder, "flag", events[0]) == ["DF", "RST"]
    assert _values(builder, "qualified", events[1]) == ["pam_unix", "userauth3"]
    assert _values(builder, "qualifier", events[1]) == ["sudo-i:session"]
    assert _values(builder, "source_file", events[2]) == ["dtl_net.c"]
    assert "198.51.100.14" in _values(builder, "ip", events[2])
    assert _values(builder, "parenthesized", events[3]) == ["CLIENTHOST"]
    assert _values(builder, "ip", events[3]) == ["10.1.2.3"]  # a MAC is no IPv6 address
    assert _values(builder, "qualified", events[4]) == ["username"]
    assert _values(builder, "qualifier", events[4]) == ["REALM", "ROLE"]
    assert _values(builder, "flag", "action TCP from A") == []
    assert _values(builder, "quantity", "done after 3m1s, took 1h2m3.5s") == ["3m1s", "1h2m3.5s"]

"""Names by role: keys, headers and JSON paths to CIM fields, checked against their values."""

from __future__ import annotations

import pytest

from engine.generator.fields.roles import column_role, role, words_of
from engine.generator.fields.tokens import kind


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("sourceAddress", ["source", "address"]),
        ("srcip", ["src", "ip"]),
        ("dport", ["d", "port"]),
        ("srcintf", ["src", "intf"]),
        ("clientIP", ["client", "ip"]),
        ("id.orig_h", ["id", "orig", "host"]),
        ("Local Host IP", ["local", "host", "ip"]),
        ("took_in_millis", ["took", "in", "millis"]),
    ],
)
def test_keys_are_cut_into_words(key: str, words: list[str]) -> None:
    assert words_of(key) == words


@pytest.mark.parametrize(
    ("keys", "value", "name"),
    [
        (
            ("src", "src_ip", "srcip", "sourceAddress", "client_ip", "remote_addr"),
            "10.0.0.1",
            "src",
        ),
        (("source.ip", "client.address", "callerIpAddress", "SRC", "shost"), "10.0.0.1", "src"),
        (
            ("dst", "dstip", "destinationAddress", "server_ip", "destination.ip", "DST"),
            "1.1.1.1",
            "dest",
        ),
        (("spt", "sport", "srcPort", "client.port", "source_port"), "51000", "src_port"),
        (("dpt", "dport", "dst_port", "destination.port", "server.port"), "443", "dest_port"),
        (
            ("user", "username", "userName", "login", "account", "user.name", "actor.user"),
            "ann",
            "user",
        ),
        (("suser", "source.user.name"), "ann", "src_user"),
        (("smac", "srcMac", "source.mac"), "00:11:22:33:44:55", "src_mac"),
        (("url", "request_url", "requestUrl", "http.url"), "https://a.example/x", "url"),
        (("method", "httpMethod", "request_method", "verb"), "GET", "http_method"),
        (("status", "status_code", "statusCode", "response.status"), "404", "status"),
        (("action", "act", "disposition", "verdict"), "blocked", "action"),
        (("bytes_in", "rcvd_bytes", "bytesIn", "rcvdbyte"), "12", "bytes_in"),
        (("bytes_out", "sent_bytes", "bytesOut", "sentbyte"), "12", "bytes_out"),
        (("proto", "protocol", "ip_proto", "network.transport"), "tcp", "transport"),
        (
            ("user_agent", "userAgent", "http.user_agent", "request.agent"),
            "curl/8.0",
            "http_user_agent",
        ),
        (("query", "qname", "dns.query", "queryName"), "www.example.com", "query"),
        (("qtype", "record_type", "query_type", "dns.type"), "AAAA", "record_type"),
        (("recipient", "rcpt", "email.to", "to"), "bob@example.com", "recipient"),
        (("sender", "mail_from", "email.from", "from"), "ann@example.com", "src_user"),
        (("file_path", "filepath", "file.path"), "/var/log/x", "file_path"),
        (("srcintf", "ingress_interface"), "port1", "src_interface"),
        (("dstintf", "egress_interface"), "port2", "dest_interface"),
        (("srczone", "from_zone"), "trust", "src_zone"),
        (("policyid", "rule_id"), "7", "rule_id"),
        (("logid", "event_id", "msgid"), "0100", "signature_id"),
        (("operationName", "eventName"), "Sign-in activity", "signature"),
        (("level", "log_level", "loglevel"), "WARN", "severity_id"),
        (("severity",), "high", "severity"),
        (("duration_ms", "elapsed", "took"), "12", "duration"),
        (("devname", "hostname"), "fw-01", "dvc"),
        (("host.hostname",), "f780e7ca37a7", "dvc"),  # container ids name hosts too
        (("nat_src_ip", "source.nat.ip"), "10.0.0.1", "src_translated_ip"),
    ],
)
def test_keys_name_their_role(keys: tuple[str, ...], value: str, name: str) -> None:
    assert {key: role(key, [value]) for key in keys} == dict.fromkeys(keys, name)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("src", "alice"),  # a src is an address or a host name
        ("dport", "http"),  # a port is a number
        ("user", "10.0.0.1"),
        ("method", "fetch"),
        ("protocol", "HTTP/1.1"),
        ("request_id", "a1b2"),
        ("message", "hello"),
        ("peer6", "2001:db8::1"),
        ("userDisplayName", "Test User"),  # a label for people, not the account
        ("log.syslog.facility.code", "0"),  # a namespace word is not an event id
    ],
)
def test_values_that_do_not_fit_or_keys_without_a_role_get_no_name(key: str, value: str) -> None:
    assert role(key, [value]) in (None, "app")


def test_a_protocol_that_is_not_a_transport_is_the_app() -> None:
    assert role("protocol", ["http"]) == "app"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1", "ipv4"),
        ("2001:db8::1", "ipv6"),
        ("00:1a:2b:3c:4d:5e", "mac"),
        ("a@b.example", "email"),
        ("https://x.example/a?b=1", "url"),
        ("/var/log/x.log", "path"),
        ("C:\\Windows\\x.exe", "path"),
        ("443", "int"),
        ("12ms", "duration"),
        ("5.8KB", "size"),
        ("0x1f", "hex"),
        ("db-01.example.com", "host"),
        ("alice", "word"),
        ("two words", "text"),
    ],
)
def test_token_kinds(value: str, expected: str) -> None:
    assert kind(value) == expected


def test_column_roles_by_kind_and_neighbour() -> None:
    assert column_role(["GET", "POST"], web=True, previous="", used=set()) == "http_method"
    assert column_role(["/a", "/b?x=1"], web=True, previous="http_method", used=set()) == "url"
    assert column_role(["/a"], web=True, previous="", used=set()) is None
    assert column_role(["10.0.0.1"], web=False, previous="", used=set()) == "src"
    assert column_role(["10.0.0.1"], web=False, previous="", used={"src"}) == "dest"
    assert column_role(["200", "404"], web=True, previous="", used=set()) == "status"
    assert column_role(["200", "404"], web=False, previous="", used=set()) is None
    assert column_role(["5120", "0"], web=True, previous="status", used=set()) == "bytes"
    assert column_role(["5120", "0"], web=True, previous="", used=set()) is None

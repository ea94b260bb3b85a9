"""Known grammars: syslog, Apache/nginx access and error logs, CEF, LEEF, XML."""

from __future__ import annotations

import pytest

from engine.generator.fields import infer_fields
from engine.generator.fields.grammars import SYSLOG_3164, lighter
from engine.generator.model import FieldPlan, FormatGuess
from engine.regex import compile_regex


def extracted(plan: FieldPlan, event: str) -> dict[str, str]:
    """Named groups of every EXTRACT in the plan that matches ``event`` (Splunk adds (?ms))."""
    out: dict[str, str] = {}
    for key, pattern in sorted(plan.props.items()):
        if key.startswith("EXTRACT-"):
            match = compile_regex("(?ms)" + pattern).search(event)
            if match is not None:
                out.update(match.groupdict())
    return out


ACCESS = [
    '10.1.1.1 - frank [26/Dec/2016:16:22:13 +0000] "GET /a/b.php?x=1 HTTP/1.1" 404 499 "-" '
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:50.0) Gecko/20100101 Firefox/50.0"',
    '::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -',
    'www.example.org 10.1.1.2 - - [26/Dec/2016:16:22:14 +0000] "POST /login HTTP/1.0" 200 12',
]


def test_access_log_fields() -> None:
    plan = infer_fields(ACCESS, FormatGuess(kind="apache_access", confidence=1.0))
    first = extracted(plan, ACCESS[0])
    assert first["clientip"] == "10.1.1.1"
    assert first["user"] == "frank"
    assert first["method"] == "GET"
    assert first["uri_path"] == "/a/b.php"
    assert first["uri_query"] == "x=1"
    assert first["status"] == "404"
    assert first["bytes"] == "499"
    assert first["http_user_agent"].startswith("Mozilla/5.0")
    assert first["ua_browser"] == "Firefox"
    assert first["ua_os_version"] == "10.12"
    assert (first["ua_os_family"], first["ua_os_full"]) == ("Mac", "Mac OS X 10.12")
    assert extracted(plan, ACCESS[1])["status"] == "408"
    vhost = extracted(plan, ACCESS[2])
    assert vhost["site"] == "www.example.org"
    assert vhost["clientip"] == "10.1.1.2"


SYSLOG = [
    "Feb 21 21:54:44 web01 sshd[3402]: Accepted publickey for alice from 10.0.2.2 port 63673 ssh2",
    "Feb 21 21:56:12 web01 sshd[3430]: Accepted publickey for bob from 10.0.2.9 port 50000 ssh2",
    "Feb 21 21:57:12 web01 thermald: constraint exceeded.",
]


def test_syslog_header_and_message_template() -> None:
    plan = infer_fields(SYSLOG, FormatGuess(kind="syslog3164", confidence=1.0))
    fields = extracted(plan, SYSLOG[1])
    assert fields["syslog_host"] == "web01"
    assert fields["process"] == "sshd"
    assert fields["pid"] == "3430"
    assert fields["src"] == "10.0.2.9"
    assert fields["src_port"] == "50000"
    assert "bob" in fields.values()
    assert extracted(plan, SYSLOG[2])["process"] == "thermald"


def test_apache_error_header() -> None:
    events = [
        "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] "
        "[client 89.160.20.156:8080] File does not exist: /usr/local/apache2/htdocs/favicon.ico",
        "[Mon Dec 26 16:22:08 2016] [error] [client 192.168.33.1] File does not exist: /var/x",
    ]
    plan = infer_fields(events, FormatGuess(kind="apache_error", confidence=1.0))
    first = extracted(plan, events[0])
    assert (first["module"], first["level"], first["pid"], first["tid"]) == (
        "core",
        "error",
        "35708",
        "4328636416",
    )
    assert (first["client"], first["client_port"]) == ("89.160.20.156", "8080")
    assert extracted(plan, events[1])["client"] == "192.168.33.1"


def test_cef_header_extensions_and_labels() -> None:
    events = [
        "CEF:0|Acme|Gate|1.0|100|Login failed|5|src=10.0.0.1 suser=bob msg=bad password "
        "cs1Label=Policy cs1=Default Deny",
        "CEF:0|Acme|Gate|1.0|101|Login ok|1|src=10.0.0.2 suser=amy msg=fine cs1Label=Policy cs1=x",
    ]
    plan = infer_fields(events, FormatGuess(kind="cef", confidence=1.0))
    header = extracted(plan, events[0])
    assert (header["vendor"], header["product"], header["signature_id"]) == ("Acme", "Gate", "100")
    transform = plan.transforms[plan.props["REPORT-cef_extensions"]]
    pairs = {m.group(1): m.group(2) for m in compile_regex(transform["REGEX"]).finditer(events[0])}
    assert pairs["msg"] == "bad password"
    assert pairs["src"] == "10.0.0.1"
    assert pairs["cs1"] == "Default Deny"
    assert plan.props["FIELDALIAS-cef_labels"] == "cs1 AS policy"


def test_cef_and_leef_pairs_are_listed_as_fields_of_their_report() -> None:
    cef = infer_fields(
        ["CEF:0|Acme|Gate|1.0|100|Login failed|5|src=10.0.0.1 suser=bob"],
        FormatGuess(kind="cef", confidence=1.0),
    )
    leef = infer_fields(
        [
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1",
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15346|src=192.0.2.1\tdst=",
        ],
        FormatGuess(kind="leef", confidence=1.0),
    )
    cef_fields = {f.name: f for f in cef.fields}
    leef_fields = {f.name: f for f in leef.fields}
    assert cef_fields["suser"].source == "REPORT-cef_extensions"
    assert cef_fields["suser"].examples == ("bob",)
    assert leef_fields["src"].source == "REPORT-leef_attributes"
    assert leef_fields["src"].examples == ("192.0.2.0", "192.0.2.1")
    assert leef_fields["dst"].examples == ("172.50.123.1",)  # empty values are not examples


def test_xml_events_use_kv_mode_xml_and_data_pairs() -> None:
    events = [
        "<Event><System><EventID>4624</EventID></System><EventData>"
        "<Data Name='TargetUserName'>bob</Data></EventData></Event>"
    ]
    plan = infer_fields(events, FormatGuess(kind="xml", confidence=1.0))
    assert plan.props["KV_MODE"] == "xml"
    names = {f.name for f in plan.fields}
    assert {"Event.System.EventID", "Event.EventData.Data{@Name}", "TargetUserName"} <= names


def test_syslog_with_year_and_no_process() -> None:
    events = [
        "Oct 10 2018 12:34:56 fw01 : %ASA-6-302013: Built inbound TCP connection 1 for x",
        "Oct 10 2018 12:34:57 fw01 : %ASA-6-302014: Teardown TCP 1 duration 0:00:01 bytes 9",
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog3164", confidence=1.0))
    fields = extracted(plan, events[1])
    assert fields["syslog_host"] == "fw01"
    assert "process" not in fields
    assert not any(name.endswith("_with_unit") for name in fields)


@pytest.mark.parametrize(
    ("line", "host", "process", "message"),
    [
        ("<166>May 01 2026 09:24:32Z  %FW-6-113005: denied", None, None, "%FW-6-113005: denied"),
        ("2023:04:28-00:00:04 gw-1 dhcpd: DHCPACK on 10.0.0.2", "gw-1", "dhcpd", "DHCPACK on"),
        (
            "<134> 27/06/2026:22:38:17  h1.example.lan 0-PPE-0 : default x",
            "h1.example.lan",
            "0-PPE-0",
            "default x",
        ),
        ("Nov 30 16:44:36 FW-220 1,2018/11/30 16:44:36,0128", "FW-220", None, "1,2018/11/30"),
        ("Jan 10 2026 00:00:00 edge01 : %SEC-6-302013: Built", "edge01", None, "%SEC-6-302013"),
        ("2021-11-16T05:14:15.000003-07:00 fw01 kernel: x", "fw01", "kernel", "x"),
        ("Mar 12 12:00:00 named[123]: client 1.2.3.4#5353", None, "named", "client 1.2.3.4"),
    ],
)
def test_syslog_header_variants(
    line: str, host: str | None, process: str | None, message: str
) -> None:
    plan = infer_fields([line, line], FormatGuess(kind="syslog3164", confidence=1.0))
    match = compile_regex(plan.props["EXTRACT-a_header"]).search(line)
    assert match is not None
    assert (match.groupdict().get("syslog_host"), match.groupdict().get("process")) == (
        host,
        process,
    )
    assert line[match.end() :].startswith(message)


def test_an_application_log_is_not_taken_for_syslog() -> None:
    lines = ["2015-10-18 18:01:47,978 INFO [main] org.app.Master: Created job 1"] * 2
    plan = infer_fields(lines, FormatGuess(kind="unstructured", confidence=1.0))
    match = compile_regex(plan.props["EXTRACT-a_header"]).search(lines[0])
    assert match is not None
    assert "syslog_host" not in match.groupdict()
    assert match.group("level") == "INFO"


def test_vendor_message_ids_give_severity_and_signature() -> None:
    events = [
        "<166>Jan 10 2026 00:00:00 fw01 : %FW-6-302013: Built inbound TCP connection 7",
        "<132>Jan 10 2026 00:00:01 ap-2: %LOG-4-Q_IND: packet rejected on socket 0",
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog3164", confidence=1.0))
    first, second = extracted(plan, events[0]), extracted(plan, events[1])
    assert (first["severity_id"], first["signature_id"], first["facility"]) == ("6", "302013", "FW")
    assert (second["severity_id"], second["signature"]) == ("4", "Q_IND")


def test_syslog_senders_that_put_host_and_task_before_the_time() -> None:
    events = [
        "<132>ap-1.example.lan: *dot1xTask: Jul 14 10:00:00.001: %LOG-4-Q_IND: x.c:41 rejected",
        "<44>ap-2.example.lan: *ntpTask: Jul 14 10:00:01.002: %NTP-4-PKT: y.c:50 rejected",
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog3164", confidence=1.0))
    fields = extracted(plan, events[1])
    assert (fields["syslog_host"], fields["process"], fields["signature"]) == (
        "ap-2.example.lan",
        "ntpTask",
        "PKT",
    )


def test_bracketed_log4j_columns_without_spaces_between_them() -> None:
    events = [
        "[2018-09-27T09:51:56,226][INFO ][o.e.n.Node     ] [node-0] started",
        "[2018-09-27T09:51:57,226][WARN ][o.e.c.DiskMonitor] [node-0] high disk watermark",
    ]
    plan = infer_fields(events, FormatGuess(kind="unstructured", confidence=1.0))
    fields = extracted(plan, events[1])
    assert (fields["level"], fields["component"], fields["component_2"]) == (
        "WARN",
        "o.e.c.DiskMonitor",
        "node-0",
    )


def test_a_syslog_priority_and_a_closing_bracket_do_not_make_xml() -> None:
    events = [
        "<26>Dec 29 02:35:54 cache-23 app: %SEC-1-414020: Resolved - from=<judy@example.com>",
        "<26>Dec 29 02:35:55 cache-24 app: %SEC-1-414020: Resolved - from=<amy@example.org>",
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog3164", confidence=1.0))
    assert plan.props["KV_MODE"] != "xml"
    assert extracted(plan, events[1])["syslog_host"] == "cache-24"


def test_templates_repeat_a_lighter_header_that_reads_the_same_lines() -> None:

    lines = [
        "Jun 14 15:16:01 combo sshd[1]: session opened for user root",
        "Jun 14 15:16:02 combo su: session opened for user bob",
    ]
    light = lighter(SYSLOG_3164.pattern, lines)
    assert len(light) < len(SYSLOG_3164.pattern)
    for line in lines:
        full = compile_regex(SYSLOG_3164.pattern).search(line)
        short = compile_regex(light).search(line)
        assert full is not None and short is not None
        assert full.end() == short.end()
    plan = infer_fields(lines, FormatGuess(kind="syslog3164", confidence=1.0))
    template = next(v for k, v in plan.props.items() if k.startswith("EXTRACT-t"))
    assert template.startswith("(?>^")


def test_an_rfc5424_header_gives_its_version_host_and_app() -> None:
    events = [
        f"<165>1 2021-11-16T05:14:1{i}.000003-07:00 192.0.2.1 myproc 87{i} - - started job {i}"
        for i in range(3)
    ]
    plan = infer_fields(events, FormatGuess(kind="syslog", confidence=0.9))
    fields = extracted(plan, "<13>1 2021-11-16T05:14:19Z host-9 app 1 - - done")
    assert (fields["syslog_version"], fields["syslog_host"], fields["app_name"]) == (
        "1",
        "host-9",
        "app",
    )


TRANSFERS = [
    "Mon Dec  9 10:00:00 2023 1 10.0.0.1 1024 /home/alice/file.txt b _ o r alice ftp 0 * c",
    "Mon Dec  9 10:00:05 2023 3 10.0.0.2 20480 /home/bob/data.tar.gz b _ i r bob ftp 0 * c",
    "Mon Dec  9 10:01:00 2023 0 10.0.0.9 512 /pub/readme.txt a _ o a anonymous ftp 0 * i",
]
"""A file-transfer log: ctime, then header-less columns (seconds, client, size, file...)."""


def test_a_bare_number_after_the_time_is_a_column_not_a_syslog_host() -> None:
    plan = infer_fields(TRANSFERS, FormatGuess(kind="unstructured", confidence=0.5))
    fields = extracted(plan, TRANSFERS[0])
    assert "syslog_host" not in fields
    assert fields["src"] == "10.0.0.1"
    assert {"1", "1024", "alice"} <= set(fields.values())
    header = compile_regex(SYSLOG_3164.pattern)
    named = header.search("Dec  9 10:00:00 web-1 sshd[2]: Accepted password for x")
    assert named is not None and named.group("syslog_host") == "web-1"
    numbered = header.search("Dec  9 10:00:00 10.0.0.7 sshd[2]: Accepted password for x")
    assert numbered is not None and numbered.group("syslog_host") == "10.0.0.7"
    offset = header.search("24/Feb/2024:11:17:35 +0200 INFO [main] app.X - started")
    assert offset is None or offset.group("syslog_host") != "+0200"

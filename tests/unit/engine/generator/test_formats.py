"""Format detection per family, on small hand-written samples."""

from __future__ import annotations

import pytest

from engine.generator.formats import classify_line, detect_format, pick_lines


def _detect(text: str):  # type: ignore[no-untyped-def]
    return detect_format(text, text.splitlines())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n', "ndjson"),
        ('[\n  {"a": 1},\n  {"a": 2}\n]\n', "json"),
        (
            "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick\n"
            "<34>Oct 11 22:14:16 mymachine su[231]: session opened\n",
            "syslog3164",
        ),
        (
            "Jun  3 05:01:01 web01 CRON[12]: (root) CMD (run-parts)\n"
            "Jun  3 05:01:02 web01 sshd[99]: Accepted password for bob\n",
            "syslog3164",
        ),
        (
            "<165>1 2003-10-11T22:14:15.003Z host.example.com evntslog 12 ID47 - msg one\n"
            '<165>1 2003-10-11T22:14:16.003Z host.example.com evntslog 12 ID47 [x@1 a="b"] m\n',
            "syslog5424",
        ),
        (
            '10.1.2.3 - bob [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 '
            '"http://x/" "curl/8"\n'
            '10.1.2.4 - - [10/Oct/2000:13:55:37 -0700] "POST /b HTTP/1.1" 404 -\n',
            "apache_access",
        ),
        (
            '10.0.0.2, 10.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" 200 5 "-" "x"\n'
            '10.0.0.3, 10.0.0.1 - - [07/Dec/2016:11:05:08 +0100] "GET / HTTP/1.1" 200 5 "-" "x"\n',
            "nginx_access",
        ),
        (
            "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by config\n"
            "[Wed Oct 11 14:32:53.123456 2000] [core:notice] [pid 11] AH00094: started\n",
            "apache_error",
        ),
        (
            "Sep 19 08:26:10 host CEF:0|Security|threatmanager|1.0|100|worm stopped|10|"
            "src=10.0.0.1 "
            "dst=2.1.2.2 spt=1232\n"
            "CEF:0|Security|threatmanager|1.0|101|worm seen|5|src=10.0.0.2 dst=2.1.2.3\n",
            "cef",
        ),
        (
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\n"
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15346|src=192.0.2.1\tdst=172.50.123.2\n",
            "leef",
        ),
        (
            'time=2024-01-01T00:00:00Z user=alice action="log in" status=ok\n'
            "time=2024-01-01T00:00:01Z user=bob action=logout status=ok\n",
            "kv",
        ),
        (
            '<Event xmlns="x"><System><EventID>4624</EventID></System></Event>\n'
            '<Event xmlns="x"><System><EventID>4625</EventID></System></Event>\n',
            "xml",
        ),
        ("2024 something happened\nanother thing happened\n", "unstructured"),
    ],
)
def test_line_families(text: str, kind: str) -> None:
    assert _detect(text).kind == kind


def test_csv_header_is_learned() -> None:
    guess = _detect('time,user,action\n2024-01-01,alice,"log in"\n2024-01-02,bob,logout\n')
    assert (guess.kind, guess.header, guess.delimiter) == ("csv", ("time", "user", "action"), ",")


@pytest.mark.parametrize(("delimiter", "kind"), [("\t", "tsv"), ("|", "psv")])
def test_other_delimiters(delimiter: str, kind: str) -> None:
    rows = ["ts", "src", "dst"], ["1", "a", "b"], ["2", "c", "d"]
    guess = _detect("\n".join(delimiter.join(row) for row in rows) + "\n")
    assert guess.kind == kind and guess.header == ("ts", "src", "dst")


def test_numeric_first_row_is_not_a_header() -> None:
    assert _detect("1,2,3\n4,5,6\n").kind != "csv"


def test_zeek_and_w3c_headers() -> None:
    zeek = "#separator \\x09\n#fields\tts\tuid\tproto\n#types\ttime\tstring\tenum\n1.5\tC1\ttcp\n"
    guess = _detect(zeek)
    assert (guess.kind, guess.header, guess.header_lines) == ("zeek_tsv", ("ts", "uid", "proto"), 3)
    w3c = "#Software: IIS\n#Fields: date time c-ip cs-method\n2024-01-01 00:00:00 1.2.3.4 GET\n"
    guess = _detect(w3c)
    assert (guess.kind, guess.header) == ("w3c", ("date", "time", "c-ip", "cs-method"))


def test_junk_lines_lower_confidence_but_keep_the_family() -> None:
    good = '{"a": %d}\n'
    text = "".join(good % i for i in range(8)) + "garbage\n--- cut ---\n"
    guess = _detect(text)
    assert guess.kind == "ndjson" and guess.confidence == pytest.approx(0.8)


def test_classify_line_prefers_cef_over_its_syslog_header() -> None:
    line = "Jan  1 00:00:00 fw CEF:0|V|P|1|sig|name|3|src=1.1.1.1"
    assert classify_line(line) == "cef"


def test_pick_lines_is_bounded_and_spread() -> None:
    lines = [str(i) for i in range(1000)]
    picked = pick_lines(lines, limit=10)
    assert len(picked) == 10 and picked[0] == "0" and picked[-1] == "900"


def test_pretty_printed_object_stream_is_json() -> None:
    text = '{\n  "a": 1\n}\n{\n  "a": 2\n}\n{\n  "a": '
    guess = _detect(text)
    assert (guess.kind, guess.details["root"]) == ("json", "stream")


def test_a_line_beyond_the_csv_cell_limit_is_not_a_crash() -> None:
    """A one-line giant (> 131,072 characters, the csv module's cell limit) reads as a row of
    the wrong width, not as an error."""
    text = "a,b,c\n1,2,3\n" + "x" * 200_000 + "\n4,5,6\n"
    guess = _detect(text)
    assert guess.kind != "csv"
    assert _detect("a,b,c\n1,2,3\n4,5,6\n" * 4).kind == "csv"

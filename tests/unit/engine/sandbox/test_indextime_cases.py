"""Table-driven index-time cases drawn from props.conf.spec and transforms.conf.spec.

Each case: the settings of the ``[st]`` props stanza (plus transforms), raw text, and the
events Splunk would index: raw text, time (as UTC ISO text, or None) and indexed fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from engine.sandbox.indextime import IndexTimeStats, index_events

NOW = datetime(2020, 3, 1, 12, 0, 0, tzinfo=UTC)
_UNSET = object()


@dataclass(frozen=True)
class Case:
    name: str
    props: dict[str, str]
    text: str
    raws: list[str]
    times: list[str | None] | None = None
    fields: list[dict[str, list[str]]] | None = None
    transforms: dict[str, dict[str, str]] = field(default_factory=dict)
    sourcetypes: list[str] | None = None
    hosts: list[str] | None = None
    errors: list[bool] | None = None


NO_MERGE = {"SHOULD_LINEMERGE": "false"}

CASES = [
    # --- LINE_BREAKER --------------------------------------------------------------------
    Case(
        "default breaker keeps CRLF out of events",
        NO_MERGE,
        "a=1\r\nb=2\r\n\r\nc=3",
        ["a=1", "b=2", "c=3"],
    ),
    Case(
        "group start ends the event, group end starts the next (spec: {...} records)",
        {**NO_MERGE, "LINE_BREAKER": r"\}(\s*)\{"},
        '{"a": 1}\n  {"b": 2}{"c": 3}',
        ['{"a": 1}', '{"b": 2}', '{"c": 3}'],
    ),
    Case(
        "lookahead breaker keeps continuation lines in the event",
        {**NO_MERGE, "LINE_BREAKER": r"([\r\n]+)(?=\d{4}-\d{2}-\d{2})"},
        "2020-01-01 00:00:00 start\n  detail\n2020-01-01 00:00:01 next\n",
        ["2020-01-01 00:00:00 start\n  detail", "2020-01-01 00:00:01 next"],
        times=["2020-01-01T00:00:00+00:00", "2020-01-01T00:00:01+00:00"],
    ),
    Case(
        "alternation: the first group that took part is the break",
        {**NO_MERGE, "LINE_BREAKER": r"(;;)|([\r\n]+)"},
        "a;;b\nc",
        ["a", "b", "c"],
    ),
    Case(
        "no group took part: zero-length break before the match",
        {**NO_MERGE, "LINE_BREAKER": r"([\r\n]+)|(?=START)"},
        "aSTARTb\nc",
        ["a", "STARTb", "c"],
    ),
    Case(
        "TRUNCATE cuts lines in bytes without splitting a character",
        {**NO_MERGE, "TRUNCATE": "6"},
        "abcd\u00e9fgh\nshort",
        ["abcd\u00e9", "short"],
    ),
    Case(
        "TRUNCATE = 0 turns truncation off",
        {**NO_MERGE, "TRUNCATE": "0"},
        "x" * 12000,
        ["x" * 12000],
    ),
    # --- SHOULD_LINEMERGE ----------------------------------------------------------------
    Case(
        "default merging breaks only before a line with a date",
        {},
        "Jan  5 10:00:01 h app: boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)\n"
        "Jan  5 10:00:02 h app: ok\n",
        [
            "Jan  5 10:00:01 h app: boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)",
            "Jan  5 10:00:02 h app: ok",
        ],
        times=["2020-01-05T10:00:01+00:00", "2020-01-05T10:00:02+00:00"],
    ),
    Case(
        "BREAK_ONLY_BEFORE starts events at matching lines",
        {"BREAK_ONLY_BEFORE": r"^Event\s", "BREAK_ONLY_BEFORE_DATE": "false"},
        "Event 1\nline with 2020-01-01 00:00:00 inside\nEvent 2\nmore",
        ["Event 1\nline with 2020-01-01 00:00:00 inside", "Event 2\nmore"],
    ),
    Case(
        "MUST_BREAK_AFTER ends an event after the matching line",
        {"MUST_BREAK_AFTER": r"</event>", "BREAK_ONLY_BEFORE_DATE": "false"},
        "<event>\n<a>1</a>\n</event>\n<event>\n<a>2</a>\n</event>",
        ["<event>\n<a>1</a>\n</event>", "<event>\n<a>2</a>\n</event>"],
    ),
    Case(
        "MUST_NOT_BREAK_AFTER holds the event open until MUST_BREAK_AFTER",
        {"MUST_NOT_BREAK_AFTER": r"^BEGIN", "MUST_BREAK_AFTER": r"^END"},
        "BEGIN 2020-01-01 00:00:00\n2020-01-01 00:00:01 inner\nEND\n2020-01-01 00:00:02 next",
        [
            "BEGIN 2020-01-01 00:00:00\n2020-01-01 00:00:01 inner\nEND",
            "2020-01-01 00:00:02 next",
        ],
    ),
    Case(
        "MUST_NOT_BREAK_BEFORE keeps a dated line in the previous event",
        {"MUST_NOT_BREAK_BEFORE": r"^\s+at "},
        "2020-01-01 00:00:00 error\n   at 2020-01-01 00:00:05 retry\n2020-01-01 00:00:09 ok",
        ["2020-01-01 00:00:00 error\n   at 2020-01-01 00:00:05 retry", "2020-01-01 00:00:09 ok"],
    ),
    Case(
        "MAX_EVENTS caps the lines of one event",
        {"MAX_EVENTS": "2"},
        "2020-01-01 00:00:00 a\nb\nc\nd\ne",
        ["2020-01-01 00:00:00 a\nb", "c\nd", "e"],
    ),
    Case(
        "without break rules lines merge up to MAX_EVENTS",
        {"BREAK_ONLY_BEFORE_DATE": "false", "MAX_EVENTS": "3"},
        "2020-01-01 00:00:00 a\n2020-01-01 00:00:01 b\n"
        "2020-01-01 00:00:02 c\n2020-01-01 00:00:03 d",
        [
            "2020-01-01 00:00:00 a\n2020-01-01 00:00:01 b\n2020-01-01 00:00:02 c",
            "2020-01-01 00:00:03 d",
        ],
    ),
    Case(
        "DATETIME_CONFIG = NONE finds no dates, so default merging never breaks",
        {"DATETIME_CONFIG": "NONE"},
        "2020-01-01 00:00:00 a\n2020-01-01 00:00:01 b",
        ["2020-01-01 00:00:00 a\n2020-01-01 00:00:01 b"],
        times=[NOW.isoformat()],
    ),
    Case(
        "the date test for merging uses TIME_PREFIX and TIME_FORMAT",
        {"TIME_PREFIX": r"^\[", "TIME_FORMAT": "%d/%m/%Y %H:%M:%S"},
        "[02/01/2020 10:00:00] a\nseen 2020-01-01 00:00:00 inline\n[03/01/2020 10:00:00] b",
        ["[02/01/2020 10:00:00] a\nseen 2020-01-01 00:00:00 inline", "[03/01/2020 10:00:00] b"],
        times=["2020-01-02T10:00:00+00:00", "2020-01-03T10:00:00+00:00"],
    ),
    Case(
        "a time without a date does not start an event under BREAK_ONLY_BEFORE_DATE",
        {},
        "2020-01-10 08:00:00 start\n  elapsed 00:00:05\n2020-01-10 08:00:06 next",
        ["2020-01-10 08:00:00 start\n  elapsed 00:00:05", "2020-01-10 08:00:06 next"],
        times=["2020-01-10T08:00:00+00:00", "2020-01-10T08:00:06+00:00"],
    ),
    # --- timestamps ---------------------------------------------------------------------
    Case(
        "TIME_FORMAT with %3N in the TZ zone",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S.%3N", "TZ": "America/New_York"},
        "2020-01-15 08:30:00.250 login",
        ["2020-01-15 08:30:00.250 login"],
        times=["2020-01-15T13:30:00.250000+00:00"],
    ),
    Case(
        "an offset in the event beats TZ",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%dT%H:%M:%S%z", "TZ": "Asia/Tokyo"},
        "2020-01-15T08:30:00+0200 x",
        ["2020-01-15T08:30:00+0200 x"],
        times=["2020-01-15T06:30:00+00:00"],
    ),
    Case(
        "TIME_PREFIX that does not match: previous event's time and an error",
        {**NO_MERGE, "TIME_PREFIX": r"ts=", "TIME_FORMAT": "%s"},
        "ts=1577836800 a\nno stamp here\n",
        ["ts=1577836800 a", "no stamp here"],
        times=["2020-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00"],
        errors=[False, True],
    ),
    Case(
        "MAX_TIMESTAMP_LOOKAHEAD counts from the end of TIME_PREFIX",
        {**NO_MERGE, "TIME_PREFIX": r"when=", "MAX_TIMESTAMP_LOOKAHEAD": "19"},
        "x" * 200 + " when=2020-02-02 02:02:02",
        ["x" * 200 + " when=2020-02-02 02:02:02"],
        times=["2020-02-02T02:02:02+00:00"],
    ),
    Case(
        "a timestamp beyond MAX_TIMESTAMP_LOOKAHEAD is not seen",
        {**NO_MERGE, "MAX_TIMESTAMP_LOOKAHEAD": "10"},
        "prefix text 2020-02-02 02:02:02",
        ["prefix text 2020-02-02 02:02:02"],
        times=[NOW.isoformat()],
        errors=[True],
    ),
    Case(
        "%s epoch seconds with %3N milliseconds",
        {**NO_MERGE, "TIME_FORMAT": "%s%3N"},
        "1577836800123 ping",
        ["1577836800123 ping"],
        times=["2020-01-01T00:00:00.123000+00:00"],
    ),
    Case(
        "%s with a fraction and %6N",
        {**NO_MERGE, "TIME_PREFIX": r"ts:", "TIME_FORMAT": "%s.%6N"},
        "ts:1577836800.654321 ok",
        ["ts:1577836800.654321 ok"],
        times=["2020-01-01T00:00:00.654321+00:00"],
    ),
    Case(
        "%9N nanoseconds keep microsecond precision",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%9N"},
        "2020-01-01T00:00:00.123456789 x",
        ["2020-01-01T00:00:00.123456789 x"],
        times=["2020-01-01T00:00:00.123456+00:00"],
    ),
    Case(
        "year-less syslog takes the year from now",
        {**NO_MERGE, "TIME_FORMAT": "%b %d %H:%M:%S"},
        "Feb 28 23:00:00 host a",
        ["Feb 28 23:00:00 host a"],
        times=["2020-02-28T23:00:00+00:00"],
    ),
    Case(
        "year-less date later than MAX_DAYS_HENCE belongs to last year",
        {**NO_MERGE, "TIME_FORMAT": "%b %e %H:%M:%S"},
        "Dec  1 10:00:00 host a",
        ["Dec  1 10:00:00 host a"],
        times=["2019-12-01T10:00:00+00:00"],
    ),
    Case(
        "%j day of year",
        {**NO_MERGE, "TIME_FORMAT": "%Y %j %H:%M"},
        "2020 032 06:07 x",
        ["2020 032 06:07 x"],
        times=["2020-02-01T06:07:00+00:00"],
    ),
    Case(
        "%I %p twelve-hour clock",
        {**NO_MERGE, "TIME_FORMAT": "%m/%d/%Y %I:%M:%S %p"},
        "01/15/2020 12:05:00 AM a\n01/15/2020 01:05:00 PM b",
        ["01/15/2020 12:05:00 AM a", "01/15/2020 01:05:00 PM b"],
        times=["2020-01-15T00:05:00+00:00", "2020-01-15T13:05:00+00:00"],
    ),
    Case(
        "%Z zone abbreviations",
        {**NO_MERGE, "TIME_FORMAT": "%a %b %d %H:%M:%S %Z %Y"},
        "Wed Jan 15 10:00:00 EST 2020 a\nWed Jan 15 10:00:00 UTC 2020 b",
        ["Wed Jan 15 10:00:00 EST 2020 a", "Wed Jan 15 10:00:00 UTC 2020 b"],
        times=["2020-01-15T15:00:00+00:00", "2020-01-15T10:00:00+00:00"],
    ),
    Case(
        "%:z and %::z offsets",
        {**NO_MERGE, "TIME_FORMAT": "%F %T %:z"},
        "2020-01-15 10:00:00 -03:30 a",
        ["2020-01-15 10:00:00 -03:30 a"],
        times=["2020-01-15T13:30:00+00:00"],
    ),
    Case(
        "%y %D composites and %k space-padded hour",
        {**NO_MERGE, "TIME_FORMAT": "%D %k:%M"},
        "01/15/20  7:05 a",
        ["01/15/20  7:05 a"],
        times=["2020-01-15T07:05:00+00:00"],
    ),
    Case(
        "MAX_DAYS_AGO rejects old dates (default 2000 days)",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S"},
        "2010-01-01 00:00:00 old",
        ["2010-01-01 00:00:00 old"],
        times=[NOW.isoformat()],
        errors=[True],
    ),
    Case(
        "MAX_DAYS_AGO can be raised for old samples",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S", "MAX_DAYS_AGO": "10951"},
        "2010-01-01 00:00:00 old",
        ["2010-01-01 00:00:00 old"],
        times=["2010-01-01T00:00:00+00:00"],
    ),
    Case(
        "MAX_DAYS_HENCE rejects dates too far in the future",
        {**NO_MERGE},
        "2020-03-02 11:00:00 soon\n2020-03-05 00:00:00 late",
        ["2020-03-02 11:00:00 soon", "2020-03-05 00:00:00 late"],
        times=["2020-03-02T11:00:00+00:00", "2020-03-02T11:00:00+00:00"],
        errors=[False, True],
    ),
    Case(
        "DATETIME_CONFIG = CURRENT stamps the index time",
        {**NO_MERGE, "DATETIME_CONFIG": "CURRENT"},
        "2019-01-01 00:00:00 a",
        ["2019-01-01 00:00:00 a"],
        times=[NOW.isoformat()],
    ),
    Case(
        "a TIME_FORMAT that does not fit fails (no silent fallback to guessing)",
        {**NO_MERGE, "TIME_FORMAT": "%d.%m.%Y %H:%M:%S"},
        "2020-01-01 00:00:00 iso, not dotted",
        ["2020-01-01 00:00:00 iso, not dotted"],
        times=[NOW.isoformat()],
        errors=[True],
    ),
    Case(
        "automatic recognition: common formats",
        NO_MERGE,
        "\n".join(
            [
                "2020-01-15T10:00:00.5Z iso",
                '1.2.3.4 - - [15/Jan/2020:10:00:00 -0500] "GET / HTTP/1.1" 200',
                "<13>Jan 15 10:00:00 host sshd[1]: ok",
                "2020-01-15 10:00:00,250 INFO log4j",
                "time=1579082400 epoch",
                "ms=1579082400250 epoch-ms",
                "01/15/2020 10:00:00 us",
                "Wed Jan 15 10:00:00 2020 ctime",
                "200115 10:00:00 mysql",
                "Wed, 15 Jan 2020 10:00:00 +0100 rfc2822",
                "15-Jan-2020 10:00:00.125 tomcat",
            ]
        ),
        [
            "2020-01-15T10:00:00.5Z iso",
            '1.2.3.4 - - [15/Jan/2020:10:00:00 -0500] "GET / HTTP/1.1" 200',
            "<13>Jan 15 10:00:00 host sshd[1]: ok",
            "2020-01-15 10:00:00,250 INFO log4j",
            "time=1579082400 epoch",
            "ms=1579082400250 epoch-ms",
            "01/15/2020 10:00:00 us",
            "Wed Jan 15 10:00:00 2020 ctime",
            "200115 10:00:00 mysql",
            "Wed, 15 Jan 2020 10:00:00 +0100 rfc2822",
            "15-Jan-2020 10:00:00.125 tomcat",
        ],
        times=[
            "2020-01-15T10:00:00.500000+00:00",
            "2020-01-15T15:00:00+00:00",
            "2020-01-15T10:00:00+00:00",
            "2020-01-15T10:00:00.250000+00:00",
            "2020-01-15T10:00:00+00:00",
            "2020-01-15T10:00:00.250000+00:00",
            "2020-01-15T10:00:00+00:00",
            "2020-01-15T10:00:00+00:00",
            "2020-01-15T10:00:00+00:00",
            "2020-01-15T09:00:00+00:00",
            "2020-01-15T10:00:00.125000+00:00",
        ],
    ),
    Case(
        "no timestamp and no previous event: the current time, an error",
        NO_MERGE,
        "plain text 12345",
        ["plain text 12345"],
        times=[NOW.isoformat()],
        errors=[True],
    ),
    Case(
        "MAX_TIMESTAMP_LOOKAHEAD = -1 turns the limit off",
        {**NO_MERGE, "MAX_TIMESTAMP_LOOKAHEAD": "-1"},
        "x" * 300 + " 2020-02-02 02:02:02",
        ["x" * 300 + " 2020-02-02 02:02:02"],
        times=["2020-02-02T02:02:02+00:00"],
    ),
    Case(
        "TZ_ALIAS maps a zone name found in the event",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S %Z", "TZ_ALIAS": "EST=GMT+10:00"},
        "2020-01-15 10:00:00 EST a\n2020-01-15 10:00:00 CST b",
        ["2020-01-15 10:00:00 EST a", "2020-01-15 10:00:00 CST b"],
        times=["2020-01-15T00:00:00+00:00", "2020-01-15T16:00:00+00:00"],
    ),
    Case(
        "a time without a date takes the last parsed event's date",
        {**NO_MERGE, "TIME_PREFIX": "at ", "MAX_TIMESTAMP_LOOKAHEAD": "20"},
        "at 2020-01-10 08:00:00 first\nat 09:30:00 second",
        ["at 2020-01-10 08:00:00 first", "at 09:30:00 second"],
        times=["2020-01-10T08:00:00+00:00", "2020-01-10T09:30:00+00:00"],
    ),
    Case(
        "DETERMINE_TIMESTAMP_DATE_WITH_SYSTEM_TIME: today, or yesterday if 3h+ ahead",
        {
            **NO_MERGE,
            "TIME_FORMAT": "%H:%M:%S",
            "DETERMINE_TIMESTAMP_DATE_WITH_SYSTEM_TIME": "true",
        },
        "11:00:00 a\n23:00:00 b",
        ["11:00:00 a", "23:00:00 b"],
        times=["2020-03-01T11:00:00+00:00", "2020-02-29T23:00:00+00:00"],
    ),
    # --- TRANSFORMS- --------------------------------------------------------------------
    Case(
        "nullQueue everything, then indexQueue what matters (spec example)",
        {**NO_MERGE, "TRANSFORMS-set": "setnull,setparsing"},
        "login ok\nheartbeat\nlogin failed",
        ["login ok", "login failed"],
        transforms={
            "setnull": {"REGEX": ".", "DEST_KEY": "queue", "FORMAT": "nullQueue"},
            "setparsing": {"REGEX": "login", "DEST_KEY": "queue", "FORMAT": "indexQueue"},
        },
    ),
    Case(
        "classes apply in ASCII order of their names",
        {**NO_MERGE, "TRANSFORMS-b": "drop", "TRANSFORMS-a": "keep"},
        "x",
        [],
        transforms={
            "drop": {"REGEX": ".", "DEST_KEY": "queue", "FORMAT": "nullQueue"},
            "keep": {"REGEX": ".", "DEST_KEY": "queue", "FORMAT": "indexQueue"},
        },
    ),
    Case(
        "sourcetype rewrite with sourcetype::",
        {**NO_MERGE, "TRANSFORMS-st": "to_fw"},
        "FW: deny\nAPP: start",
        ["FW: deny", "APP: start"],
        transforms={
            "to_fw": {
                "REGEX": "^FW:",
                "DEST_KEY": "MetaData:Sourcetype",
                "FORMAT": "sourcetype::fw",
            }
        },
        sourcetypes=["fw", "st"],
    ),
    Case(
        "host rewrite from the event",
        {**NO_MERGE, "TRANSFORMS-h": "host_from_raw"},
        "host=web01 a\nno host",
        ["host=web01 a", "no host"],
        transforms={
            "host_from_raw": {
                "REGEX": r"host=(\w+)",
                "DEST_KEY": "MetaData:Host",
                "FORMAT": "host::$1",
            }
        },
        hosts=["web01", "orig"],
    ),
    Case(
        "_raw rewrite drops a syslog header",
        {**NO_MERGE, "TRANSFORMS-strip": "strip_header"},
        "<13>hdr: payload one",
        ["payload one"],
        transforms={
            "strip_header": {"REGEX": r"^<\d+>\w+: (.*)$", "DEST_KEY": "_raw", "FORMAT": "$1"}
        },
    ),
    Case(
        "WRITE_META indexed fields with quoted values",
        {**NO_MERGE, "TRANSFORMS-m": "meta"},
        "user=bob role=admin",
        ["user=bob role=admin"],
        fields=[{"user": ["bob"], "role": ["admin x"]}],
        transforms={
            "meta": {
                "REGEX": r"user=(\w+) role=(\w+)",
                "FORMAT": 'user::$1 role::"$2 x"',
                "WRITE_META": "true",
            }
        },
    ),
    Case(
        "REPEAT_MATCH writes every match",
        {**NO_MERGE, "TRANSFORMS-m": "tags"},
        "tag=a tag=b tag=c",
        ["tag=a tag=b tag=c"],
        fields=[{"tag": ["a", "b", "c"]}],
        transforms={
            "tags": {
                "REGEX": r"tag=(\w)",
                "FORMAT": "tag::$1",
                "WRITE_META": "true",
                "REPEAT_MATCH": "true",
            }
        },
    ),
    Case(
        "LOOKAHEAD limits how much of the source REGEX sees",
        {**NO_MERGE, "TRANSFORMS-m": "late"},
        "0123456789 code=7",
        ["0123456789 code=7"],
        fields=[{}],
        transforms={
            "late": {
                "REGEX": r"code=(\d)",
                "FORMAT": "code::$1",
                "WRITE_META": "1",
                "LOOKAHEAD": "10",
            }
        },
    ),
    Case(
        "DEFAULT_VALUE is written when REGEX does not match",
        {**NO_MERGE, "TRANSFORMS-h": "host_default"},
        "nothing",
        ["nothing"],
        transforms={
            "host_default": {
                "REGEX": r"host=(\w+)",
                "DEST_KEY": "MetaData:Host",
                "FORMAT": "host::$1",
                "DEFAULT_VALUE": "host::unknown",
            }
        },
        hosts=["unknown"],
    ),
    Case(
        "SOURCE_KEY = MetaData:Source routes by source",
        {**NO_MERGE, "TRANSFORMS-q": "drop_debug_file"},
        "anything",
        [],
        transforms={
            "drop_debug_file": {
                "SOURCE_KEY": "MetaData:Source",
                "REGEX": r"debug\.log$",
                "DEST_KEY": "queue",
                "FORMAT": "nullQueue",
            }
        },
    ),
    Case(
        "DEST_KEY wins over WRITE_META (sourcetype renamed from the source)",
        {**NO_MERGE, "TRANSFORMS-r": "rename"},
        "x",
        ["x"],
        fields=[{}],
        transforms={
            "rename": {
                "DEST_KEY": "MetaData:Sourcetype",
                "SOURCE_KEY": "MetaData:Source",
                "REGEX": r"(?:[a-zA-Z0-9_]+\.)?([a-zA-Z0-9_]+)\.log",
                "FORMAT": "sourcetype::renamed:$1",
                "WRITE_META": "true",
            }
        },
        sourcetypes=["renamed:debug"],
    ),
    # --- SEDCMD- ------------------------------------------------------------------------
    Case(
        "SEDCMD s///g masks every match",
        {**NO_MERGE, "SEDCMD-ssn": r"s/\d{3}-\d{2}-(\d{4})/XXX-XX-\1/g"},
        "ssn=123-45-6789 and 987-65-4321",
        ["ssn=XXX-XX-6789 and XXX-XX-4321"],
    ),
    Case(
        "SEDCMD without flags replaces the first match only",
        {**NO_MERGE, "SEDCMD-one": "s/a/b/"},
        "aaa",
        ["baa"],
    ),
    Case(
        "SEDCMD with N replaces the N-th match",
        {**NO_MERGE, "SEDCMD-two": "s/a/b/2"},
        "aaa",
        ["aba"],
    ),
    Case(
        "SEDCMD y/// transliterates",
        {**NO_MERGE, "SEDCMD-y": "y/abc/xyz/"},
        "aabbcc-d",
        ["xxyyzz-d"],
    ),
    Case(
        "SEDCMD escaped delimiter and class order",
        {**NO_MERGE, "SEDCMD-b": "s/var/opt/", "SEDCMD-a": r"s/\/tmp\//\/var\//"},
        "path=/tmp/x",
        ["path=/opt/x"],
    ),
    Case(
        "SEDCMD runs a space-separated list of sed commands",
        {**NO_MERGE, "SEDCMD-multi": "s/a/b/g y/xy/XY/ s/(b+)/[\\1]/"},
        "aax-y",
        ["[bb]X-Y"],
    ),
    # --- INDEXED_EXTRACTIONS ------------------------------------------------------------
    Case(
        "csv: header names cleaned (spaces kept), quoted delimiter and newline, TIMESTAMP_FIELDS",
        {"INDEXED_EXTRACTIONS": "csv", "TIMESTAMP_FIELDS": "Event.Time"},
        'Event.Time,src ip,msg\r\n2020-01-01 10:00:00,10.0.0.1,"a, b"\n'
        '2020-01-01 10:00:01,10.0.0.2,"line1\nline2"\n',
        ['2020-01-01 10:00:00,10.0.0.1,"a, b"', '2020-01-01 10:00:01,10.0.0.2,"line1\nline2"'],
        times=["2020-01-01T10:00:00+00:00", "2020-01-01T10:00:01+00:00"],
        fields=[
            {"Event_Time": ["2020-01-01 10:00:00"], "src ip": ["10.0.0.1"], "msg": ["a, b"]},
            {
                "Event_Time": ["2020-01-01 10:00:01"],
                "src ip": ["10.0.0.2"],
                "msg": ["line1\nline2"],
            },
        ],
    ),
    Case(
        "tsv with an empty value skipped",
        {"INDEXED_EXTRACTIONS": "tsv"},
        "a\tb\n1\t\n",
        ["1\t"],
        fields=[{"a": ["1"]}],
    ),
    Case(
        "psv with FIELD_NAMES: no header line, extra columns named",
        {"INDEXED_EXTRACTIONS": "psv", "FIELD_NAMES": "user,action"},
        "bob|login|x",
        ["bob|login|x"],
        fields=[{"user": ["bob"], "action": ["login"], "EXTRA_FIELD_1": ["x"]}],
    ),
    Case(
        "HEADER_FIELD_LINE_NUMBER skips the lines before the header",
        {"INDEXED_EXTRACTIONS": "csv", "HEADER_FIELD_LINE_NUMBER": "3"},
        "report\ngenerated today\nk,v\n1,2",
        ["1,2"],
        fields=[{"k": ["1"], "v": ["2"]}],
    ),
    Case(
        "PREAMBLE_REGEX lines are ignored",
        {"INDEXED_EXTRACTIONS": "csv", "PREAMBLE_REGEX": "^#"},
        "# exported\nk,v\n# note\n1,2",
        ["1,2"],
        fields=[{"k": ["1"], "v": ["2"]}],
    ),
    Case(
        "FIELD_DELIMITER and FIELD_QUOTE",
        {"INDEXED_EXTRACTIONS": "csv", "FIELD_DELIMITER": ";", "FIELD_QUOTE": "'"},
        "k;v\n'a;b';c",
        ["'a;b';c"],
        fields=[{"k": ["a;b"], "v": ["c"]}],
    ),
    Case(
        "w3c: #Fields header, date and time make the timestamp",
        {"INDEXED_EXTRACTIONS": "w3c"},
        "#Software: IIS\n#Fields: date time c-ip cs-method\n2020-01-02 03:04:05 10.1.1.1 GET\n",
        ["2020-01-02 03:04:05 10.1.1.1 GET"],
        times=["2020-01-02T03:04:05+00:00"],
        fields=[
            {
                "date": ["2020-01-02"],
                "time": ["03:04:05"],
                "c_ip": ["10.1.1.1"],
                "cs_method": ["GET"],
            }
        ],
    ),
    Case(
        "json: nested keys with '.', arrays with '{}', pretty-printed objects",
        {"INDEXED_EXTRACTIONS": "json", "TIMESTAMP_FIELDS": "ts", "TIME_FORMAT": "%s"},
        '{"ts": 1577836800, "user": {"name": "bob"}, "tags": ["a", "b"], "ok": true}\n'
        '{\n  "ts": 1577836801,\n  "items": [{"id": 1}, {"id": 2}], "n": null\n}\n',
        [
            '{"ts": 1577836800, "user": {"name": "bob"}, "tags": ["a", "b"], "ok": true}',
            '{\n  "ts": 1577836801,\n  "items": [{"id": 1}, {"id": 2}], "n": null\n}',
        ],
        times=["2020-01-01T00:00:00+00:00", "2020-01-01T00:00:01+00:00"],
        fields=[
            {"ts": ["1577836800"], "user.name": ["bob"], "tags{}": ["a", "b"], "ok": ["true"]},
            {"ts": ["1577836801"], "items{}.id": ["1", "2"], "n": ["null"]},
        ],
    ),
    Case(
        "FIELD_DELIMITER = whitespace and FIELD_QUOTE = none",
        {
            "INDEXED_EXTRACTIONS": "csv",
            "FIELD_DELIMITER": "whitespace",
            "FIELD_QUOTE": "none",
        },
        'a  b\tc\n1 \t "2" 3',
        ['1 \t "2" 3'],
        fields=[{"a": ["1"], "b": ['"2"'], "c": ["3"]}],
    ),
    Case(
        "\\xHH delimiter, MISSING_VALUE_REGEX, acceptable special header characters",
        {
            "INDEXED_EXTRACTIONS": "csv",
            "FIELD_DELIMITER": "\\x1f",
            "MISSING_VALUE_REGEX": "N/A",
            "HEADER_FIELD_ACCEPTABLE_SPECIAL_CHARACTERS": ".",
        },
        "src.ip\x1fuser-name\n10.0.0.1\x1fN/A",
        ["10.0.0.1\x1fN/A"],
        fields=[{"src.ip": ["10.0.0.1"]}],
    ),
    Case(
        "FIELD_HEADER_REGEX: the header follows the match",
        {"INDEXED_EXTRACTIONS": "csv", "FIELD_HEADER_REGEX": r"^Fields:\s*"},
        "Report v1\nFields: k,v\n1,2",
        ["1,2"],
        fields=[{"k": ["1"], "v": ["2"]}],
    ),
    Case(
        "JSON_TRIM_BRACES_IN_ARRAY_NAMES drops {} from array names",
        {"INDEXED_EXTRACTIONS": "json", "JSON_TRIM_BRACES_IN_ARRAY_NAMES": "true"},
        '{"data": {"mount_point": ["/disk48", "/disk22"]}}',
        ['{"data": {"mount_point": ["/disk48", "/disk22"]}}'],
        fields=[{"data.mount_point": ["/disk48", "/disk22"]}],
    ),
    Case(
        "json: a line that is not JSON is still an event, without fields",
        {"INDEXED_EXTRACTIONS": "json"},
        'not json at all\n{"a": "1"}',
        ["not json at all", '{"a": "1"}'],
        fields=[{}, {"a": ["1"]}],
    ),
    Case(
        "zeek TSV as TA_fiction_indextime reads it: header regex group, quote = delimiter",
        {
            "INDEXED_EXTRACTIONS": "TSV",
            "FIELD_HEADER_REGEX": r"^#fields\t(.*)",
            "FIELD_DELIMITER": r"\t",
            "FIELD_QUOTE": r"\t",
            "TIME_FORMAT": "%s.%6N",
            "MAX_DAYS_AGO": "10951",
            "TRANSFORMS-TrashComments": "TrashComments",
        },
        "#fields\tts\tsrc\n#types\ttime\taddr\n1331904609.110000\t10.0.0.1\n",
        ["1331904609.110000\t10.0.0.1"],
        times=["2012-03-16T13:30:09.110000+00:00"],
        fields=[{"ts": ["1331904609.110000"], "src": ["10.0.0.1"]}],
        transforms={
            "TrashComments": {"REGEX": r"^\s*#", "DEST_KEY": "queue", "FORMAT": "nullQueue"}
        },
    ),
]


def _run(case: Case, chunks: list[str] | None = None, stats: IndexTimeStats | None = None):
    props = {"st": case.props}
    return list(
        index_events(
            chunks if chunks is not None else [case.text],
            props=props,
            transforms=case.transforms,
            sourcetype="st",
            source="/var/log/debug.log",
            host="orig",
            now=NOW,
            stats=stats,
        )
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_index_time_case(case: Case) -> None:
    events = _run(case)
    assert [event.raw for event in events] == case.raws
    if case.times is not None:
        times = [None if e.time is None else e.time.astimezone(UTC).isoformat() for e in events]
        assert times == case.times
    if case.errors is not None:
        assert [event.time_error is not None for event in events] == case.errors
    if case.fields is not None:
        assert [event.fields for event in events] == case.fields
        assert [event.indexed for event in events] == [set(f) for f in case.fields]
    if case.sourcetypes is not None:
        assert [event.sourcetype for event in events] == case.sourcetypes
    if case.hosts is not None:
        assert [event.host for event in events] == case.hosts


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_chunking_does_not_change_events(case: Case) -> None:
    """The same input fed in 7-character chunks gives the same events (streaming)."""
    chunks = [case.text[i : i + 7] for i in range(0, len(case.text), 7)]
    whole = [(e.raw, e.time, e.fields) for e in _run(case)]
    assert [(e.raw, e.time, e.fields) for e in _run(case, chunks)] == whole


def test_stats_count_events_failures_truncation_and_drops() -> None:
    stats = IndexTimeStats()
    case = Case(
        "stats",
        {"TRUNCATE": "30", "TRANSFORMS-q": "drop"},
        "2020-01-01 00:00:00 " + "y" * 40 + "\ncontinued\nnothing here\n2020-01-01 00:00:01 DROP",
        [],
        transforms={"drop": {"REGEX": "DROP", "DEST_KEY": "queue", "FORMAT": "nullQueue"}},
    )
    events = _run(case, stats=stats)
    assert [e.linecount for e in events] == [3]
    assert events[0].truncated
    assert (stats.events, stats.truncated, stats.lines_merged, stats.dropped) == (1, 1, 2, 1)
    assert stats.timestamp_failures == 0


def test_source_stanza_assigns_the_sourcetype_when_none_is_given() -> None:
    props = {
        "source::.../fw/*.log": {"sourcetype": "fw"},
        "fw": {"SHOULD_LINEMERGE": "false", "LINE_BREAKER": "(;)"},
    }
    events = list(
        index_events(
            ["a;b"], props=props, transforms={}, sourcetype="", source="/x/fw/1.log", now=NOW
        )
    )
    assert [(e.raw, e.sourcetype) for e in events] == [("a", "fw"), ("b", "fw")]

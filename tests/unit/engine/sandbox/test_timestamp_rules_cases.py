"""Table cases for timestamp assignment: strptime leniencies, the date in a source's name, the
input layer's time, and default line merging without a props stanza.

Each case quotes the spec or manual line it follows (props.conf.spec 9.x; Getting Data In, "How
timestamp assignment works"; strptime(3) for the glibc behaviour Splunk's strptime keeps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from engine.sandbox.indextime import IndexTimeStats, index_events
from engine.sandbox.timestamps import date_in_source

NOW = datetime(2020, 7, 1, 12, 0, 0, tzinfo=UTC)
INPUT_TIME = datetime(2020, 6, 30, 8, 0, 0, tzinfo=UTC)
NO_MERGE = {"SHOULD_LINEMERGE": "false"}
LOG = "/var/log/app.log"


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    props: dict[str, str] | None
    text: str
    times: list[str]
    errors: list[bool] | None = None
    source: str = LOG
    input_time: datetime | None = None
    raws: list[str] | None = None


CASES = [
    # --- strptime leniencies -------------------------------------------------------------
    Case(
        "%s.%6N reads an epoch without a fraction",
        "TIME_FORMAT = <strptime-style format> (Splunk reads 1331904609 with %s.%6N: "
        "pytest-splunk-addon e2e verdicts, TA_fiction_indextime)",
        {**NO_MERGE, "TIME_FORMAT": "%s.%6N"},
        "1590000000\t10.0.0.1\n",
        ["2020-05-20T18:40:00+00:00"],
        errors=[False],
    ),
    Case(
        "%s.%3N reads an epoch without a fraction",
        "TIME_FORMAT = <strptime-style format> (as %s.%6N)",
        {**NO_MERGE, "TIME_PREFIX": "ts=", "TIME_FORMAT": "%s.%3N"},
        "ts=1577836800 ok\n",
        ["2020-01-01T00:00:00+00:00"],
    ),
    Case(
        "%s.%6N still takes the fraction when there is one",
        "%N subseconds: %3N = milliseconds, %6N = microseconds, %9N = nanoseconds "
        "(Configure timestamp recognition, enhanced strptime)",
        {**NO_MERGE, "TIME_FORMAT": "%s.%6N"},
        "1590000000.110000 a\n",
        ["2020-05-20T18:40:00.110000+00:00"],
    ),
    Case(
        "%s.%3N keeps its width of precision from a longer fraction",
        "%3N = milliseconds (Configure timestamp recognition, enhanced strptime)",
        {**NO_MERGE, "TIME_FORMAT": "%s.%3N"},
        "1590000000.123456 a\n",
        ["2020-05-20T18:40:00.123000+00:00"],
    ),
    Case(
        "missing fraction digits: .5 with %3N is 500 ms",
        "%3N = milliseconds (Configure timestamp recognition): fewer digits are read as given",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S.%3N"},
        "2020-01-01 10:00:00.5 a\n",
        ["2020-01-01T10:00:00.500000+00:00"],
    ),
    Case(
        "a missing .%3N after %S is not skipped (only the epoch form is known to be lenient)",
        "TIME_FORMAT = <strptime-style format>; no evidence that Splunk skips it",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S.%3N"},
        "2020-01-01 10:00:00 a\n",
        [NOW.isoformat()],
        errors=[True],
    ),
    Case(
        "one-digit month, day and hour are read by %m %d %H",
        "strptime(3): %d The day of month (1-31); leading zeros are permitted but not required",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S"},
        "2020-1-5 3:04:05 a\n",
        ["2020-01-05T03:04:05+00:00"],
    ),
    Case(
        "a space-padded day is read by %d",
        "strptime(3): leading zeros are permitted but not required (syslog pads with a space)",
        {**NO_MERGE, "TIME_FORMAT": "%b %d %H:%M:%S"},
        "Jun  3 10:01:02 host a\n",
        ["2020-06-03T10:01:02+00:00"],
    ),
    Case(
        "automatic recognition reads a trailing zone abbreviation",
        "TZ: If the event has a timezone in its raw text (for example, UTC, -08:00), use that.",
        {**NO_MERGE, "TZ": "Asia/Tokyo"},
        "2020-01-01 10:00:00 PDT msg\n",
        ["2020-01-01T17:00:00+00:00"],
    ),
    Case(
        "automatic recognition reads a trailing numeric offset",
        "TZ: If the event has a timezone in its raw text (for example, UTC, -08:00), use that.",
        {**NO_MERGE, "TZ": "Asia/Tokyo"},
        "2020-01-01 10:00:00 -08:00 msg\n",
        ["2020-01-01T18:00:00+00:00"],
    ),
    Case(
        "an unknown zone text read by %Z leaves the zone to TZ",
        "TZ: If TZ is set to a valid timezone string, use that.",
        {**NO_MERGE, "TIME_FORMAT": "%Y-%m-%d %H:%M:%S %Z", "TZ": "Asia/Tokyo"},
        "2020-01-01 10:00:00 XYZT msg\n",
        ["2020-01-01T01:00:00+00:00"],
    ),
    # --- the date in the source's name ---------------------------------------------------
    Case(
        "time-only events take the date in the file name",
        "If no events in a source have a date, look in the source (or file) name (Must have "
        "time in the event). (How timestamp assignment works)",
        {**NO_MERGE, "TIME_FORMAT": "%H:%M:%S"},
        "10:00:01 a\n10:00:02 b\n",
        ["2020-06-23T10:00:01+00:00", "2020-06-23T10:00:02+00:00"],
        source="/var/log/app-2020-06-23.log",
    ),
    Case(
        "a compact date in the file name",
        "If no events in a source have a date, look in the source (or file) name",
        {**NO_MERGE, "TIME_FORMAT": "%H:%M:%S"},
        "23:59:59 a\n",
        ["2019-12-31T23:59:59+00:00"],
        source="/data/export.20191231.log",
    ),
    Case(
        "a date in the source's directories",
        "If no events in a source have a date, look in the source (or file) name",
        {**NO_MERGE, "TIME_FORMAT": "%H:%M:%S"},
        "08:15:00 a\n",
        ["2020-02-29T08:15:00+00:00"],
        source="/logs/2020/02/29/app.log",
    ),
    Case(
        "an earlier dated event of the source gives the date, not the name",
        "If an event doesn't have a time or date, use the timestamp from the most recent "
        "previous event of the same source. (How timestamp assignment works)",
        NO_MERGE,
        "2020-06-25 09:00:00 a\n10:00:00 b\n",
        ["2020-06-25T09:00:00+00:00", "2020-06-25T10:00:00+00:00"],
        source="/var/log/app-2020-06-23.log",
    ),
    Case(
        "without a time in the event the name's date is not used",
        "look in the source (or file) name (Must have time in the event)",
        {**NO_MERGE, "TIME_FORMAT": "%H:%M:%S"},
        "no clock here\n",
        [NOW.isoformat()],
        errors=[True],
        source="/var/log/app-2020-06-23.log",
    ),
    Case(
        "an impossible date in the name is not a date",
        "If no events in a source have a date, look in the source (or file) name",
        {**NO_MERGE, "TIME_FORMAT": "%H:%M:%S"},
        "10:00:00 a\n",
        ["2020-07-01T10:00:00+00:00"],
        source="/var/log/app-2020-02-30.log",
    ),
    # --- the input layer's time ----------------------------------------------------------
    Case(
        "DATETIME_CONFIG = NONE keeps the input layer's time",
        '"NONE" leaves the event time set to whatever time was selected by the input layer',
        {**NO_MERGE, "DATETIME_CONFIG": "NONE"},
        "2020-01-01 00:00:00 a\n",
        [INPUT_TIME.isoformat()],
        input_time=INPUT_TIME,
    ),
    Case(
        "DATETIME_CONFIG = CURRENT stamps the current time, not the input's",
        '"CURRENT" sets the time of the event to the time that the event was merged from lines',
        {**NO_MERGE, "DATETIME_CONFIG": "CURRENT"},
        "2020-01-01 00:00:00 a\n",
        [NOW.isoformat()],
        input_time=INPUT_TIME,
    ),
    Case(
        "no timestamp and no earlier event: the input layer's time, before the current time",
        "For file sources, if no date can be identified in the file name, use the modification "
        "time on the file. (How timestamp assignment works)",
        NO_MERGE,
        "nothing to read\n2020-06-29 01:00:00 b\nagain nothing\n",
        [INPUT_TIME.isoformat(), "2020-06-29T01:00:00+00:00", "2020-06-29T01:00:00+00:00"],
        errors=[True, False, True],
        input_time=INPUT_TIME,
    ),
    Case(
        "time-only events without a dated name take the input layer's date",
        "For file sources, if no date can be identified in the file name, use the modification "
        "time on the file.",
        {**NO_MERGE, "TIME_FORMAT": "%H:%M:%S"},
        "21:00:00 a\n",
        ["2020-06-30T21:00:00+00:00"],
        input_time=INPUT_TIME,
    ),
    # --- default line merging (no props stanza) -----------------------------------------
    Case(
        "no stanza: lines join the event until a line with a date",
        "SHOULD_LINEMERGE = <boolean> ... Default: true; BREAK_ONLY_BEFORE_DATE ... When you "
        'set this to "true", Splunk software creates a new event only if it encounters a new '
        "line with a date. Default: true",
        None,
        "2020-05-01 10:00:00 ERROR boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)\n"
        "Mon May 04 10:00:01 2020 INFO next\ncontinued\n"
        "May  4 10:00:02 host app: third\n",
        ["2020-05-01T10:00:00+00:00", "2020-05-04T10:00:01+00:00", "2020-05-04T10:00:02+00:00"],
        raws=[
            "2020-05-01 10:00:00 ERROR boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)",
            "Mon May 04 10:00:01 2020 INFO next\ncontinued",
            "May  4 10:00:02 host app: third",
        ],
    ),
    Case(
        "no stanza: a line with a time but no date does not start an event",
        "BREAK_ONLY_BEFORE_DATE: creates a new event only if it encounters a new line with a date",
        None,
        "2020-05-01 10:00:00 start\n10:00:05 retry\n2020-05-01 10:00:09 end\n",
        ["2020-05-01T10:00:00+00:00", "2020-05-01T10:00:09+00:00"],
        raws=["2020-05-01 10:00:00 start\n10:00:05 retry", "2020-05-01 10:00:09 end"],
    ),
    Case(
        "no stanza: a date past MAX_TIMESTAMP_LOOKAHEAD does not start an event",
        "MAX_TIMESTAMP_LOOKAHEAD = <integer> ... The number of characters into an event Splunk "
        "software should look for a timestamp. ... Default: 128",
        None,
        "2020-05-01 10:00:00 first\n" + "x" * 130 + " 2020-05-01 10:00:05\n",
        ["2020-05-01T10:00:00+00:00"],
        raws=["2020-05-01 10:00:00 first\n" + "x" * 130 + " 2020-05-01 10:00:05"],
    ),
    Case(
        "no stanza: MAX_EVENTS = 256 lines end an event",
        "MAX_EVENTS = <integer> * The maximum number of input lines to add to any event. * "
        "Splunk software breaks after it reads the specified number of lines. * Default: 256",
        None,
        "2020-05-01 10:00:00 dump\n" + "".join(f"line {i}\n" for i in range(300)),
        ["2020-05-01T10:00:00+00:00", "2020-05-01T10:00:00+00:00"],
        errors=[False, True],
        raws=[
            "2020-05-01 10:00:00 dump\n" + "\n".join(f"line {i}" for i in range(255)),
            "\n".join(f"line {i}" for i in range(255, 300)),
        ],
    ),
]


def _run(case: Case) -> list:
    props = {} if case.props is None else {"st": case.props}
    return list(
        index_events(
            [case.text],
            props=props,
            transforms={},
            sourcetype="st",
            source=case.source,
            host="h",
            now=NOW,
            input_time=case.input_time,
            stats=IndexTimeStats(),
        )
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_timestamp_case(case: Case) -> None:
    events = _run(case)
    assert [e.time.astimezone(UTC).isoformat() for e in events if e.time] == case.times
    if case.errors is not None:
        assert [e.time_error is not None for e in events] == case.errors
    if case.raws is not None:
        assert [e.raw for e in events] == case.raws


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/var/log/app-2020-06-23.log", "2020-06-23"),
        ("C:\\logs\\app_2020_06_23.txt", "2020-06-23"),
        ("/x/2019/app.20200101.log", "2020-01-01"),
        ("/logs/2020/02/29/app.log", "2020-02-29"),
        ("/var/log/app-12345678.log", None),
        ("/var/log/syslog", None),
    ],
)
def test_date_in_source(source: str, expected: str | None) -> None:
    found = date_in_source(source)
    assert (found.isoformat() if found else None) == expected

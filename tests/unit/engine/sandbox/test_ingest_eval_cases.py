"""Table cases for INGEST_EVAL (transforms.conf, index time), each quoting the
transforms.conf.spec line it follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from engine.sandbox.events import Event
from engine.sandbox.indextime import IndexTimeStats, index_events
from engine.sandbox.stanzas import SettingError

NOW = datetime(2020, 3, 1, 12, 0, 0, tzinfo=UTC)
BASE = {"SHOULD_LINEMERGE": "false", "TIME_FORMAT": "%Y-%m-%d %H:%M:%S.%3N"}
LINE = "2020-03-01 10:00:00.123 WARN user=bob password=hunter2"


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    ingest_eval: str | list[str]
    fields: dict[str, list[str]] = field(default_factory=dict)
    raw: str | None = LINE
    host: str = "orig"
    sourcetype: str = "st"
    source: str = "/var/log/app.log"
    extra: dict[str, dict[str, str]] = field(default_factory=dict)


CASES = [
    Case(
        "an expression writes an index-time field",
        "By default, other variable names refer to index-time fields which are populated in "
        '"_meta"',
        "len=len(_raw)",
        {"len": [str(len(LINE))]},
    ),
    Case(
        "expressions separated by commas run in order; = adds a field each time",
        '"a=5, a=a+2" adds two index-time fields to _meta: "a::5 a::7"',
        "a=5, a=a+2",
        {"a": ["5", "7"]},
    ),
    Case(
        ":= replaces the field",
        'setting "a=5, a:=a+2" causes Splunk software to add a single "a::7" field',
        "a=5, a:=a+2",
        {"a": ["7"]},
    ),
    Case(
        ":= with null() removes a field",
        'The ":=" operator can also be used to remove existing fields in _meta by assigning the '
        "expression null() to them",
        ["seen=1", "seen:=null(), kept=2"],
        {"kept": ["2"]},
    ),
    Case(
        "a multivalue result writes one field per value",
        "If the value returned by an expression is a multivalue, it always creates multiple "
        "index-time fields",
        'x=mvappend("a","b","c")',
        {"x": ["a", "b", "c"]},
    ),
    Case(
        "mv: reads every value; a plain name the first",
        "When reading from an index-time field that occurs multiple times inside the _meta key, "
        'normally the first value is used ... prefixing the name with "mv:" which returns all '
        "of the values",
        'v="a", v="b", first=mvjoin(v, ","), every=mvjoin($mv:v$, ",")',
        {"v": ["a", "b"], "first": ["a"], "every": ["a,b"]},
    ),
    Case(
        "$field:...$ and $pd:...$ name a field and a key explicitly",
        '\'$field:event_category$=if($pd:_raw$ LIKE "WARN %", "warning", "normal")\'',
        '$field:category$=if(match($pd:_raw$, "WARN"), "warning", "normal")',
        {"category": ["warning"]},
    ),
    Case(
        "a [type] after the target is accepted",
        "'my_len[int]=length(source)' creates a new field named \"my_len\"",
        "my_len[int]=len(source)",
        {"my_len": ["16"]},
    ),
    Case(
        "_time is read with its subseconds",
        'When INGEST_EVAL accesses the "_time" variable, subsecond information is included.',
        "t=_time",
        {"t": ["1583056800.123"]},
    ),
    Case(
        "_raw is a key that can be rewritten",
        'Keys which are commonly used with DEST_KEY or SOURCE_KEY (like "_raw", "queue", etc) '
        "can be used directly in the expression.",
        '_raw=replace(_raw, "password=\\S+", "password=###")',
        raw="2020-03-01 10:00:00.123 WARN user=bob password=###",
    ),
    Case(
        "queue = nullQueue drops the event",
        "queue : Specify which queue to send the event to (can be nullQueue, indexQueue).",
        'queue=if(match(_raw, "WARN"), "nullQueue", "indexQueue")',
        raw=None,
    ),
    Case(
        "host, sourcetype and source are keys",
        "Also available are values which would be populated by default when this event is "
        'searched ("source", "sourcetype", "host", ...)',
        'host=upper(host), sourcetype="acme:" . sourcetype, source="/new" . source',
        host="ORIG",
        sourcetype="acme:st",
        source="/new/var/log/app.log",
    ),
    Case(
        "index is a key",
        "_MetaData:Index : The index where the event should be stored.",
        'index="security"',
        {"index": ["security"]},
    ),
    Case(
        "INGEST_EVAL and regex transforms run in list order",
        "TRANSFORMS-<class> = <transform_stanza_name>, ... Splunk software applies them in the "
        "list order.",
        ["user=upper(user)"],
        {"user": ["bob", "BOB"]},
        extra={"user": {"REGEX": r"user=(\w+)", "FORMAT": "user::$1", "WRITE_META": "true"}},
    ),
]


def _run(case: Case) -> list[Event]:
    expressions = [case.ingest_eval] if isinstance(case.ingest_eval, str) else case.ingest_eval
    evals = {f"ie{i}": {"INGEST_EVAL": text} for i, text in enumerate(expressions)}
    transforms = {**case.extra, **evals}
    props = {"st": {**BASE, "TRANSFORMS-x": ", ".join(transforms)}}
    return list(
        index_events(
            [LINE + "\n"],
            props=props,
            transforms=transforms,
            sourcetype="st",
            source="/var/log/app.log",
            host="orig",
            now=NOW,
            stats=IndexTimeStats(),
        )
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_ingest_eval_case(case: Case) -> None:
    events = _run(case)
    if case.raw is None:
        assert events == []
        return
    (event,) = events
    assert event.raw == case.raw
    written = event.indexed | ({"index"} & event.fields.keys())  # index is metadata
    assert {name: event.fields[name] for name in written} == case.fields
    assert (event.host, event.sourcetype, event.source) == (
        case.host,
        case.sourcetype,
        case.source,
    )


@pytest.mark.parametrize("text", ["a b", "=1", "x=", "linecount=1", "x=nosuchfunc()"])
def test_bad_ingest_eval_is_a_setting_error(text: str) -> None:
    with pytest.raises(SettingError, match="INGEST_EVAL"):
        index_events(
            ["x"],
            props={"st": {"TRANSFORMS-x": "bad"}},
            transforms={"bad": {"INGEST_EVAL": text}},
            sourcetype="st",
            now=NOW,
        )

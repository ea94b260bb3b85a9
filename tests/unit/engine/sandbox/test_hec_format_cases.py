"""Table cases for HEC envelopes read from a file (INDEXED_EXTRACTIONS = hec), quoting
props.conf.spec and "Format events for HTTP Event Collector"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from engine.sandbox.events import Event
from engine.sandbox.hec import HecFormatError, read_envelope
from engine.sandbox.indextime import IndexTimeStats, index_events
from tests.unit.engine.sandbox.support import hec_lines

NOW = datetime(2020, 3, 1, 12, 0, 0, tzinfo=UTC)
HEC = {"INDEXED_EXTRACTIONS": "hec"}
HEC_SPEC = (
    "INDEXED_EXTRACTIONS = <CSV|TSV|PSV|W3C|JSON|HEC> ... HEC - Interpret file as a stream of "
    "JSON events in the same format as the HTTP Event Collector (HEC) input."
)


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    text: str
    raws: list[str]
    times: list[str] | None = None
    fields: list[dict[str, list[str]]] | None = None
    meta: list[tuple[str, str, str]] | None = None


CASES = [
    Case(
        "each envelope is one event: its event text, no line breaking",
        HEC_SPEC,
        hec_lines({"event": "first line\nsecond line"}, {"event": "next"}),
        ["first line\nsecond line", "next"],
    ),
    Case(
        "an event object is indexed as its JSON text",
        'event: "Event data can be assigned to the "event" key within the JSON object" (a '
        "string or a JSON object)",
        hec_lines({"event": {"club": "glee", "wins": ["regionals", 2]}}),
        ['{"club":"glee","wins":["regionals",2]}'],
    ),
    Case(
        "the envelope's time wins over a timestamp in the text",
        "Timestamps in the event's JSON envelope take priority over the extracted timestamp.",
        hec_lines({"event": "2019-01-01 00:00:00 old text", "time": 1583056800.5}),
        ["2019-01-01 00:00:00 old text"],
        times=["2020-03-01T10:00:00.500000+00:00"],
    ),
    Case(
        "time may be a numeric string",
        'time: "The event time ... in the format <sec>.<ms>"',
        hec_lines({"event": "x", "time": "1583056800.250"}),
        ["x"],
        times=["2020-03-01T10:00:00.250000+00:00"],
    ),
    Case(
        "without an envelope time the text's timestamp is extracted",
        "If there's no timestamp in the event's JSON envelope, the merging pipeline extracts "
        "the timestamp from the event.",
        hec_lines({"event": "2020-02-29 08:00:00 text"}),
        ["2020-02-29 08:00:00 text"],
        times=["2020-02-29T08:00:00+00:00"],
    ),
    Case(
        "fields become indexed fields, arrays multivalued",
        'fields: "Specifies a JSON object that contains explicit custom fields to be defined at '
        'index time"',
        hec_lines({"event": "x", "fields": {"region": "eu", "tags": ["a", "b"], "n": 3}}),
        ["x"],
        fields=[{"region": ["eu"], "tags": ["a", "b"], "n": ["3"]}],
    ),
    Case(
        "host, source, sourcetype and index come from the envelope",
        "The HEC format lets events overide many details on a per-event basis, such as the "
        "destination index.",
        hec_lines(
            {"event": "a", "host": "web01", "source": "app", "sourcetype": "acme", "index": "i"},
            {"event": "b"},
        ),
        ["a", "b"],
        fields=[{}, {}],
        meta=[("acme", "app", "web01"), ("st", "/data/events.json", "h")],
    ),
    Case(
        "envelopes may share a line or span several",
        HEC_SPEC,
        '{"event": "a"} {"event": "b"}\n{\n  "event": "c"\n}\n',
        ["a", "b", "c"],
    ),
    Case(
        "a line that is no envelope is indexed as it is",
        HEC_SPEC,
        'plain text line\n{"not_event": 1}\n{"event": "ok"}\n',
        ["plain text line", '{"not_event": 1}', "ok"],
    ),
]


def _run(case: Case) -> list[Event]:
    return list(
        index_events(
            [case.text],
            props={"st": HEC},
            transforms={},
            sourcetype="st",
            source="/data/events.json",
            host="h",
            now=NOW,
            stats=IndexTimeStats(),
        )
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hec_file_case(case: Case) -> None:
    events = _run(case)
    assert [event.raw for event in events] == case.raws
    if case.times is not None:
        assert [e.time.astimezone(UTC).isoformat() for e in events if e.time] == case.times
    if case.fields is not None:
        assert [{n: e.fields[n] for n in e.indexed} for e in events] == case.fields
    if case.meta is not None:
        assert [(e.sourcetype, e.source, e.host) for e in events] == case.meta
    if case.meta and case.meta[0][0] == "acme":
        assert events[0].fields["index"] == ["i"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([1, 2], "JSON object"),
        ({"time": 1}, '"event"'),
        ({"event": ""}, "empty"),
        ({"event": "x", "time": "yesterday"}, "epoch seconds"),
        ({"event": "x", "time": -5}, "epoch seconds"),
        ({"event": "x", "fields": ["a"]}, '"fields"'),
        ({"event": "x", "fields": {"a": {"b": 1}}}, "object"),
    ],
)
def test_malformed_envelopes_are_named(document: object, problem: str) -> None:
    with pytest.raises(HecFormatError, match=problem):
        read_envelope(document)

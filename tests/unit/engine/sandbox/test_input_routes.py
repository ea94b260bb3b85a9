"""Ingestion routes through run_sandbox: the same TA, samples arriving as a monitored file, at
HEC's raw or event endpoint, or from a modular input (pytest-splunk-addon's ingestor table).

Each case quotes the manual line it follows ("HTTP Event Collector REST API endpoints",
"Format events for HTTP Event Collector", props.conf.spec).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.conf.parse import parse_conf
from engine.conf.ta import TA
from engine.samples import SampleError
from engine.sandbox.events import Event
from engine.sandbox.pipeline import run_sandbox
from engine.sandbox.report import ValidationReport
from engine.sandbox.routes import HEC_SOURCE, InputRoute
from engine.settings import SandboxSettings
from tests.unit.engine.sandbox.support import Collect, hec_lines

NOW = datetime(2024, 6, 10, tzinfo=UTC)
INPUT_TIME = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
ST = "acme:app"
PROPS = f"""\
[{ST}]
TIME_FORMAT = %Y-%m-%d %H:%M:%S
EXTRACT-user = user=(?<user>\\w+)
TRANSFORMS-tag = mark

[acme:audit]
EXTRACT-actor = actor=(?<actor>\\w+)
TRANSFORMS-tag = mark_audit

[csv:st]
INDEXED_EXTRACTIONS = csv
"""
TRANSFORMS = """\
[mark]
REGEX = user=(\\w+)
FORMAT = who::$1
WRITE_META = true

[mark_audit]
INGEST_EVAL = audited="yes"
"""
AUDIT_ENVELOPE = {"event": "actor=eve", "sourcetype": "acme:audit", "host": "fw1", "source": "x"}
TWO_LINES = "2024-05-01 10:00:00 user=amy login\nfailed twice\n2024-05-01 10:00:05 user=bob\n"


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    route: InputRoute
    files: list[str]
    raws: list[str]
    times: list[str]
    fields: list[dict[str, list[str]]] = field(default_factory=list)
    meta: list[tuple[str, str, str]] = field(default_factory=list)
    input_time: datetime | None = None
    sourcetype: str = ST


CASES = [
    Case(
        "monitor: line breaking and merging, the file's path as source",
        "SHOULD_LINEMERGE = <boolean> ... Default: true (props.conf.spec)",
        InputRoute.MONITOR,
        [TWO_LINES],
        ["2024-05-01 10:00:00 user=amy login\nfailed twice", "2024-05-01 10:00:05 user=bob"],
        ["2024-05-01T10:00:00+00:00", "2024-05-01T10:00:05+00:00"],
        [{"user": ["amy"], "who": ["amy"]}, {"user": ["bob"], "who": ["bob"]}],
        [(ST, "<path>", "localhost")] * 2,
    ),
    Case(
        "hec-raw: line breaking and timestamps apply as for a file",
        "services/collector/raw: the raw endpoint; its data goes through the parsing pipeline",
        InputRoute.HEC_RAW,
        [TWO_LINES],
        ["2024-05-01 10:00:00 user=amy login\nfailed twice", "2024-05-01 10:00:05 user=bob"],
        ["2024-05-01T10:00:00+00:00", "2024-05-01T10:00:05+00:00"],
        meta=[(ST, HEC_SOURCE, "localhost")] * 2,
    ),
    Case(
        "hec-raw: the time parameter is the time of events without a timestamp",
        "time: The event time ... (a query parameter of services/collector/raw)",
        InputRoute.HEC_RAW,
        ["no clock user=amy\n"],
        ["no clock user=amy"],
        [INPUT_TIME.isoformat()],
        input_time=INPUT_TIME,
    ),
    Case(
        "hec-event: one event per envelope, newlines and all",
        'The Edge Processor treats each top-level JSON object as a distinct event ("event" '
        "holds the event data)",
        InputRoute.HEC_EVENT,
        [hec_lines({"event": "2024-05-01 10:00:00 user=amy\nfailed twice"}, {"event": "user=bob"})],
        ["2024-05-01 10:00:00 user=amy\nfailed twice", "user=bob"],
        [NOW.isoformat(), NOW.isoformat()],
        [{"user": ["amy"], "who": ["amy"]}, {"user": ["bob"], "who": ["bob"]}],
        [(ST, HEC_SOURCE, "localhost")] * 2,
    ),
    Case(
        "hec-event: the envelope's time wins over the text's",
        "Timestamps in the event's JSON envelope take priority over the extracted timestamp.",
        InputRoute.HEC_EVENT,
        [hec_lines({"event": "2024-05-01 10:00:00 user=amy", "time": 1717000000.25})],
        ["2024-05-01 10:00:00 user=amy"],
        ["2024-05-29T16:26:40.250000+00:00"],
    ),
    Case(
        "hec-event: without an envelope time, the request's time, not the text's",
        "If time=xxx is used in the /event URL, then auto_extract_timestamp is turned off.",
        InputRoute.HEC_EVENT,
        [hec_lines({"event": "2024-05-01 10:00:00 user=amy"})],
        ["2024-05-01 10:00:00 user=amy"],
        [INPUT_TIME.isoformat()],
        input_time=INPUT_TIME,
    ),
    Case(
        "hec-event: fields are index-time fields",
        'fields: "Specifies a JSON object that contains explicit custom fields to be defined at '
        'index time" (Format events for HTTP Event Collector)',
        InputRoute.HEC_EVENT,
        [hec_lines({"event": "hello", "fields": {"region": "eu", "team": ["a", "b"]}})],
        ["hello"],
        [NOW.isoformat()],
        [{"region": ["eu"], "team": ["a", "b"]}],
    ),
    Case(
        "hec-event: the envelope's metadata chooses the props stanza",
        "host, source, sourcetype: values to assign to the event data (Event metadata)",
        InputRoute.HEC_EVENT,
        [
            hec_lines(
                {"event": "actor=eve", "sourcetype": "acme:audit", "host": "fw1", "source": "x"}
            )
        ],
        ["actor=eve"],
        [NOW.isoformat()],
        [{"actor": ["eve"], "audited": ["yes"]}],
        [("acme:audit", "x", "fw1")],
    ),
    Case(
        "modinput: each sample file is one event",
        "modular input XML streaming: each <event> is one event",
        InputRoute.MODINPUT,
        ["2024-05-01 10:00:00 user=amy\nsecond line\n", "2024-05-01 11:00:00 user=bob\n"],
        ["2024-05-01 10:00:00 user=amy\nsecond line", "2024-05-01 11:00:00 user=bob"],
        ["2024-05-01T10:00:00+00:00", "2024-05-01T11:00:00+00:00"],
        [{"user": ["amy"]}, {"user": ["bob"]}],
        [(ST, "sandbox://f0", "localhost"), (ST, "sandbox://f1", "localhost")],
    ),
    Case(
        "modinput: an explicit time wins over the text's",
        "modular input XML streaming: <time> is the event's time",
        InputRoute.MODINPUT,
        ["2024-05-01 10:00:00 user=amy\n"],
        ["2024-05-01 10:00:00 user=amy"],
        [INPUT_TIME.isoformat()],
        input_time=INPUT_TIME,
    ),
    Case(
        "INDEXED_EXTRACTIONS applies to the monitored file only",
        "Indexed field extraction doesn't work with data sent to the services/collector/raw "
        "endpoint.",
        InputRoute.HEC_RAW,
        ["a,b\n1,2\n"],
        ["a,b\n1,2"],  # plain text: lines without dates merge
        [NOW.isoformat()],
        [{}],
        sourcetype="csv:st",
    ),
]


def _ta() -> TA:
    ta = TA(app_id="TA-acme", version="1.0.0")
    ta.confs["props"] = parse_conf(PROPS, path="default/props.conf")
    ta.confs["transforms"] = parse_conf(TRANSFORMS, path="default/transforms.conf")
    return ta


def _run(case: Case, tmp_path: Path) -> tuple[ValidationReport, list[Event], list[Path]]:
    samples = []
    for number, text in enumerate(case.files):
        sample = tmp_path / f"f{number}.log"
        sample.write_text(text, encoding="utf-8")
        samples.append(sample)
    sink = Collect()
    result = run_sandbox(
        ta=_ta(),
        samples=samples,
        sourcetype=case.sourcetype,
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW, min_field_coverage=0.0),
        sinks=[sink],
        input_route=case.route,
        input_time=case.input_time,
    )
    return result.report, sink.events, samples


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_route_case(case: Case, tmp_path: Path) -> None:
    report, events, samples = _run(case, tmp_path)
    assert report.config_errors == []
    assert [event.raw for event in events] == case.raws
    assert [e.time.isoformat() if e.time else None for e in events] == case.times
    for event, expected in zip(events, case.fields, strict=False):
        assert {name: event.fields[name] for name in expected} == expected, event.fields
    if case.fields and not any(case.fields):
        assert all(not event.indexed for event in events)
    meta = [
        (st, str(samples[0].resolve()) if source == "<path>" else source, host)
        for st, source, host in case.meta
    ]
    assert [(e.sourcetype, e.source, e.host) for e in events][: len(meta)] == meta
    assert {run.input for run in report.samples} == {str(case.route)}


def test_ingestion_through_another_route_warns_that_indexed_extractions_are_ignored(
    tmp_path: Path,
) -> None:
    case = next(case for case in CASES if case.sourcetype == "csv:st")
    report, _, _ = _run(case, tmp_path)
    assert any("INDEXED_EXTRACTIONS applies to file inputs only" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("plain text\n", "envelope 1 is not JSON"), ('{"event": "a"}\n{"time": 1}\n', "envelope 2")],
)
def test_a_malformed_hec_stream_is_bad_input_naming_the_sample(
    text: str, problem: str, tmp_path: Path
) -> None:
    case = Case("bad", "", InputRoute.HEC_EVENT, [text], [], [])
    with pytest.raises(SampleError, match=problem) as caught:
        _run(case, tmp_path)
    assert "f0.log" in str(caught.value)

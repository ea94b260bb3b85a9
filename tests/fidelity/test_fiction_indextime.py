"""Fidelity: the sandbox's verdicts on TA_fiction_indextime against the ones a real Splunk gave.

pytest-splunk-addon's end-to-end suite records which of its generated tests passed on a real
Splunk for this Splunk-written add-on (``tests/e2e/constants.py``, TA_FICTION_INDEXTIME_PASSED /
_FAILED, at the commit the fixtures come from). Each row below is one of those tests: the sample
is tokenised the way the add-on's ``pytest-splunk-addon-data.conf`` says (fixed values instead
of random ones), sent through the ingestion route pytest-splunk-addon uses for its input type
(``IngestorHelper.INGEST_METHODS``: modinput -> HEC event, one event per sample event;
file_monitor and scripted_input -> HEC raw; uf_file_monitor -> a monitored file), and the
sandbox's outcome for what the test checks must be Splunk's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.conf.parse import parse_conf
from engine.conf.ta import load_ta
from engine.sandbox.events import Event
from engine.sandbox.pipeline import run_sandbox
from engine.sandbox.routes import InputRoute
from engine.settings import SandboxSettings
from tests.unit.engine.sandbox.support import Collect

ADDON = (
    Path(__file__).resolve().parents[2].parent
    / "shared/fixtures/splunk-addons/TA_fiction_indextime"
)
NOW = datetime(2025, 3, 1, tzinfo=UTC)
EVENT_TIME = datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
"""The time a ``timestamp`` token writes (pytest-splunk-addon writes the ingestion time)."""
IPV4, PORT = "10.1.2.3", "4242"
ROUTES = {
    "modinput": InputRoute.MODINPUT,
    "file_monitor": InputRoute.HEC_RAW,
    "scripted_input": InputRoute.HEC_RAW,
    "uf_file_monitor": InputRoute.MONITOR,
}

pytestmark = pytest.mark.skipif(not ADDON.is_dir(), reason=f"{ADDON} is not beside the clone")


def _stanza(sample: str) -> dict[str, str]:
    """A sample's data-conf settings: stanzas naming it by regex first, then by name."""
    path = ADDON / "default" / "pytest-splunk-addon-data.conf"
    conf = parse_conf(path.read_text(encoding="utf-8"), path=str(path))
    settings: dict[str, str] = {}
    for name in conf.names():
        if name != sample and re.fullmatch(name, sample):
            settings.update(conf.get(name).items())
    settings.update(conf.get(sample).items())
    return settings


def _value(kind: str, replacement: str, sample: str) -> str:
    """A fixed value for one token (pytest-splunk-addon draws random ones)."""
    if kind == "static":
        return replacement
    if kind == "timestamp":
        return (
            str(int(EVENT_TIME.timestamp()))
            if replacement == "%s"
            else EVENT_TIME.strftime(replacement)
        )
    if "ipv4" in replacement:
        return IPV4
    if replacement.endswith("_port"):
        return PORT
    if replacement.startswith("host"):
        return f"host-{sample.split('.')[0]}"
    if replacement.startswith("float["):
        return replacement[6:].split(":")[0]
    if replacement.startswith("list["):
        return replacement[5:].split(",")[0].strip(' "[]')
    if replacement.startswith("file["):
        name = replacement.rstrip("]").rsplit("/", 1)[-1]
        return (ADDON / "samples" / name).read_text(encoding="utf-8").splitlines()[0]
    raise AssertionError(f"token type {kind}/{replacement} is not handled")


def _tokenised(sample: str, stanza: dict[str, str]) -> str:
    text = (ADDON / "samples" / sample).read_text(encoding="utf-8")
    numbers = sorted({key.split(".")[1] for key in stanza if key.startswith("token.")}, key=int)
    for number in numbers:
        pattern = re.compile(stanza[f"token.{number}.token"])
        value = _value(
            stanza[f"token.{number}.replacementType"], stanza[f"token.{number}.replacement"], sample
        )

        def put(match: re.Match[str], value: str = value) -> str:
            if not match.re.groups:
                return value
            whole, start = match.group(0), match.start(1) - match.start(0)
            return whole[:start] + value + whole[start + len(match.group(1)) :]

        text = pattern.sub(put, text)
    return text


def _ingest(sample: str, tmp_path: Path) -> list[Event]:
    stanza = _stanza(sample)
    route = ROUTES[stanza["input_type"]]
    text = _tokenised(sample, stanza)
    if route is InputRoute.MODINPUT:  # one HEC event per sample event (line)
        pieces = [line for line in text.splitlines() if line.strip()]
    else:
        pieces = [text]
    paths = []
    for number, piece in enumerate(pieces):
        path = tmp_path / f"{number}_{sample}"
        path.write_text(piece + "\n", encoding="utf-8")
        paths.append(path)
    sink = Collect()
    explicit = stanza.get("timestamp_type") == "event" and route is InputRoute.MODINPUT
    run_sandbox(
        ta=load_ta(ADDON),
        samples=paths,
        sourcetype=stanza["sourcetype"],
        source=stanza.get("source"),
        host=None,
        settings=SandboxSettings(now=NOW),
        sinks=[sink],
        input_route=route,
        input_time=EVENT_TIME if explicit else None,
    )
    return sink.events


def _has_field(name: str) -> Callable[[list[Event]], bool]:
    return lambda events: any(event.fields.get(name) for event in events)


def _all(check: Callable[[Event], bool]) -> Callable[[list[Event]], bool]:
    return lambda events: bool(events) and all(check(event) for event in events)


@dataclass(frozen=True)
class Verdict:
    test: str
    """The e2e test as constants.py names it."""
    sample: str
    check: Callable[[list[Event]], bool]
    splunk_passed: bool


SCRIPTED = "test_scripted_input_one.samples"
SCRIPTED_FIELDS = (
    *("Mount", "mount", "r_avg_exe", "r_op_s", "read_latency", "read_ops", "total_ops"),
    *("vendor_product", "w_avg_exe", "w_op_s", "write_latency", "write_ops"),
)
VERDICTS = [
    *(
        Verdict(
            f"test_props_fields*test_scripted_input_sourcetype::field::{name}",
            SCRIPTED,
            _has_field(name),
            True,
        )
        for name in SCRIPTED_FIELDS
    ),
    Verdict(
        "test_indextime_time*test:indextime:uf_file_monitor_indexed_extraction::...",
        "uf_file_monitor_indexed_extraction.sample",
        _all(lambda event: event.time == EVENT_TIME and event.time_error is None),
        True,
    ),
    Verdict(
        "test_indextime_key_fields*test:indextime:uf_file_monitor_indexed_extraction::...",
        "uf_file_monitor_indexed_extraction.sample",
        _all(lambda e: e.fields.get("src") == [IPV4] and e.fields.get("dest_port") == [PORT]),
        True,
    ),
    Verdict(
        "test_indextime_time*test:indextime:uf_file_monitor_rename_sourcetype:source::...",
        "uf_file_monitor_rename_sourcetype.sample",
        _all(
            lambda e: (
                e.sourcetype == "test:indextime:uf_file_monitor_rename_sourcetype:source"
                and e.time == EVENT_TIME
            )
        ),
        True,
    ),
    Verdict(
        "test_indextime_key_fields*test:indextime:sourcetype:modinput_host_event_time_plugin::...",
        "modinput_host_event_time_plugin.samples",
        _all(lambda e: e.host == "host-modinput_host_event_time_plugin"),
        True,
    ),
    Verdict(
        "test_indextime_time*test:indextime:sourcetype:updated::test_regex_one.samples_1",
        "test_regex_one.samples",
        _all(
            lambda e: e.sourcetype == "test:indextime:sourcetype:updated" and e.time == EVENT_TIME
        ),
        True,
    ),
    Verdict(
        "test_indextime_key_fields*test:indextime:file_monitor_time_stamp_plugin::... (its "
        "events keep the sample's 2020 time, outside the test's earliest=-60m window)",
        "file_monitor_time_stamp_plugin.samples",
        _all(lambda e: e.time is not None and e.time >= NOW - timedelta(minutes=60)),
        False,
    ),
]


@pytest.mark.parametrize("verdict", VERDICTS, ids=[v.test.split("*")[1] for v in VERDICTS])
def test_the_sandbox_agrees_with_splunk(verdict: Verdict, tmp_path: Path) -> None:
    events = _ingest(verdict.sample, tmp_path)
    assert events, verdict.sample
    assert verdict.check(events) is verdict.splunk_passed, [
        (e.raw[:80], e.sourcetype, e.host, e.time) for e in events
    ]

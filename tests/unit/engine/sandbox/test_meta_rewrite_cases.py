"""Table cases: host, source and sourcetype rewritten at index time (TRANSFORMS to
MetaData:Host / MetaData:Source / MetaData:Sourcetype, INGEST_EVAL) choose the search-time props
stanzas, as transforms.conf.spec and props.conf.spec describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.conf.parse import parse_conf
from engine.conf.ta import TA
from engine.sandbox.events_out import event_record
from engine.sandbox.pipeline import run_sandbox
from engine.settings import SandboxSettings
from tests.unit.engine.sandbox.support import Collect

NOW = datetime(2024, 6, 10, tzinfo=UTC)
ST = "acme:raw"
LINE = "2024-05-02 11:00:00 host=fw07 kind=deny user=amy\n"
BASE = f"[{ST}]\nSHOULD_LINEMERGE = false\nEXTRACT-base = kind=(?<base_kind>\\w+)\n"
TO_FW = "[to_fw]\nREGEX = kind=deny\nDEST_KEY = MetaData:Sourcetype\nFORMAT = sourcetype::acme:fw\n"
KEYS = (
    "KEYS: MetaData:Host : The host associated with the event. The value must be prefixed by "
    '"host::" (transforms.conf.spec)'
)


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    props: str
    transforms: str
    meta: tuple[str, str, str]
    present: dict[str, str]
    absent: tuple[str, ...] = ()


CASES = [
    Case(
        "a sourcetype written at index time picks that sourcetype's search-time stanza",
        "MetaData:Sourcetype : The source type of the event. The value must be prefixed by "
        '"sourcetype::"',
        BASE + "TRANSFORMS-st = to_fw\n[acme:fw]\nEXTRACT-act = kind=(?<action>\\w+)\n",
        TO_FW,
        ("acme:fw", "<path>", "localhost"),
        {"action": "deny"},
        absent=("base_kind",),
    ),
    Case(
        "a host written at index time picks the [host::] stanza",
        KEYS + "; [host::<host>] settings override [<sourcetype>] settings (props.conf.spec)",
        BASE + "TRANSFORMS-h = host_from_raw\n[host::fw*]\nEXTRACT-base = user=(?<fw_user>\\w+)\n",
        "[host_from_raw]\nREGEX = host=(\\S+)\nDEST_KEY = MetaData:Host\nFORMAT = host::$1\n",
        (ST, "<path>", "fw07"),
        {"fw_user": "amy"},
        absent=("base_kind",),
    ),
    Case(
        "a source written at index time picks the [source::] stanza",
        "MetaData:Source : The source associated with the event. The value must be prefixed by "
        '"source::"; [source::<source>] settings override both [host::<host>] and '
        "[<sourcetype>] settings",
        BASE + 'TRANSFORMS-s = src\n[source::firewall:...]\nEVAL-origin = "firewall"\n',
        "[src]\nREGEX = kind=(\\w+)\nDEST_KEY = MetaData:Source\nFORMAT = source::firewall:$1\n",
        (ST, "firewall:deny", "localhost"),
        {"origin": "firewall", "base_kind": "deny"},
    ),
    Case(
        "a sourcetype renamed from the source (SOURCE_KEY = MetaData:Source)",
        "SOURCE_KEY = <string> ... For index-time extractions use the KEYs described at the "
        "bottom of this file",
        BASE + "TRANSFORMS-r = by_source\n[acme:app]\nEXTRACT-u = user=(?<app_user>\\w+)\n",
        "[by_source]\nSOURCE_KEY = MetaData:Source\nREGEX = ([a-z]+)\\.log$\n"
        "DEST_KEY = MetaData:Sourcetype\nFORMAT = sourcetype::acme:$1\n",
        ("acme:app", "<path>", "localhost"),
        {"app_user": "amy"},
    ),
    Case(
        "an INGEST_EVAL sourcetype picks the stanza too",
        "INGEST_EVAL: Keys which are commonly used with DEST_KEY ... Also available are values "
        '... ("source", "sourcetype", "host", ...)',
        BASE + 'TRANSFORMS-e = ie\n[acme:ie]\nEVAL-via = "ingest_eval"\n',
        '[ie]\nINGEST_EVAL = sourcetype="acme:ie", host=lower("FW-IE")\n',
        ("acme:ie", "<path>", "fw-ie"),
        {"via": "ingest_eval"},
        absent=("base_kind",),
    ),
    Case(
        "index-time settings stay those of the original sourcetype",
        "Index-time props come from the original metadata: the rewritten sourcetype's own "
        "TRANSFORMS do not run (the typing queue has already passed)",
        BASE
        + "TRANSFORMS-st = to_fw\n[acme:fw]\nTRANSFORMS-m = mark\n"
        + "EXTRACT-act = kind=(?<action>\\w+)\n",
        TO_FW + "[mark]\nREGEX = (.)\nFORMAT = marked::$1\nWRITE_META = true\n",
        ("acme:fw", "<path>", "localhost"),
        {"action": "deny"},
        absent=("marked",),
    ),
]


def _ta(case: Case) -> TA:
    ta = TA(app_id="TA-acme", version="1.0.0")
    ta.confs["props"] = parse_conf(case.props, path="default/props.conf")
    ta.confs["transforms"] = parse_conf(case.transforms, path="default/transforms.conf")
    return ta


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_meta_rewrite_case(case: Case, tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    sample.write_text(LINE, encoding="utf-8")
    sink = Collect()
    report = run_sandbox(
        ta=_ta(case),
        samples=[sample],
        sourcetype=ST,
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW),
        sinks=[sink],
    ).report
    assert report.config_errors == []
    (event,) = sink.events
    sourcetype, source, host = case.meta
    source = str(sample.resolve()) if source == "<path>" else source
    record = event_record(event)
    assert (record["sourcetype"], record["source"], record["host"]) == (sourcetype, source, host)
    assert {name: event.first(name) for name in case.present} == case.present
    for name in case.absent:
        assert name not in event.fields

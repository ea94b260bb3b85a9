"""End-to-end cases through run_sandbox: conf text + raw text -> events, times, fields, verdict.

Each case is one rule of props.conf.spec / transforms.conf.spec (or Splunk's documented
behaviour) exercised through the whole pipeline, complementing the per-stage suites.
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
from engine.sandbox.pipeline import SandboxResult, default_sourcetype, run_sandbox
from engine.settings import SandboxSettings
from tests.unit.engine.sandbox.support import Collect

NOW = datetime(2024, 6, 10, 0, 0, 0, tzinfo=UTC)
ST = "acme:app"


@dataclass
class Case:
    name: str
    raw: str
    props: str
    transforms: str = ""
    eventtypes: str = ""
    tags: str = ""
    lookups: dict[str, str] = field(default_factory=dict)
    events: list[str] | None = None
    times: list[str | None] | None = None
    fields: list[dict[str, str | list[str]]] | None = None
    tags_expected: list[list[str]] | None = None
    verdict: str | None = None


CASES = [
    Case(
        name="syslog line with EXTRACTs in class-name order and TIME_FORMAT without year",
        raw=(
            "Jun  3 10:01:02 web01 sshd[411]: Accepted password for bob from 10.1.1.1\n"
            "Jun  3 10:01:05 web01 sshd[412]: Failed password for eve from 10.1.1.2\n"
        ),
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %b %d %H:%M:%S\n"
            "MAX_TIMESTAMP_LOOKAHEAD = 15\n"
            "EXTRACT-a_host = ^\\w+\\s+\\d+ [\\d:]+ (?<dest>\\S+)\n"
            "EXTRACT-b_proc = (?<process>\\w+)\\[(?<pid>\\d+)\\]\n"
            "EXTRACT-c_auth = (?<result>Accepted|Failed) password for (?<user>\\S+) "
            "from (?<src>\\S+)\n"
        ),
        events=[
            "Jun  3 10:01:02 web01 sshd[411]: Accepted password for bob from 10.1.1.1",
            "Jun  3 10:01:05 web01 sshd[412]: Failed password for eve from 10.1.1.2",
        ],
        times=["2024-06-03T10:01:02+00:00", "2024-06-03T10:01:05+00:00"],
        fields=[
            {"dest": "web01", "process": "sshd", "pid": "411", "user": "bob", "src": "10.1.1.1"},
            {"result": "Failed", "user": "eve"},
        ],
    ),
    Case(
        name="LINE_BREAKER with a lookahead keeps multi-line events whole",
        raw=(
            "2024-05-01 10:00:00 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)\n"
            "2024-05-01 10:00:01 INFO ok\n"
        ),
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\n"
            "LINE_BREAKER = ([\\r\\n]+)(?=\\d{4}-\\d\\d-\\d\\d)\n"
            "TIME_FORMAT = %Y-%m-%d %H:%M:%S\nEXTRACT-level = ^\\S+ \\S+ (?<level>[A-Z]+)\n"
        ),
        events=[
            "2024-05-01 10:00:00 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)",
            "2024-05-01 10:00:01 INFO ok",
        ],
        times=["2024-05-01T10:00:00+00:00", "2024-05-01T10:00:01+00:00"],
        fields=[{"level": "ERROR"}, {"level": "INFO"}],
    ),
    Case(
        name="SHOULD_LINEMERGE default (BREAK_ONLY_BEFORE_DATE) merges lines without a date",
        raw=("2024-05-01T10:00:00Z start job\ncontinuation line\n2024-05-01T10:00:02Z end job\n"),
        props=f"[{ST}]\nTIME_FORMAT = %Y-%m-%dT%H:%M:%SZ\n",
        events=[
            "2024-05-01T10:00:00Z start job\ncontinuation line",
            "2024-05-01T10:00:02Z end job",
        ],
        times=["2024-05-01T10:00:00+00:00", "2024-05-01T10:00:02+00:00"],
    ),
    Case(
        name="TIME_PREFIX and TZ: an offset-less time is read in the configured zone",
        raw="id=7 ts=[2024-03-10 08:30:00] msg=hello\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_PREFIX = ts=\\[\n"
            "TIME_FORMAT = %Y-%m-%d %H:%M:%S\nTZ = America/New_York\n"
        ),
        times=["2024-03-10T08:30:00-04:00"],
        fields=[{"id": "7", "msg": "hello"}],
    ),
    Case(
        name="KV_MODE=json with nested objects gives dotted names; FIELDALIAS renames",
        raw=(
            '{"ts": "2024-04-01T00:00:01Z", "user": {"name": "amy"}, '
            '"ips": ["1.1.1.1", "2.2.2.2"]}\n'
        ),
        props=(
            f'[{ST}]\nSHOULD_LINEMERGE = false\nKV_MODE = json\nTIME_PREFIX = "ts": "\n'
            "TIME_FORMAT = %Y-%m-%dT%H:%M:%SZ\nFIELDALIAS-user = user.name AS user\n"
        ),
        times=["2024-04-01T00:00:01+00:00"],
        fields=[{"user.name": "amy", "user": "amy", "ips{}": ["1.1.1.1", "2.2.2.2"]}],
    ),
    Case(
        name="REPORT with DELIMS and FIELDS names positional values",
        raw="2024-05-02 11:00:00|GET|/index.html|200\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n"
            "KV_MODE = none\nREPORT-pipe = acme_pipe\n"
        ),
        transforms='[acme_pipe]\nDELIMS = "|"\nFIELDS = time, http_method, uri_path, status\n',
        fields=[{"http_method": "GET", "uri_path": "/index.html", "status": "200"}],
    ),
    Case(
        name="REPORT FORMAT $1::$2 extracts every pair; MV_ADD collects repeats",
        raw="2024-05-02 11:00:00 tag:a tag:b k1:v1\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n"
            "KV_MODE = none\nREPORT-pairs = acme_pairs\n"
        ),
        transforms=("[acme_pairs]\nREGEX = (\\w+):(\\w+)\nFORMAT = $1::$2\nMV_ADD = true\n"),
        fields=[{"tag": ["a", "b"], "k1": "v1"}],
    ),
    Case(
        name="EVALs all see pre-EVAL values; FIELDALIAS runs before EVAL",
        raw="2024-05-02 11:00:00 bytes_in=10 bytes_out=5 Action=ALLOW\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n"
            "FIELDALIAS-act = Action AS vendor_action\n"
            "EVAL-bytes = bytes_in + bytes_out\n"
            'EVAL-action = case(vendor_action=="ALLOW", "allowed", true(), "blocked")\n'
            "EVAL-bytes_in = bytes_in * 2\n"
            "EVAL-total = bytes_in + bytes_out\n"
        ),
        fields=[
            {
                "bytes": "15",
                "total": "15",
                "bytes_in": "20",
                "action": "allowed",
                "vendor_action": "ALLOW",
            }
        ],
    ),
    Case(
        name="LOOKUP from a CSV file with OUTPUT, matched after EVAL",
        raw="2024-05-02 11:00:00 code=404\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n"
            "LOOKUP-status = acme_status status OUTPUT description\n"
            "EVAL-status = code\n"
        ),
        transforms="[acme_status]\nfilename = acme_status.csv\n",
        lookups={"acme_status.csv": "status,description\n200,OK\n404,Not Found\n"},
        fields=[{"status": "404", "description": "Not Found"}],
    ),
    Case(
        name="eventtypes and tags make a CIM Authentication event that passes compliance",
        raw=("2024-05-02 11:00:00 action=success app=sshd user=bob src=10.0.0.2 dest=srv1\n"),
        props=f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n",
        eventtypes=f"[acme_auth]\nsearch = sourcetype={ST} action=*\n",
        tags="[eventtype=acme_auth]\nauthentication = enabled\n",
        tags_expected=[["authentication"]],
        verdict="PASSED",
    ),
    Case(
        name="a CIM event with a negative value fails the verdict",
        raw="2024-05-02 11:00:00 action=success app=sshd user=- src=10.0.0.2 dest=srv1\n",
        props=f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n",
        eventtypes=f"[acme_auth]\nsearch = sourcetype={ST}\n",
        tags="[eventtype=acme_auth]\nauthentication = enabled\n",
        verdict="FAILED",
    ),
    Case(
        name="INDEXED_EXTRACTIONS=csv names fields from the header; TIMESTAMP_FIELDS sets time",
        raw="when,user,bytes\n2024-05-03 01:02:03,ann,12\n2024-05-03 01:02:04,ben,13\n",
        props=(
            f"[{ST}]\nINDEXED_EXTRACTIONS = csv\nTIMESTAMP_FIELDS = when\n"
            "TIME_FORMAT = %Y-%m-%d %H:%M:%S\nKV_MODE = none\n"
        ),
        events=["2024-05-03 01:02:03,ann,12", "2024-05-03 01:02:04,ben,13"],
        times=["2024-05-03T01:02:03+00:00", "2024-05-03T01:02:04+00:00"],
        fields=[{"user": "ann", "bytes": "12"}, {"user": "ben", "bytes": "13"}],
    ),
    Case(
        name="TRANSFORMS nullQueue drops matching events at index time",
        raw="2024-05-02 11:00:00 DEBUG noise\n2024-05-02 11:00:01 INFO kept\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n"
            "TRANSFORMS-drop = acme_drop_debug\n"
        ),
        transforms=("[acme_drop_debug]\nREGEX = DEBUG\nDEST_KEY = queue\nFORMAT = nullQueue\n"),
        events=["2024-05-02 11:00:01 INFO kept"],
    ),
    Case(
        name="SEDCMD masks the raw text before search time sees it",
        raw="2024-05-02 11:00:00 card=4111111111111111 user=x\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\n"
            "SEDCMD-mask = s/card=\\d{12}/card=XXXXXXXXXXXX/g\n"
        ),
        events=["2024-05-02 11:00:00 card=XXXXXXXXXXXX1111 user=x"],
        fields=[{"card": "XXXXXXXXXXXX1111", "user": "x"}],
    ),
    Case(
        name="TRUNCATE cuts long events and the verdict reports it",
        raw="2024-05-02 11:00:00 " + "x" * 200 + "\n",
        props=(
            f"[{ST}]\nSHOULD_LINEMERGE = false\nTIME_FORMAT = %Y-%m-%d %H:%M:%S\nTRUNCATE = 50\n"
        ),
        events=["2024-05-02 11:00:00 " + "x" * 30],
        verdict="FAILED",
    ),
]


APP_CONF = "[package]\nid = TA-acme\n\n[id]\nname = TA-acme\nversion = 1.0.0\n"


def _ta(case: Case) -> TA:
    ta = TA(app_id="TA-acme", version="1.0.0")
    ta.confs["app"] = parse_conf(APP_CONF, path="default/app.conf")
    for name in ("props", "transforms", "eventtypes", "tags"):
        text = getattr(case, name)
        if text:
            ta.confs[name] = parse_conf(text, path=f"default/{name}.conf")
    ta.lookups = {name: body.encode("utf-8") for name, body in case.lookups.items()}
    return ta


def _run(case: Case, tmp_path: Path) -> tuple[SandboxResult, list[Event]]:
    sample = tmp_path / "sample.log"
    sample.write_text(case.raw, encoding="utf-8")
    sink = Collect()
    result = run_sandbox(
        ta=_ta(case),
        samples=[sample],
        sourcetype=ST,
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW, min_field_coverage=0.0),
        sinks=[sink],
    )
    return result, sink.events


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, tmp_path: Path) -> None:
    result, events = _run(case, tmp_path)
    if case.events is not None:
        assert [event.raw for event in events] == case.events
    if case.times is not None:
        got = [event.time.isoformat() if event.time else None for event in events]
        assert got == case.times
    if case.fields is not None:
        assert len(events) == len(case.fields)
        for event, expected in zip(events, case.fields, strict=True):
            for name, value in expected.items():
                wanted = [value] if isinstance(value, str) else value
                assert event.fields.get(name) == wanted, f"{name} in {event.fields}"
    if case.tags_expected is not None:
        assert [sorted(event.tags) for event in events] == case.tags_expected
    if case.verdict is not None:
        assert result.report.verdict == case.verdict, result.report.reasons
    assert result.report.events == len(events)


def test_cases_are_many_enough() -> None:
    assert len(CASES) >= 10


def test_sourcetype_defaults_to_the_only_stanza_else_the_file_stem(tmp_path: Path) -> None:
    one = TA(app_id="TA-one", version="1.0.0")
    one.confs["props"] = parse_conf("[only:st]\nKV_MODE = none\n[source::/x]\nTZ = UTC\n")
    assert default_sourcetype(one, Path("/logs/web.log")) == "only:st"
    two = TA(app_id="TA-two", version="1.0.0")
    two.confs["props"] = parse_conf("[a]\nKV_MODE = none\n[b]\nKV_MODE = none\n")
    assert default_sourcetype(two, Path("/logs/web.log")) == "web"


def test_cim_report_names_stanza_dataset_and_failing_field(tmp_path: Path) -> None:
    case = next(case for case in CASES if case.name.startswith("a CIM event with a negative"))
    result, _ = _run(case, tmp_path)
    cim = result.report.cim
    assert (cim.tagged_events, cim.compliant_events) == (1, 0)
    summary = next(item for item in cim.datasets if item.dataset == "Authentication")
    assert summary.stanza == "eventtype=acme_auth"
    assert summary.fields["user"].problems == {"negative": 1}
    assert result.failing_events and result.failing_events[0].fields["user"] == ["-"]


def test_max_events_stops_the_run_and_warns(tmp_path: Path) -> None:
    sample = tmp_path / "many.log"
    sample.write_text("".join(f"2024-05-02 11:00:{i:02d} n={i}\n" for i in range(30)))
    ta = TA(app_id="TA-acme", version="1.0.0")
    ta.confs["props"] = parse_conf(f"[{ST}]\nSHOULD_LINEMERGE = false\n")
    result = run_sandbox(
        ta=ta,
        samples=[sample, sample],
        sourcetype=ST,
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW, max_events=10),
    )
    assert result.report.events == 10
    assert any("max_events" in warning for warning in result.report.warnings)


def _props_ta(props: str, transforms: str = "") -> TA:
    return _ta(Case(name="inline", raw="", props=props, transforms=transforms))


def _events(ta: TA, sample: Path, **metadata: str | None) -> list[Event]:
    sink = Collect()
    run_sandbox(
        ta=ta,
        samples=[sample],
        sourcetype=metadata.get("sourcetype", ST),
        source=metadata.get("source"),
        host=metadata.get("host"),
        settings=SandboxSettings(now=NOW),
        sinks=[sink],
    )
    return sink.events


def test_source_and_host_stanzas_apply_to_the_given_metadata(tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    sample.write_text("2024-05-02 11:00:00 a=1\n", encoding="utf-8")
    ta = _props_ta(
        f"[{ST}]\nSHOULD_LINEMERGE = false\nEXTRACT-who = (?<who>a)=\n"
        "[host::web*]\nEXTRACT-who = (?<host_rule>a)=\n"
        '[source::.../app.log]\nEVAL-from_source = "yes"\n'
    )
    on_web = _events(ta, sample, host="web01")[0]
    assert on_web.fields.get("host_rule") == ["a"]  # [host::] overrides [sourcetype]
    assert "who" not in on_web.fields
    assert on_web.fields.get("from_source") == ["yes"]  # source defaults to the file path
    elsewhere = _events(ta, sample, host="db01", source="/other/x.log")[0]
    assert elsewhere.fields.get("who") == ["a"]
    assert "from_source" not in elsewhere.fields


def test_search_time_uses_the_sourcetype_an_index_time_transform_wrote(tmp_path: Path) -> None:
    sample = tmp_path / "mixed.log"
    sample.write_text("2024-05-02 11:00:00 FW deny\n2024-05-02 11:00:01 OS boot\n")
    ta = _props_ta(
        f"[{ST}]\nSHOULD_LINEMERGE = false\nTRANSFORMS-route = acme_fw\n"
        "[acme:fw]\nEXTRACT-act = FW (?<action>\\w+)\n",
        "[acme_fw]\nREGEX = \\sFW\\s\nDEST_KEY = MetaData:Sourcetype\n"
        "FORMAT = sourcetype::acme:fw\n",
    )
    fw, other = _events(ta, sample)
    assert (fw.sourcetype, fw.fields.get("action")) == ("acme:fw", ["deny"])
    assert other.sourcetype == ST
    assert "action" not in other.fields


def test_utf16_samples_with_a_bom_are_read_like_utf8(tmp_path: Path) -> None:
    sample = tmp_path / "win.log"
    sample.write_bytes("2024-05-02 11:00:00 user=zoë\n".encode("utf-16"))
    ta = _props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\n")
    (event,) = _events(ta, sample)
    assert event.raw == "2024-05-02 11:00:00 user=zoë"
    assert event.fields.get("user") == ["zoë"]
    assert event.time is not None


def test_settings_splunk_cannot_apply_fail_the_verdict_with_the_reason(tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    sample.write_text("2024-05-02 11:00:00 a=1\n", encoding="utf-8")
    ta = _props_ta(f"[{ST}]\nLINE_BREAKER = [\\r\\n]+\n")
    result = run_sandbox(
        ta=ta,
        samples=[sample],
        sourcetype=ST,
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW),
    )
    report = result.report
    assert report.verdict == "FAILED"
    assert report.events == 0
    assert report.config_errors and "no capturing group" in report.config_errors[0]
    assert report.reasons[0].startswith(f"configuration error: [{ST}] LINE_BREAKER")


def test_a_cim_mapping_no_sample_event_reaches_is_reported(tmp_path: Path) -> None:
    case = Case(
        name="untested mapping",
        raw="2024-05-02 11:00:00 action=success user=bob\n",
        props=f"[{ST}]\nSHOULD_LINEMERGE = false\n",
        eventtypes="[acme_web]\nsearch = sourcetype=other:st\n",
        tags="[eventtype=acme_web]\nweb = enabled\n",
    )
    result, _ = _run(case, tmp_path)
    assert result.report.cim.stanza_models == {"eventtype=acme_web": ["Web"]}
    assert result.report.cim.tagged_events == 0
    assert any(
        "[eventtype=acme_web] maps to Web but no sample event" in warning
        for warning in result.report.warnings
    )


def test_the_run_leaves_the_ta_as_it_was(tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    sample.write_text("2024-05-02 11:00:00 a=1\n", encoding="utf-8")
    ta = _props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\n")
    _events(ta, sample)
    assert set(ta.confs) == {"app", "props"}  # no empty transforms/eventtypes/tags appear


def _report(ta: TA, sample: Path):
    return run_sandbox(
        ta=ta,
        samples=[sample],
        sourcetype=ST,
        source=None,
        host=None,
        settings=SandboxSettings(now=NOW),
    ).report


def test_a_runaway_line_breaker_fails_the_verdict_with_the_reason(tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    sample.write_text("2024-05-02 11:00:00 a=1\n" + "a" * 40 + "!\n", encoding="utf-8")
    ta = _props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\nLINE_BREAKER = ((a+)+)$\n")
    report = _report(ta, sample)
    assert report.verdict == "FAILED"
    (reason,) = [r for r in report.reasons if "event breaking" in r]
    assert reason.startswith(f"configuration error: [{ST}] event breaking of {sample}")
    assert "((a+)+)$" in reason and "limit" in reason


def test_index_time_drops_and_regex_errors_are_reported(tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    slow = "a" * 40 + "!"
    sample.write_text(
        "2024-05-02 11:00:00 keep a=1\n2024-05-02 11:00:01 noise a=2\n"
        f"2024-05-02 11:00:02 {slow}\n",
        encoding="utf-8",
    )
    ta = _props_ta(
        f"[{ST}]\nSHOULD_LINEMERGE = false\nTRANSFORMS-q = drop_noise, slow\n",
        "[drop_noise]\nREGEX = noise\nDEST_KEY = queue\nFORMAT = nullQueue\n\n"
        "[slow]\nREGEX = ((a+)+)$\nDEST_KEY = queue\nFORMAT = nullQueue\n",
    )
    report = _report(ta, sample)
    assert (report.events, report.dropped_events, report.index_regex_errors) == (2, 1, 1)
    (warning,) = [w for w in report.warnings if "index-time regex" in w]
    assert warning.startswith(f"{sample}: 1 index-time regex run(s) stopped")
    assert "transforms.conf [slow]" in warning


@pytest.mark.parametrize(
    ("data", "charset", "user"),
    [
        ("user=zoë".encode("latin-1"), "latin-1", "zoë"),
        ("user=zoë".encode("latin-1"), "AUTO", "zoë"),  # not UTF-8: sniffed as Latin-1
        ("user=zoë".encode("latin-1"), "UTF-8", "zo\\xEB"),  # Splunk writes invalid bytes
        ("user=café".encode(), "latin-1", "cafÃ©"),  # UTF-8 bytes read as Latin-1 on request
        ("user=café".encode(), "AUTO", "café"),
    ],
    ids=["latin1-as-latin1", "latin1-auto", "latin1-as-utf8", "utf8-as-latin1", "utf8-auto"],
)
def test_charset_from_props_decodes_the_sample(
    data: bytes, charset: str, user: str, tmp_path: Path
) -> None:
    sample = tmp_path / "legacy.log"
    sample.write_bytes(b"2024-05-02 11:00:00 " + data + b"\n")
    ta = _props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\nCHARSET = {charset}\n")
    (event,) = _events(ta, sample)
    assert event.fields.get("user") == [user]


LINE = "2024-05-02 11:00:00 user={}\n"


@pytest.mark.parametrize(
    ("data", "user", "tail"),
    [
        # props.conf.spec CHARSET: "Default (otherwise): UTF-8" and "If the source encoding is
        # valid, but some characters from the [<spec>] are not valid in the specified
        # encoding, then the characters are escaped as hex (for example, "\\xF3")."
        (LINE.format("zoë").encode("latin-1"), "zo\\xEB", "zo\\xEB"),  # not sniffed as Latin-1
        (LINE.format("café").encode(), "café", "café"),
        (LINE.format("café x=ÿ").encode().replace("ÿ".encode(), b"\xff"), "café", "x=\\xFF"),
        (LINE.format("zoë").encode("utf-8-sig"), "zoë", "zoë"),  # the UTF-8 BOM is not text
        (LINE.format("zoë").encode("utf-16"), "zoë", "zoë"),  # a UTF-16 BOM names its encoding
    ],
    ids=["latin1", "utf8", "utf8-stray-byte", "utf8-bom", "utf16-bom"],
)
def test_without_charset_samples_are_read_as_utf8(
    data: bytes, user: str, tail: str, tmp_path: Path
) -> None:
    sample = tmp_path / "legacy.log"
    sample.write_bytes(data)
    (event,) = _events(_props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\n"), sample)
    assert event.fields.get("user") == [user]
    assert event.raw.startswith("2024-05-02 11:00:00 user=") and event.raw.endswith(tail)


def test_without_charset_bomless_utf16_is_not_text(tmp_path: Path) -> None:
    """Read as UTF-8 (the default CHARSET), UTF-16 without a BOM is full of NUL bytes: a binary
    file, as Splunk's file monitor skips one, where CHARSET = UTF-16LE (what the generator
    writes for such samples) or AUTO reads it."""
    sample = tmp_path / "win.log"
    sample.write_bytes("2024-05-02 11:00:00 user=zoë\n".encode("utf-16-le"))
    with pytest.raises(SampleError, match="binary file"):
        _events(_props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\n"), sample)
    for charset in ("UTF-16LE", "AUTO"):
        ta = _props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\nCHARSET = {charset}\n")
        (event,) = _events(ta, sample)
        assert event.fields.get("user") == ["zoë"]


def test_an_unknown_charset_is_a_configuration_error(tmp_path: Path) -> None:
    sample = tmp_path / "app.log"
    sample.write_text("2024-05-02 11:00:00 user=bob\n", encoding="utf-8")
    ta = _props_ta(f"[{ST}]\nSHOULD_LINEMERGE = false\nCHARSET = klingon-8\n")
    report = _report(ta, sample)
    assert report.verdict == "FAILED"
    assert report.config_errors == [f"[{ST}] CHARSET = 'klingon-8' is not a known encoding"]
    assert report.events == 1  # read as UTF-8, so the rest of the report still helps

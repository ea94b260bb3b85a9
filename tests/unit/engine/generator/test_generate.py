"""generate_ta end to end on small hand-written samples: TA content, self-check, repair, package."""

from __future__ import annotations

import json
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from engine.conf.parse import parse_conf
from engine.conf.ta import load_ta
from engine.generator.breaking import UNLESS_CONTINUED
from engine.generator.generate import generate_ta, split_events
from engine.generator.model import (
    AnalysisContext,
    BreakingPlan,
    FieldInfo,
    FieldPlan,
    FormatGuess,
    GenerationError,
    GenerationRequest,
    GenerationResult,
)
from engine.generator.planner import RulePlanner
from engine.generator.redact import Redactor
from engine.samples import SampleSet, read_sample_set
from engine.sandbox.pipeline import run_sandbox
from engine.sandbox.routes import InputRoute
from engine.sandbox.validate import validate_package
from engine.settings import SandboxSettings

SYSLOG = "".join(
    f"Mar {day:2d} 10:0{day % 10}:0{day % 6} gw{day % 3} sshd[{100 + day}]: "
    f"Failed password for user{day % 4} from 10.0.{day}.{day + 1} port {2000 + day} ssh2\n"
    for day in range(1, 21)
)
JAVA = "".join(
    f"2024-01-05 10:00:{second:02d},{second:03d} ERROR [main] com.acme.App - job {second} "
    "failed\njava.lang.IllegalStateException: bad state\n\tat com.acme.App.run(App.java:10)\n"
    "\tat com.acme.App.main(App.java:5)\n"
    for second in range(12)
)


def _sample(tmp_path: Path, text: str, name: str = "sample.log") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _request(sample: Path, **changes: object) -> GenerationRequest:
    request = GenerationRequest(samples=(sample,), source_system="Acme SSH")
    return replace(request, **changes)  # type: ignore[arg-type]


def test_syslog_ta_is_complete_and_checks_itself(tmp_path: Path) -> None:
    result = generate_ta(_request(_sample(tmp_path, SYSLOG)), out_dir=tmp_path / "out")
    assert (result.name, result.sourcetype) == ("TA-acme-ssh", "acme_ssh:syslog")
    assert result.format.kind == "syslog3164" and result.check.passed
    ta = load_ta(result.ta_dir)
    assert ta.version == "1.0.0"
    props = ta.props.get("acme_ssh:syslog")
    assert props["SHOULD_LINEMERGE"] == "false"
    assert props["LINE_BREAKER"] == UNLESS_CONTINUED  # single lines, stack traces kept
    assert props["TIME_FORMAT"] == "%b %d %H:%M:%S" and props["TZ"] == "UTC"
    readme = (result.ta_dir / "README.md").read_text(encoding="utf-8")
    assert "`acme_ssh:syslog`" in readme and "## Fields" in readme and "## CIM mapping" in readme
    assert not (result.ta_dir / "samples").exists()
    assert result.package.is_file() and len(result.sha256) == 64
    with tarfile.open(result.package) as archive:
        assert all(name.startswith("TA-acme-ssh") for name in archive.getnames())


def test_generation_is_deterministic(tmp_path: Path) -> None:
    sample = _sample(tmp_path, SYSLOG)
    first = generate_ta(_request(sample), out_dir=tmp_path / "a")
    second = generate_ta(_request(sample), out_dir=tmp_path / "b")
    assert first.sha256 == second.sha256
    assert first.package.read_bytes() == second.package.read_bytes()
    again = generate_ta(_request(sample), out_dir=tmp_path / "a")  # replaces the earlier TA
    assert again.sha256 == first.sha256


def test_multiline_events_are_broken_on_their_start(tmp_path: Path) -> None:
    sample = _sample(tmp_path, JAVA)
    result = generate_ta(_request(sample, cim_required=False), out_dir=tmp_path / "out")
    assert result.breaking.multiline and result.format.kind == "multiline"
    checked = run_sandbox(
        ta=load_ta(result.ta_dir),
        samples=[sample],
        sourcetype=result.sourcetype,
        source=None,
        host=None,
        settings=SandboxSettings(),
    )
    assert checked.report.events == 12
    assert checked.report.timestamps.ratio == 1.0


def test_comment_headers_never_become_events(tmp_path: Path) -> None:
    text = "#separator \\x09\n#fields\tts\tuid\tproto\n" + "".join(
        f"17000000{i:02d}.123456\tC{i}\ttcp\n" for i in range(10)
    )
    result = generate_ta(
        _request(_sample(tmp_path, text), cim_required=False), out_dir=tmp_path / "out"
    )
    transforms = load_ta(result.ta_dir).transforms.get("tagen_skip_non_events")
    assert transforms == {"REGEX": "^\\#", "DEST_KEY": "queue", "FORMAT": "nullQueue"}
    assert result.check.passed


@pytest.mark.parametrize("rows", [1, 3])
def test_header_lines_never_outvote_the_events_timestamps(tmp_path: Path, rows: int) -> None:
    # More `#` header lines (two with their own dates) than rows: the rows' epoch `ts` wins.
    text = (
        "#separator \\x09\n#set_separator\t,\n#path\tweird\n#open\t2026-11-01-10-00-00\n"
        "#fields\tts\tuid\tname\n#types\ttime\tstring\tstring\n"
        + "".join(f"178000000{i}.123456\tC{i}\tdup_ack\n" for i in range(rows))
        + "#close\t2026-11-01-10-00-01\n"
    )
    result = generate_ta(
        _request(_sample(tmp_path, text), cim_required=False), out_dir=tmp_path / "out"
    )
    settings = result.timestamps.settings()
    assert "DATETIME_CONFIG" not in settings and result.timestamps.success == 1.0
    assert result.check.passed


def test_redacted_samples_ship_only_masked_data(tmp_path: Path) -> None:
    text = "".join(
        f"2024-02-0{i} 12:00:00 login user=bob{i}@corp.example src=172.16.5.{i} "
        f"password=hunter{i}\n"
        for i in range(1, 8)
    )
    request = _request(_sample(tmp_path, text), redact=True, include_samples=True)
    result = generate_ta(request, out_dir=tmp_path / "out")
    shipped = [p for p in result.ta_dir.rglob("*") if p.is_file()]
    names = {p.relative_to(result.ta_dir).as_posix() for p in shipped}
    assert {"samples/acme_ssh_kv.log", "samples/pytest-splunk-addon-data.conf"} <= names
    for path in shipped:
        content = path.read_text(encoding="utf-8")
        assert "172.16.5." not in content and "@corp.example" not in content, path
        assert "hunter" not in content, path
    data_conf = parse_conf((result.ta_dir / "samples/pytest-splunk-addon-data.conf").read_text())
    assert data_conf.get("acme_ssh_kv.log")["sourcetype"] == "acme_ssh:kv"


class _BadFieldsPlanner(RulePlanner):
    """A planner (as an LLM might) proposing a regex that matches nothing and a tiny TRUNCATE."""

    def plan_breaking(self, sample: SampleSet, fmt: FormatGuess) -> BreakingPlan:
        return replace(super().plan_breaking(sample, fmt), truncate=40)

    def plan_fields(self, context: AnalysisContext) -> FieldPlan:
        plan = super().plan_fields(context)
        bogus = {
            "EXTRACT-bogus": r"^NEVER (?<never_seen>\d+)",
            "EXTRACT-slow": r"(?<slow>(a+)+)$",  # catastrophic on "aaaa...!"
        }
        infos = (
            FieldInfo("never_seen", ("1",), "EXTRACT-bogus"),
            FieldInfo("slow", ("aaaa",), "EXTRACT-slow"),
        )
        return replace(plan, props={**plan.props, **bogus}, fields=(*plan.fields, *infos))


def test_proposals_pass_through_repair(tmp_path: Path) -> None:
    text = SYSLOG.replace(" ssh2\n", " ssh2 " + "a" * 40 + "!\n")
    request = _request(_sample(tmp_path, text), cim_required=False)
    result = generate_ta(request, out_dir=tmp_path / "out", planner=_BadFieldsPlanner())
    assert result.check.passed and result.check.rounds > 1
    props = load_ta(result.ta_dir).props.get(result.sourcetype)
    assert "EXTRACT-bogus" not in props and "EXTRACT-slow" not in props
    assert int(props["TRUNCATE"]) > 40
    assert any("TRUNCATE" in repair for repair in result.check.repairs)
    assert not any(item.name == "never_seen" for item in result.fields.fields)


def test_sample_subset_is_bounded_whole_lines_and_spread(tmp_path: Path) -> None:
    head = SYSLOG * 400
    tail = "".join(f"2024-06-01 00:00:{i % 60:02d} late layout {i}\n" for i in range(4000))
    sample = _sample(tmp_path, head + tail)
    subset = read_sample_set([sample], max_chars=300_000)
    assert subset.subset and len(subset.text) <= 300_000 and subset.text.endswith("\n")
    assert all(line.startswith(("Mar", "2024-06-01")) for line in subset.lines)
    assert any(line.startswith("2024-06-01") for line in subset.lines)  # the tail was seen
    crlf = _sample(tmp_path, SYSLOG.replace("\n", "\r\n"), "crlf.log")
    assert "\r" not in read_sample_set([crlf]).text


def test_split_events_follows_line_breaker() -> None:
    plan = BreakingPlan(r"([\r\n]+)(?=\d{4}-)", 10_000, r"([\r\n]+)(?=\d{4}-)", True)
    assert split_events("2024-01-01 a\n b\n2024-01-02 c\n", plan) == [
        "2024-01-01 a\n b",
        "2024-01-02 c",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\x00\x01\x02binary\x00" * 50, "binary"), (b"\n\n  \n", "whitespace")],
)
def test_bad_samples_raise_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.log"
    path.write_bytes(content)
    with pytest.raises(GenerationError, match=message):
        generate_ta(_request(path), out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_names_are_refused(tmp_path: Path) -> None:
    sample = _sample(tmp_path, SYSLOG)
    with pytest.raises(GenerationError, match="sourcetype"):
        generate_ta(_request(sample, sourcetype="bad::name"), out_dir=tmp_path / "out")
    with pytest.raises(GenerationError):
        generate_ta(_request(sample, name="../escape"), out_dir=tmp_path / "out")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("from 10.1.2.3 to 10.1.2.3", "from 192.0.2.1 to 192.0.2.1"),
        ("mail bob@corp.example now", "mail user1@example.com now"),
        ("db_password: s3cret ok", "db_password: REDACTED ok"),
        ("Authorization: Bearer abcdefghijkl12345", "Authorization: REDACTED REDACTED"),
        ("peer fe80::1:2:3 at 12:34:56", "peer 2001:db8::1 at 12:34:56"),
        ("input_userauth_request: invalid user x", "input_userauth_request: invalid user x"),
    ],
)
def test_redaction_masks_personal_data_and_secrets_only(text: str, masked: str) -> None:
    assert Redactor().redact(text) == masked


def test_readme_redaction_leaves_nothing_ip_shaped() -> None:
    redactor = Redactor(ip_shape=False)
    assert redactor.redact("a 10.1.2.3 b ::1 c 10.1.2.3") == "a <ipv4-1> b <ipv6-1> c <ipv4-1>"


def test_utf16_crlf_samples_read_like_utf8(tmp_path: Path) -> None:
    path = tmp_path / "win.log"
    path.write_bytes(b"\xff\xfe" + SYSLOG.replace("\n", "\r\n").encode("utf-16-le"))
    result = generate_ta(_request(path, cim_required=False), out_dir=tmp_path / "out")
    assert result.format.kind == "syslog3164" and result.check.passed
    assert result.timestamps.time_format == "%b %d %H:%M:%S"


def test_an_unrelated_folder_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "TA-acme-ssh").mkdir(parents=True)
    (out / "TA-acme-ssh" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(GenerationError, match="not a generated add-on"):
        generate_ta(_request(_sample(tmp_path, SYSLOG)), out_dir=out)
    assert (out / "TA-acme-ssh" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_several_sample_files_are_analysed_together(tmp_path: Path) -> None:
    lines = SYSLOG.splitlines(keepends=True)
    first = _sample(tmp_path, "".join(lines[:10]), "a.log")
    second = _sample(tmp_path, "".join(lines[10:]), "b.log")
    subset = read_sample_set([first, second])
    assert len(subset.lines) == 20 and subset.sources == (str(first), str(second))
    result = generate_ta(
        GenerationRequest(samples=(first, second), source_system="Acme SSH"),
        out_dir=tmp_path / "out",
    )
    assert result.check.passed and result.timestamps.success == 1.0


def _readme(result: GenerationResult) -> str:
    return (result.ta_dir / "README.md").read_text(encoding="utf-8")


def test_events_without_a_timestamp_are_named_not_failed(tmp_path: Path) -> None:
    # A third of the lines lack the syslog header and any time: no rule can read them.
    lines = [
        f"myapp[{i}]: session {i} opened for u{i}"
        if i % 3 == 0
        else f"<13>Nov  {1 + i % 9} 10:{i:02d}:00 host myapp[{i}]: session {i} opened for u{i}"
        for i in range(30)
    ]
    result = generate_ta(
        _request(_sample(tmp_path, "\n".join(lines) + "\n"), cim_required=False),
        out_dir=tmp_path / "out",
    )
    assert result.check.passed, result.check.problems
    assert result.timestamps.time_format == "%b %d %H:%M:%S"
    readme = _readme(result)
    assert "10 of 30 sampled events carry no timestamp (e.g. `myapp[0]: session 0" in readme
    assert "The timestamp rule read 20 of the 30 sampled events (67%)" in readme


def test_a_three_line_sample_keeps_its_verified_rule_and_says_it_was_small(
    tmp_path: Path,
) -> None:
    text = "".join(f"27/06/2026:22:38:1{i}  host-1 APPFW blocked {i}\n" for i in range(3))
    result = generate_ta(_request(_sample(tmp_path, text)), out_dir=tmp_path / "out")
    assert result.timestamps.time_format == "%d/%m/%Y:%H:%M:%S" and result.check.passed
    assert "The sample was small: the timestamp rule was verified on 3 events" in _readme(result)


def test_dates_older_than_splunk_accepts_are_explained(tmp_path: Path) -> None:
    text = "".join(
        f"1986-04-26T01:23:4{i}.101+04:00 host shutdown[1]: halt {i}\n" for i in range(6)
    )
    result = generate_ta(_request(_sample(tmp_path, text)), out_dir=tmp_path / "out")
    assert result.check.passed, result.check.problems
    readme = _readme(result)
    assert "6 of 6 sampled events are dated more than 10951 days ago" in readme


@pytest.mark.parametrize(
    ("encoding", "bom", "charset"),
    [
        ("latin-1", b"", "ISO-8859-1"),
        ("utf-16-le", b"\xff\xfe", "UTF-16LE"),
        ("utf-16-be", b"", "UTF-16BE"),
        ("utf-8", b"", None),
    ],
)
def test_samples_that_are_not_utf8_get_the_charset_splunk_needs(
    tmp_path: Path, encoding: str, bom: bytes, charset: str | None
) -> None:
    text = "".join(
        f"2024-03-0{i} 10:00:00 login user=jos\u00e9{i} city=S\u00e3o_Paulo status=ok\n"
        for i in range(1, 8)
    )
    path = tmp_path / "sample.log"
    path.write_bytes(bom + text.encode(encoding))
    result = generate_ta(
        _request(path, cim_required=False, include_samples=True), out_dir=tmp_path / "out"
    )
    ta = load_ta(result.ta_dir)
    assert ta.props.get(result.sourcetype).get("CHARSET") == charset
    assert result.check.passed
    assert (f"`CHARSET = {charset}`" in _readme(result)) == (charset is not None)
    # The sandbox reads the sample with that CHARSET, as Splunk would.
    run = run_sandbox(
        ta=ta,
        samples=[path],
        sourcetype=result.sourcetype,
        source=None,
        host=None,
        settings=SandboxSettings(),
    )
    assert run.report.passed
    users = next(field for field in run.report.fields if field.name == "user")
    assert users.example.startswith("jos\u00e9")
    shipped = (
        result.ta_dir / "samples" / f"{result.sourcetype.replace(':', '_')}.log"
    ).read_bytes()
    assert shipped.decode(encoding if charset else "utf-8").startswith("2024-03-01")


def test_the_self_check_and_the_validation_agree_on_events_without_a_timestamp(
    tmp_path: Path,
) -> None:
    text = (
        "2024-05-01 10:00:00 host app: started job 1\n"
        "2024-05-01 10:00:05 host app: finished job 1\n"
        "user note without any time at all\n"
        "2024-05-01 10:01:00 host app: started job 2\n"
    )
    sample = _sample(tmp_path, text)
    result = generate_ta(_request(sample), out_dir=tmp_path / "out")
    report = validate_package(
        result.package,
        [sample],
        sourcetype=None,
        source=None,
        host=None,
        settings=SandboxSettings(),
    )
    assert result.check.passed and report.passed, (result.check.problems, report.reasons)
    timestamps = report.timestamps
    assert (timestamps.parsed, timestamps.timeless, timestamps.ratio) == (3, 1, 1.0)
    assert "1 of 4 sampled events carries no timestamp" in _readme(result)


class _Watching(RulePlanner):
    """The rules, noting how the self-check's sandbox run received the samples."""

    def __init__(self) -> None:
        self.inputs: list[str] = []

    def refine(self, draft, *, context, sandbox, check_events):
        report = sandbox(draft, max_events=check_events, sinks=())
        self.inputs.extend(run.input for run in report.samples)
        return super().refine(draft, context=context, sandbox=sandbox, check_events=check_events)


@pytest.mark.parametrize("route", list(InputRoute))
def test_the_self_check_sends_the_samples_the_way_validation_will(
    tmp_path: Path, route: InputRoute
) -> None:
    text = SYSLOG
    if route is InputRoute.HEC_EVENT:  # that endpoint takes JSON envelopes
        text = "".join(json.dumps({"event": line}) + "\n" for line in SYSLOG.splitlines())
    watching = _Watching()
    request = _request(_sample(tmp_path, text), input_route=route)
    generate_ta(request, out_dir=tmp_path / "out", planner=watching)
    assert watching.inputs == [str(route)]


def test_samples_validation_could_not_ingest_are_refused_when_generating(tmp_path: Path) -> None:
    request = _request(_sample(tmp_path, SYSLOG), input_route=InputRoute.HEC_EVENT)
    with pytest.raises(GenerationError, match="not a HEC event stream"):
        generate_ta(request, out_dir=tmp_path / "out")

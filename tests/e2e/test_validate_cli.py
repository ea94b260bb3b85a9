"""`tagen validate` end to end: the installed command, its outputs and its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import GOOD, PROPS, acme_package, run_tagen


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_tagen("validate", *args)


def test_a_good_ta_passes_and_writes_every_output(
    ta_dir: Path, sample: Path, tmp_path: Path
) -> None:
    events, report, bundle = tmp_path / "ev.jsonl", tmp_path / "r.json", tmp_path / "b.zip"
    done = _run(
        ta_dir, sample, "--events-out", events, "--report", report, "--bundle", bundle,
        "--now", "2024-06-01T00:00:00Z",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout
    lines = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 5
    assert lines[0]["time"] == "2024-05-01T10:00:01+00:00"
    assert lines[0]["fields"]["user"] == "u1"
    assert lines[0]["fields"]["src"] == "10.0.0.1"
    parsed = json.loads(report.read_text(encoding="utf-8"))
    assert parsed["verdict"] == "PASSED"
    assert parsed["samples"][0]["sourcetype"] == "acme:auth"
    assert parsed["cim"]["tagged_events"] == 5
    assert parsed["cim"]["compliant_events"] == 5
    with zipfile.ZipFile(bundle) as archive:
        assert "ta/props.conf" in archive.namelist()


def test_a_packaged_ta_is_unpacked_and_validated(
    ta_dir: Path, sample: Path, tmp_path: Path
) -> None:
    archive = acme_package(tmp_path, ta_dir)
    done = _run(archive, sample, "--now", "2024-06-01T00:00:00Z")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_failing_ta_exits_1_with_its_reasons(ta_dir: Path, tmp_path: Path) -> None:
    sample = tmp_path / "bad.log"
    sample.write_text("no time here user=a\nnor here user=b\n", encoding="utf-8")
    report = tmp_path / "r.json"
    done = _run(ta_dir, sample, "--report", report, "--now", "2024-06-01T00:00:00Z")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED" in done.stdout
    assert "timestamps parsed for 0.0% of events" in done.stdout
    assert json.loads(report.read_text(encoding="utf-8"))["verdict"] == "FAILED"


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda tmp: ("missing-ta", tmp / "s.log"), "no such file or directory"),
        (lambda tmp: (None, tmp / "empty.log"), "file is empty"),
        (lambda tmp: (None, tmp / "binary.log"), "binary file"),
        (lambda tmp: (None, tmp / "nope.log"), "file not found"),
        (lambda tmp: ("bad.tgz", tmp / "s.log"), "bad.tgz"),
        (lambda tmp: (None, tmp / "pipe.log"), "is a named pipe (FIFO), not a regular file"),
        (lambda tmp: (None, tmp / "loop.log"), "Too many levels of symbolic links"),
    ],
    ids=[
        "missing-ta",
        "empty-sample",
        "binary-sample",
        "missing-sample",
        "corrupt-archive",
        "fifo-sample",
        "symlink-loop-sample",
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    make_input, message: str, ta_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "s.log").write_text(GOOD, encoding="utf-8")
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "binary.log").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "bad.tgz").write_bytes(b"\x1f\x8b\x08not really gzip")
    os.mkfifo(tmp_path / "pipe.log")  # no writer: opening it for reading would wait forever
    (tmp_path / "loop.log").symlink_to(tmp_path / "loop.log")
    ta_name, sample = make_input(tmp_path)
    ta = ta_dir if ta_name is None else tmp_path / ta_name
    events = tmp_path / "out" / "events.jsonl"
    done = _run(ta, sample, "--events-out", events)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not events.exists()


def test_an_empty_path_is_named_not_read_as_the_current_folder(ta_dir: Path, sample: Path) -> None:
    for args, message in (
        (("", sample), "error: the TA path is empty"),
        ((ta_dir, ""), "error: the sample path is empty"),
    ):
        done = _run(*args)
        assert (done.returncode, done.stderr.strip()) == (2, message), done.stdout + done.stderr


def test_event_text_and_error_messages_are_printed_as_they_are(
    ta_dir: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "odd.log"
    sample.write_text("note :x: (?:x:y) user=a\n", encoding="utf-8")
    done = _run(ta_dir, sample, "--now", "2024-06-01T00:00:00Z")
    assert "'note :x: (?:x:y) user=a'" in done.stdout, done.stdout  # no emoji for ':x:'
    missing = _run(ta_dir, tmp_path / ":x:.log")
    assert missing.stderr.strip() == f"error: sample {tmp_path}/:x:.log: file not found"


def test_usage_errors_exit_2(ta_dir: Path, sample: Path) -> None:
    assert _run(ta_dir).returncode == 2
    done = _run(ta_dir, sample, "--now", "yesterday")
    assert done.returncode == 2
    assert "--now 'yesterday' is not an ISO-8601 date/time" in done.stderr


def test_a_runaway_line_breaker_exits_1_with_the_reason_not_a_traceback(
    ta_dir: Path, tmp_path: Path
) -> None:
    props = ta_dir / "default" / "props.conf"
    props.write_text(PROPS + "LINE_BREAKER = ((a+)+)$\n", encoding="utf-8")
    sample = tmp_path / "auth.log"
    sample.write_text(GOOD + "a" * 40 + "!\n", encoding="utf-8")
    report = tmp_path / "r.json"
    done = _run(ta_dir, sample, "--report", report, "--now", "2024-06-01T00:00:00Z")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "event breaking of" in done.stdout and "limit" in done.stdout
    assert json.loads(report.read_text(encoding="utf-8"))["verdict"] == "FAILED"


def test_hec_event_input_writes_envelope_metadata_and_search_results(
    ta_dir: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "hec.json"
    sample.write_text(
        json.dumps({"event": "action=success app=sshd user=u1 src=10.0.0.1 dest=srv",
                    "time": 1714557601, "host": "web01", "fields": {"region": "eu"}}) + "\n"
        + json.dumps({"event": "2024-05-01 10:00:02 user=u2", "time": "1714557602.5"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    events = tmp_path / "ev.jsonl"
    done = _run(
        ta_dir, sample, "--input", "hec-event", "--sourcetype", "acme:auth",
        "--events-out", events, "--now", "2024-06-01T00:00:00Z",
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    first, second = (json.loads(line) for line in events.read_text(encoding="utf-8").splitlines())
    assert first["time"] == "2024-05-01T10:00:01+00:00"  # the envelope's time
    assert (first["host"], first["source"], first["sourcetype"]) == (
        "web01",
        "http:sandbox",
        "acme:auth",
    )
    assert first["fields"]["region"] == "eu" and first["fields"]["user"] == "u1"
    assert first["eventtypes"] == ["acme_auth"] and first["tags"] == ["authentication"]
    assert second["time"] == "2024-05-01T10:00:02.500000+00:00"
    assert "hec-event" in done.stdout


def test_modinput_input_makes_one_event_per_file_with_the_given_time(
    ta_dir: Path, tmp_path: Path
) -> None:
    samples = []
    for number in range(2):
        sample = tmp_path / f"event_{number}.log"
        line = f"no clock action=success app=sshd user=u{number} src=10.0.0.{number} dest=srv"
        sample.write_text(line + "\nsecond line\n", encoding="utf-8")
        samples.append(sample)
    events = tmp_path / "ev.jsonl"
    done = _run(
        ta_dir, *samples, "--input", "modinput", "--time", "2024-05-03T08:00:00",
        "--events-out", events, "--now", "2024-06-01T00:00:00Z",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    assert [line["raw"].split("\n") for line in lines] == [
        [f"no clock action=success app=sshd user=u{n} src=10.0.0.{n} dest=srv", "second line"]
        for n in (0, 1)
    ]
    assert {line["time"] for line in lines} == {"2024-05-03T08:00:00+00:00"}


def test_bad_input_route_values_exit_2(ta_dir: Path, sample: Path, tmp_path: Path) -> None:
    assert _run(ta_dir, sample, "--input", "syslog").returncode == 2
    done = _run(ta_dir, sample, "--time", "soon")
    assert done.returncode == 2 and "--time 'soon'" in done.stderr
    events = tmp_path / "ev.jsonl"
    done = _run(ta_dir, sample, "--input", "hec-event", "--events-out", events)
    assert done.returncode == 2
    assert "not a HEC event stream" in done.stderr and str(sample) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not events.exists()


def test_a_huge_invalid_regex_is_printed_once_and_short(
    ta_dir: Path, sample: Path, tmp_path: Path
) -> None:
    pattern = "(?<big>" + "ab" * 500_000  # 1 MB, no closing parenthesis
    props = ta_dir / "default" / "props.conf"
    props.write_text(PROPS + f"EXTRACT-big = {pattern}\n", encoding="utf-8")
    done = _run(ta_dir, sample, "--now", "2024-06-01T00:00:00Z")
    assert done.returncode == 1, done.stderr
    output = done.stdout + done.stderr
    assert len(output) < 20_000  # was 3.2 MB: the pattern three times in full
    assert output.count("not valid PCRE2") == 1  # the lint line; the verdict points at it
    assert f"({len(pattern)} characters)" in output
    assert "  - 1 lint error (listed above)" in done.stdout

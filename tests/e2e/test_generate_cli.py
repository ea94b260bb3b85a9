"""`tagen generate` end to end: the installed command, what it writes and its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.e2e.conftest import run_tagen

SAMPLE = "".join(
    f"2024-05-0{day} 10:00:0{day} action=success app=sshd user=u{day} src=10.0.0.{day} dest=srv\n"
    for day in range(1, 8)
)


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_tagen("generate", *args)


def test_generate_writes_ta_and_package_and_prints_a_summary(tmp_path: Path) -> None:
    sample = tmp_path / "auth.log"
    sample.write_text(SAMPLE, encoding="utf-8")
    out = tmp_path / "out"
    done = _run(sample, "--out", out, "--name", "TA-acme", "--sourcetype", "acme:auth", "--no-cim")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "acme:auth" in done.stdout and "self-check PASSED" in done.stdout
    assert "format kv" in done.stdout
    assert (out / "TA-acme" / "default" / "props.conf").is_file()
    assert (out / "TA-acme-1.0.0.tgz").is_file()


def test_json_summary(tmp_path: Path) -> None:
    sample = tmp_path / "auth.log"
    sample.write_text(SAMPLE, encoding="utf-8")
    done = _run(sample, "--out", tmp_path / "out", "--source-system", "Acme", "--json")
    assert done.returncode in (0, 1), done.stderr
    summary = json.loads(done.stdout)
    assert summary["sourcetype"] == "acme:kv"
    assert summary["timestamps"]["TIME_FORMAT"] == "%Y-%m-%d %H:%M:%S"  # 7 events: pinned
    assert {"user", "src"} <= set(summary["fields"])
    assert summary["self_check"]["passed"] is (done.returncode == 0)


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    done = _run(empty, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "empty" in done.stderr
    assert "Traceback" not in done.stderr
    missing = _run(tmp_path / "nope.log", "--out", tmp_path / "out")
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_a_fifo_sample_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    done = _run(fifo, "--out", tmp_path / "out")
    assert done.returncode == 2
    expected = f"error: sample {fifo}: is a named pipe (FIFO), not a regular file"
    assert done.stderr.strip() == expected
    assert not (tmp_path / "out").exists()


def test_generate_and_validate_agree_on_an_event_without_any_timestamp(tmp_path: Path) -> None:
    sample = tmp_path / "s.log"
    sample.write_text(
        "2024-05-01 10:00:00 host app: started job 1\n"
        "2024-05-01 10:00:05 host app: finished job 1\n"
        "user note without any time at all\n"
        "2024-05-01 10:01:00 host app: started job 2\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    generated = _run(sample, "--out", out, "--name", "TA-s")
    assert generated.returncode == 0 and "self-check PASSED" in generated.stdout, generated.stdout
    validated = run_tagen("validate", out / "TA-s-1.0.0.tgz", sample)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert (
        "timestamps read 3 of the 3 events a TA can time (100.0%)  without any timestamp 1"
        in validated.stdout
    )
    assert "out of reach: no timestamp in the event: 'user note without" in validated.stdout
    # A TA that misses the timestamps that are there still fails.
    props = out / "TA-s" / "default" / "props.conf"
    text = props.read_text(encoding="utf-8")
    props.write_text(text.replace("[s:log]\n", "[s:log]\nTIME_PREFIX = job\n"), encoding="utf-8")
    missed = run_tagen("validate", out / "TA-s", sample)
    assert missed.returncode == 1, missed.stdout + missed.stderr
    assert "timestamps parsed for 0.0% of the 3 events a TA can time" in missed.stdout


def test_an_empty_path_is_named_not_read_as_the_current_folder(tmp_path: Path) -> None:
    sample = tmp_path / "auth.log"
    sample.write_text(SAMPLE, encoding="utf-8")
    for args, message in (
        (("", "--out", tmp_path / "out"), "error: the sample path is empty"),
        ((sample, "--out", ""), "error: the --out path is empty"),
    ):
        done = _run(*args)
        assert (done.returncode, done.stderr.strip()) == (2, message), done.stderr
    assert not (tmp_path / "out").exists()

"""Progress on stderr for long work: on a terminal or with --progress, never in stdout."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from rich import filesize

from tests.e2e.conftest import run_tagen, tagen_command


def test_validate_progress_off_a_terminal_only_when_asked(ta_dir: Path, sample: Path) -> None:
    quiet = run_tagen("validate", ta_dir, sample, "--now", "2024-06-01T00:00:00Z")
    assert quiet.returncode == 0 and quiet.stderr == ""
    shown = run_tagen("validate", ta_dir, sample, "--now", "2024-06-01T00:00:00Z", "--progress")
    assert shown.returncode == 0, shown.stderr
    size = filesize.decimal(sample.stat().st_size)
    assert shown.stderr.splitlines()[-1] == f"validating: 100% ({size} of {size})"
    assert shown.stdout == quiet.stdout  # the summary is untouched


def test_generate_json_stays_json_with_progress(sample: Path, tmp_path: Path) -> None:
    done = run_tagen("generate", sample, "--out", tmp_path / "out", "--json", "--progress")
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["name"]
    assert done.stderr.splitlines()[-1].startswith("generating: ")
    assert done.stderr.splitlines()[-1].endswith(" read")


def test_validate_draws_a_bar_on_a_terminal(ta_dir: Path, sample: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [*tagen_command(), "validate", str(ta_dir), str(sample), "--now", "2024-06-01"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        )
        os.close(terminal)
        stdout, _ = process.communicate(timeout=120)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    assert process.returncode == 0
    assert b"validating" in drawn and "━".encode() in drawn
    assert "validating" not in stdout and "PASSED" in stdout

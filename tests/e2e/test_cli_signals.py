"""Cancelling `tagen validate` (SIGTERM from Prefect or Kubernetes, Ctrl-C) cleans up."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import GOOD, acme_package, tagen_command

EVENTS_PER_COPY = GOOD.count("\n")


@pytest.mark.parametrize(
    ("signum", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["TERM", "INT"]
)
def test_a_signal_during_validate_removes_partial_outputs_and_temporary_folders(
    signum: int, exit_code: int, ta_dir: Path, tmp_path: Path
) -> None:
    archive = acme_package(tmp_path, ta_dir)
    sample = tmp_path / "big.log"
    sample.write_text(GOOD * (100_000 // EVENTS_PER_COPY), encoding="utf-8")  # ~15 s of work
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*tagen_command(), "validate", archive, sample, "--events-out", out / "events.jsonl"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        # As from a terminal: a shell starts background jobs (`make test &`) with SIGINT ignored,
        # and a program keeps an inherited SIG_IGN, so Ctrl-C would never reach it.
        preexec_fn=lambda: signal.signal(signum, signal.SIG_DFL),
    )
    try:
        # Wait until the run is under way: the archive unpacked, events being written.
        deadline = time.monotonic() + 60
        while not (list(out.glob(".events.jsonl.*.partial")) and list(temp.glob("tagen-ta-*"))):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "validate never started writing events"
            time.sleep(0.05)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    assert list(out.iterdir()) == []  # neither events.jsonl nor its partial file
    assert list(temp.iterdir()) == []  # the unpacked TA is gone

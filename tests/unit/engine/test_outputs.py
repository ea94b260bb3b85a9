"""engine.outputs: input/output clashes, atomic replacement, the output-folder lock, and
concurrent generations into one folder (real processes)."""

from __future__ import annotations

import errno
import fcntl
import multiprocessing
import os
import tarfile
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from engine.generator.generate import generate_ta
from engine.generator.model import GenerationRequest
from engine.outputs import (
    LOCK_NAME,
    OutputError,
    atomic_output,
    check_outputs,
    os_reason,
    output_lock,
)

SAMPLE = "".join(
    f"2024-05-0{day} 10:00:0{day} action=success app=sshd user=u{day} src=10.0.0.{day}\n"
    for day in range(1, 8)
)


def test_an_output_may_not_be_hold_or_sit_inside_an_input(tmp_path: Path) -> None:
    sample = tmp_path / "s.log"
    sample.write_text("x\n")
    ta = tmp_path / "TA-x"
    (ta / "default").mkdir(parents=True)
    inputs = [("sample", sample), ("TA", ta)]
    check_outputs({"--report": tmp_path / "report.json"}, inputs)  # fine
    for output, relation in (
        (sample, "is the sample"),
        (ta / "default" / "new.conf", "is inside the TA"),
    ):
        with pytest.raises(OutputError, match=relation):
            check_outputs({"--report": output}, inputs)
    with pytest.raises(OutputError, match=f"holds the sample {sample}"):
        check_outputs({"the TA folder": tmp_path}, [("sample", sample)], files=False)
    (tmp_path / "alias").symlink_to(sample)
    with pytest.raises(OutputError, match="is the sample"):
        check_outputs({"--report": tmp_path / "alias"}, inputs)
    os.link(sample, tmp_path / "twin")
    with pytest.raises(OutputError, match="is the sample"):
        check_outputs({"--report": tmp_path / "twin"}, inputs)


def test_an_existing_output_must_be_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file"):
        check_outputs({"--events-out": fifo}, [])
    with pytest.raises(OutputError, match="is a folder"):
        check_outputs({"--events-out": tmp_path}, [])


def test_atomic_output_replaces_on_success_and_keeps_the_old_file_on_error(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as partial:
        partial.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    with atomic_output(target) as partial:
        partial.write_text("new")
    assert target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_system_errors_read_as_a_sentence() -> None:
    with pytest.raises(OSError) as full, open("/dev/full", "w") as handle:
        handle.write("x")
        handle.flush()
    assert os_reason(full.value) == "no space left on the device"
    assert os_reason(OSError(errno.EROFS, "Read-only file system")) == (
        "the file system is read-only"
    )
    assert os_reason(OSError(errno.EXDEV, "Invalid cross-device link")) == (
        "invalid cross-device link"
    )


def test_the_output_lock_is_exclusive_between_open_files(tmp_path: Path) -> None:
    with output_lock(tmp_path / "out"):
        fd = os.open(tmp_path / "out" / LOCK_NAME, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(tmp_path / "out" / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the block ended
    finally:
        os.close(fd)


def _generate(
    sample: Path, out: Path, start: Barrier, results: multiprocessing.SimpleQueue[str]
) -> None:
    start.wait()
    try:
        result = generate_ta(
            GenerationRequest(samples=(sample,), name="TA-acme", cim_required=False),
            out_dir=out,
        )
    except Exception as exc:  # reported to the parent, which asserts there was none
        results.put(f"{type(exc).__name__}: {exc}")
    else:
        results.put(result.sha256)


def test_concurrent_generations_into_one_folder_take_turns(tmp_path: Path) -> None:
    sample = tmp_path / "auth.log"
    sample.write_text(SAMPLE, encoding="utf-8")
    out = tmp_path / "out"
    workers = 6
    context = multiprocessing.get_context("fork")  # the engine is imported once, starts at once
    start = context.Barrier(workers)
    results: multiprocessing.SimpleQueue[str] = context.SimpleQueue()
    processes = [
        context.Process(target=_generate, args=(sample, out, start, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    outcomes = [results.get() for _ in range(workers)]
    assert len(set(outcomes)) == 1 and len(outcomes[0]) == 64, outcomes  # one digest, no error
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "TA-acme", "TA-acme-1.0.0.tgz"]
    with tarfile.open(out / "TA-acme-1.0.0.tgz") as tar:
        packaged = sorted(name for name in tar.getnames() if "." in Path(name).name)
    on_disk = sorted(str(p.relative_to(out)) for p in (out / "TA-acme").rglob("*") if p.is_file())
    assert packaged == on_disk

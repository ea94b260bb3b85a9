"""Outputs of `tagen validate` and `tagen generate`: never onto an input, errors in one sentence."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.e2e.conftest import GOOD, acme_package, run_tagen, tagen_command

REQUEST_ID = "3f1c7a52-0d5e-4a8e-9b1e-2f6c1d9e7a10"


def _digest(path: Path) -> str:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return hashlib.sha256(b"".join(_digest(p).encode() for p in files)).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _outputs(case: str, tmp: Path, ta_dir: Path, sample: Path) -> tuple[Path, list[str | Path]]:
    """(the TA to validate, the output options) of one way of naming an input as output."""
    if case == "bundle-is-the-archive":
        archive = acme_package(tmp, ta_dir)
        return archive, ["--bundle", archive]
    if case == "report-is-a-symlink-to-the-sample":
        (tmp / "link.json").symlink_to(sample)
        return ta_dir, ["--report", tmp / "link.json"]
    if case == "report-is-a-hard-link-to-the-sample":
        os.link(sample, tmp / "hard.json")
        return ta_dir, ["--report", tmp / "hard.json"]
    if case == "report-inside-the-ta-folder":
        return ta_dir, ["--report", ta_dir / "default" / "props.conf"]
    if case == "two-outputs-name-one-file":
        return ta_dir, ["--report", tmp / "x.out", "--bundle", tmp / "x.out"]
    return ta_dir, ["--events-out", sample]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("events-out-is-the-sample", "is the sample"),
        ("bundle-is-the-archive", "is the TA"),
        ("report-is-a-symlink-to-the-sample", "is the sample"),
        ("report-is-a-hard-link-to-the-sample", "is the sample"),
        ("report-inside-the-ta-folder", "is inside the TA"),
        ("two-outputs-name-one-file", "--report and --bundle both name"),
    ],
)
def test_validate_refuses_an_output_that_names_an_input(
    case: str, message: str, ta_dir: Path, sample: Path, tmp_path: Path
) -> None:
    ta, options = _outputs(case, tmp_path, ta_dir, sample)
    before = {path: _digest(path) for path in (ta, sample)}
    line = _one_error_line(run_tagen("validate", ta, sample, *options))
    assert message in line
    assert {path: _digest(path) for path in (ta, sample)} == before
    assert not list(tmp_path.glob("**/*.partial"))
    assert not (tmp_path / "x.out").exists()


def test_validate_refuses_to_replace_a_fifo_named_as_output(
    ta_dir: Path, sample: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    line = _one_error_line(run_tagen("validate", ta_dir, sample, "--events-out", fifo))
    assert f"--events-out {fifo} is not a regular file" in line
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_generate_refuses_outputs_that_would_replace_a_sample(tmp_path: Path) -> None:
    out = tmp_path / "out"
    inside = out / "TA-acme" / "auth.log"  # in the folder a generation replaces
    inside.parent.mkdir(parents=True)
    inside.write_text(GOOD, encoding="utf-8")
    (inside.parent / "default").mkdir()
    (inside.parent / "default" / "app.conf").write_text("[package]\nid = TA-acme\n")
    line = _one_error_line(run_tagen("generate", inside, "--out", out, "--name", "TA-acme"))
    assert "the TA folder" in line and f"holds the sample {inside}" in line
    assert inside.read_text(encoding="utf-8") == GOOD

    package = tmp_path / "TA-acme-1.0.0.tgz"  # a text sample named like the package
    package.write_text(GOOD, encoding="utf-8")
    line = _one_error_line(run_tagen("generate", package, "--out", tmp_path, "--name", "TA-acme"))
    assert f"the package {package} is the sample" in line
    assert package.read_text(encoding="utf-8") == GOOD
    assert not (tmp_path / "TA-acme").exists()


def test_generate_out_that_is_a_file_says_so(sample: Path) -> None:
    line = _one_error_line(run_tagen("generate", sample, "--out", sample))
    assert line == f"error: output folder {sample} is a file, not a folder"
    line = _one_error_line(run_tagen("generate", sample, "--out", sample / "deeper"))
    assert f"lies below {sample}, which is a file" in line
    assert sample.read_text(encoding="utf-8") == GOOD


def _unshare() -> list[str]:
    """A private mount namespace as an unprivileged user (user namespaces), or skip."""
    tool = shutil.which("unshare")
    if tool is None:
        pytest.skip("util-linux unshare is not installed")
    probe = subprocess.run([tool, "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are not available: {probe.stderr.decode().strip()}")
    return [tool, "-rm"]


@pytest.mark.parametrize(
    ("mount_options", "reason"),
    [("size=16k", "no space left on the device"), ("size=1m,ro", "the file system is read-only")],
    ids=["disk-full", "read-only"],
)
def test_generate_out_on_a_full_or_read_only_file_system(
    mount_options: str, reason: str, sample: Path, tmp_path: Path
) -> None:
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    script = (
        f'mount -t tmpfs -o {mount_options} tmpfs "{mount_point}" && '
        f'exec "$0" generate "{sample}" --out "{mount_point}/out"'
    )
    done = run_tagen(prefix=(*_unshare(), "sh", "-c", script))
    line = _one_error_line(done)
    assert line == f"error: cannot write to {mount_point}/out: {reason}"


def test_generate_out_without_permission(tmp_path: Path) -> None:
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root writes anywhere: run as nobody against a root-owned folder
        tool = shutil.which("setpriv")
        if tool is None:
            pytest.skip("setpriv is needed to drop root")
        prefix = (tool, "--reuid=65534", "--regid=65534", "--clear-groups")
        command = Path(tagen_command()[0])
        if any(not folder.stat().st_mode & stat.S_IXOTH for folder in command.parents):
            pytest.skip(f"{command} is not reachable by other users")
        # pytest's own temporary folders are private (0700): nobody could not read the sample.
        tmp_path = Path(tempfile.mkdtemp(prefix="tagen-test-perm-"))
        tmp_path.chmod(0o755)
    try:
        sample = tmp_path / "auth.log"
        sample.write_text(GOOD, encoding="utf-8")
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o755 if prefix else 0o555)
        done = run_tagen("generate", sample, "--out", locked / "out", prefix=prefix)
        line = _one_error_line(done)
        assert line == f"error: cannot write to {locked}/out: permission denied"
    finally:
        if prefix:
            shutil.rmtree(tmp_path)
        else:
            (tmp_path / "locked").chmod(0o755)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("knowledge", "add", ""), "error: the document path is empty"),
        (
            ("ta", "upload", REQUEST_ID, "", "--uploaded-by", "ann"),
            "error: the TA package path is empty",
        ),
        (("ta", "download", REQUEST_ID, "--out", ""), "error: the --out path is empty"),
    ],
    ids=["knowledge add", "ta upload", "ta download --out"],
)
def test_an_empty_path_is_named_not_read_as_the_current_folder(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    # Refused before any database or Prefect is reached: TAGEN_HOME holds nothing afterwards.
    done = run_tagen(*args, env={"TAGEN_HOME": str(tmp_path / "home")})
    assert (done.returncode, done.stderr.strip()) == (2, message), done.stderr
    assert not (tmp_path / "home").exists()

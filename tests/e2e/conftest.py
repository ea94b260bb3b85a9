"""What the end-to-end suites share: the installed `tagen` command and a small valid TA."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

APP_CONF = """\
[install]
build = 1

[launcher]
version = 1.0.0

[ui]
label = Acme

[package]
id = TA-acme

[id]
name = TA-acme
version = 1.0.0
"""
PROPS = """\
[acme:auth]
SHOULD_LINEMERGE = false
TIME_FORMAT = %Y-%m-%d %H:%M:%S
MAX_TIMESTAMP_LOOKAHEAD = 19
EXTRACT-user = user=(?<user>\\S+)
"""
EVENTTYPES = "[acme_auth]\nsearch = sourcetype=acme:auth\n"
TAGS = "[eventtype=acme_auth]\nauthentication = enabled\n"
GOOD = "".join(
    f"2024-05-0{day} 10:00:0{day} action=success app=sshd user=u{day} src=10.0.0.{day} dest=srv\n"
    for day in range(1, 6)
)


def tagen_command() -> list[str]:
    """The console script installed beside the interpreter running the tests."""
    return [str(Path(sys.executable).with_name("tagen"))]


def run_tagen(
    *args: str | Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``tagen ARGS`` (behind ``prefix``, e.g. a command that drops privileges)."""
    return subprocess.run(
        [*prefix, *tagen_command(), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def acme_ta(tmp: Path) -> Path:
    """The small valid TA as a folder, ``tmp/TA-acme``."""
    root = tmp / "TA-acme"
    (root / "default").mkdir(parents=True)
    for name, text in (
        ("app", APP_CONF),
        ("props", PROPS),
        ("eventtypes", EVENTTYPES),
        ("tags", TAGS),
    ):
        (root / "default" / f"{name}.conf").write_text(text, encoding="utf-8")
    return root


def acme_package(tmp: Path, ta_dir: Path | None = None) -> Path:
    """The small valid TA (or ``ta_dir``) packed as ``tmp/TA-acme-1.0.0.tgz``."""
    archive = tmp / "TA-acme-1.0.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(ta_dir or acme_ta(tmp), arcname="TA-acme")
    return archive


@pytest.fixture
def ta_dir(tmp_path: Path) -> Path:
    return acme_ta(tmp_path)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "auth.log"
    path.write_text(GOOD, encoding="utf-8")
    return path

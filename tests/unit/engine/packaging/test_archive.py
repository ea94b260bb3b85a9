from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from engine.packaging.archive import FIXED_MTIME, PackagingError, build_package


def test_rebuild_is_byte_identical_even_after_touching_files(ta_dir: Path, tmp_path: Path) -> None:
    first = build_package(ta_dir, tmp_path / "a")
    for path in ta_dir.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    (ta_dir / "samples" / "example_fw.log").chmod(0o600)
    copy = tmp_path / "elsewhere" / ta_dir.name
    shutil.copytree(ta_dir, copy)
    second = build_package(copy, tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.size == first.path.stat().st_size


def test_archive_entries_owners_modes_and_top_folder(ta_dir: Path, tmp_path: Path) -> None:
    package = build_package(ta_dir, tmp_path / "out")
    assert package.path.name == "TA-example-fw-2.0.1.tgz"
    assert (package.package_id, package.version) == ("TA-example-fw", "2.0.1")
    with tarfile.open(package.path) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert names[0] == "TA-example-fw"
    assert all(n == "TA-example-fw" or n.startswith("TA-example-fw/") for n in names)
    assert "TA-example-fw/default/app.conf" in names
    files = [m for m in members if m.isfile()]
    assert package.file_count == len(files)
    for member in members:
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
        assert member.mtime == FIXED_MTIME
        assert member.mode == (0o755 if member.isdir() else 0o644)


def test_gzip_header_has_no_timestamp_and_no_name(ta_dir: Path, tmp_path: Path) -> None:
    data = build_package(ta_dir, tmp_path).path.read_bytes()
    assert data[:2] == b"\x1f\x8b"
    flags, mtime = data[3], int.from_bytes(data[4:8], "little")
    assert mtime == 0
    assert not flags & 0x08  # FNAME
    assert gzip.decompress(data)  # a valid stream


def test_junk_is_skipped_and_reported(ta_dir: Path, tmp_path: Path) -> None:
    (ta_dir / ".DS_Store").write_bytes(b"junk")
    (ta_dir / "bin" / "__pycache__").mkdir(parents=True)
    (ta_dir / "bin" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    (ta_dir / "bin" / "run.sh").write_text("#!/bin/sh\n")
    (ta_dir / "bin" / "run.sh").chmod(0o755)
    package = build_package(ta_dir, tmp_path / "out")
    assert package.skipped == (".DS_Store", "bin/__pycache__")
    with tarfile.open(package.path) as tar:
        names = tar.getnames()
        assert tar.getmember("TA-example-fw/bin/run.sh").mode == 0o755
    assert not any(".DS_Store" in n or "pycache" in n for n in names)


def test_local_folder_is_refused(ta_dir: Path, tmp_path: Path) -> None:
    (ta_dir / "local").mkdir()
    with pytest.raises(PackagingError, match="local/"):
        build_package(ta_dir, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_symlink_is_refused_and_no_partial_archive_left(ta_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (ta_dir / "default" / "link.conf").symlink_to("/etc/passwd")
    with pytest.raises(PackagingError, match="symbolic links"):
        build_package(ta_dir, out)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("app_conf", "message"),
    [
        ("[id]\nname = TA-x\nversion = 1.0.0\n", r"\[package\] id is missing"),
        ("[package]\nid = TA-x\n[id]\nname = TA-y\nversion = 1.0.0\n", "differs"),
        ("[package]\nid = TA-x\n[id]\nname = TA-x\nversion = 1.0\n", "semantic versioning"),
    ],
)
def test_inconsistent_identity_is_refused(tmp_path: Path, app_conf: str, message: str) -> None:
    (tmp_path / "TA-x" / "default").mkdir(parents=True)
    (tmp_path / "TA-x" / "default" / "app.conf").write_text(app_conf)
    with pytest.raises(PackagingError, match=message):
        build_package(tmp_path / "TA-x", tmp_path / "out")


def test_missing_app_conf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match=r"app\.conf is missing"):
        build_package(tmp_path, tmp_path / "out")

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import pytest

from engine.conf.ta import InvalidTAError, load_ta
from engine.packaging.archive import build_package
from engine.packaging.unpack import UnsafeArchiveError, safe_unpack, unpacked_ta

APP_CONF = b"[package]\nid = TA-up\n[id]\nname = TA-up\nversion = 1.0.0\n"


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """Where safe_unpack makes its temporary directories, so leftovers can be checked."""
    work = tmp_path / "work"
    work.mkdir()
    yield work


def _tar(
    path: Path,
    members: Sequence[tarfile.TarInfo | tuple[str, bytes]],
    mode: Literal["w:gz", "w"] = "w:gz",
) -> Path:
    with tarfile.open(path, mode) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _valid_members() -> list[tuple[str, bytes]]:
    return [("TA-up/default/app.conf", APP_CONF), ("TA-up/default/props.conf", b"[st]\nA = 1\n")]


def test_built_package_unpacks_and_loads(ta_dir: Path, tmp_path: Path, workdir: Path) -> None:
    package = build_package(ta_dir, tmp_path / "out")
    unpacked = safe_unpack(package.path, workdir=workdir)
    assert unpacked.name == "TA-example-fw"
    assert load_ta(unpacked).props.get("example:fw") == load_ta(ta_dir).props.get("example:fw")
    for path in unpacked.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644)


@pytest.mark.parametrize("suffix", [".tgz", ".spl", ".bin"])
def test_format_is_sniffed_not_taken_from_the_name(
    tmp_path: Path, workdir: Path, suffix: str
) -> None:
    archive = _tar(tmp_path / f"ta{suffix}", _valid_members())
    assert (safe_unpack(archive, workdir=workdir) / "default" / "props.conf").is_file()


def test_plain_tar_and_zip_are_accepted(tmp_path: Path, workdir: Path) -> None:
    plain = _tar(tmp_path / "ta.tar", _valid_members(), mode="w")
    assert safe_unpack(plain, workdir=workdir).name == "TA-up"
    zipped = tmp_path / "ta.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("TA-up/default/app.conf", APP_CONF)
        zf.writestr("__MACOSX/TA-up/._app.conf", b"junk")
    assert safe_unpack(zipped, workdir=workdir).name == "TA-up"


def test_dot_root_entries_and_a_strict_umask_are_handled(tmp_path: Path, workdir: Path) -> None:
    """`tar -C dir .` archives start with a './' entry; modes do not depend on the umask."""
    root = tarfile.TarInfo("./")
    root.type = tarfile.DIRTYPE
    members: list[tarfile.TarInfo | tuple[str, bytes]] = [root]
    members += [("./" + name, data) for name, data in _valid_members()]
    archive = _tar(tmp_path / "dot.tgz", members)
    previous = os.umask(0o077)
    try:
        unpacked = safe_unpack(archive, workdir=workdir)
    finally:
        os.umask(previous)
    assert unpacked.name == "TA-up"
    assert stat.S_IMODE((unpacked / "default" / "app.conf").stat().st_mode) == 0o644
    assert stat.S_IMODE((unpacked / "default").stat().st_mode) == 0o755


def test_context_manager_removes_the_temporary_directory(tmp_path: Path, workdir: Path) -> None:
    archive = _tar(tmp_path / "ta.tgz", _valid_members())
    with unpacked_ta(archive, workdir=workdir) as ta_dir:
        assert ta_dir.is_dir()
    assert list(workdir.iterdir()) == []


REJECTED = [
    ("../evil.conf", b"x", UnsafeArchiveError, "path traversal"),
    ("TA-up/../../evil.conf", b"x", UnsafeArchiveError, "path traversal"),
    ("/etc/evil.conf", b"x", UnsafeArchiveError, "absolute path"),
    ("C:/evil.conf", b"x", UnsafeArchiveError, "absolute path"),
    ("TA-up\\..\\evil.conf", b"x", UnsafeArchiveError, "backslash"),
]


@pytest.mark.parametrize(("name", "data", "error", "message"), REJECTED)
def test_hostile_names_are_rejected_and_nothing_is_left(
    tmp_path: Path, workdir: Path, name: str, data: bytes, error: type[Exception], message: str
) -> None:
    archive = _tar(tmp_path / "bad.tgz", [*_valid_members(), (name, data)])
    with pytest.raises(error, match=message):
        safe_unpack(archive, workdir=workdir)
    assert list(workdir.iterdir()) == []
    assert not (tmp_path / "evil.conf").exists()


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_special("TA-up/default/x.conf", tarfile.SYMTYPE, "/etc/passwd"), "links are not"),
        (_special("TA-up/default/y.conf", tarfile.LNKTYPE, "TA-up/default/app.conf"), "links"),
        (_special("TA-up/dev", tarfile.CHRTYPE), "device, fifo"),
        (_special("TA-up/disk", tarfile.BLKTYPE), "device, fifo"),
        (_special("TA-up/pipe", tarfile.FIFOTYPE), "device, fifo"),
    ],
)
def test_links_and_special_files_are_rejected(
    tmp_path: Path, workdir: Path, member: tarfile.TarInfo, message: str
) -> None:
    archive = _tar(tmp_path / "bad.tgz", [*_valid_members(), member])
    with pytest.raises(UnsafeArchiveError, match=message):
        safe_unpack(archive, workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_zip_symlink_is_rejected(tmp_path: Path, workdir: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("TA-up/default/app.conf", APP_CONF)
        link = zipfile.ZipInfo("TA-up/default/evil.conf")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="links are not allowed"):
        safe_unpack(archive, workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_zip_traversal_is_rejected(tmp_path: Path, workdir: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("TA-up/default/app.conf", APP_CONF)
        zf.writestr("TA-up/../../evil", b"x")
    with pytest.raises(UnsafeArchiveError, match="path traversal"):
        safe_unpack(archive, workdir=workdir)


def test_duplicate_member_is_rejected(tmp_path: Path, workdir: Path) -> None:
    archive = _tar(tmp_path / "dup.tgz", [*_valid_members(), ("TA-up/default/app.conf", b"x")])
    with pytest.raises(UnsafeArchiveError, match="appears twice"):
        safe_unpack(archive, workdir=workdir)


def test_too_many_files(tmp_path: Path, workdir: Path) -> None:
    members = [*_valid_members()] + [(f"TA-up/samples/{i}.log", b"x") for i in range(20)]
    archive = _tar(tmp_path / "many.tgz", members)
    with pytest.raises(UnsafeArchiveError, match="more than 10 files"):
        safe_unpack(archive, max_files=10, workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_member_over_the_size_limit(tmp_path: Path, workdir: Path) -> None:
    archive = _tar(tmp_path / "big.tgz", [*_valid_members(), ("TA-up/big.log", b"a" * 5000)])
    with pytest.raises(UnsafeArchiveError, match="exceeds the 1000 byte limit"):
        safe_unpack(archive, max_member_bytes=1000, workdir=workdir)


def test_total_over_the_size_limit(tmp_path: Path, workdir: Path) -> None:
    members = [*_valid_members()] + [(f"TA-up/s/{i}.log", b"a" * 900) for i in range(5)]
    archive = _tar(tmp_path / "big.tgz", members)
    with pytest.raises(UnsafeArchiveError, match="expands beyond 2000 bytes"):
        safe_unpack(archive, max_total_bytes=2000, max_member_bytes=1000, workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_gzip_bomb_is_stopped_while_streaming(tmp_path: Path, workdir: Path) -> None:
    """A tiny .tgz expanding to 16 MiB: stopped by counting decompressed bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("TA-up/default/app.conf")
        info.size = len(APP_CONF)
        tar.addfile(info, io.BytesIO(APP_CONF))
        bomb = tarfile.TarInfo("TA-up/zeros.bin")
        bomb.size = 16 * 1024 * 1024
        tar.addfile(bomb, io.BytesIO(bytes(bomb.size)))
    archive = tmp_path / "bomb.tgz"
    archive.write_bytes(gzip.compress(raw.getvalue(), compresslevel=9))
    assert archive.stat().st_size < 50_000
    with pytest.raises(UnsafeArchiveError, match="beyond 1000000 bytes"):
        safe_unpack(archive, max_total_bytes=1_000_000, max_member_bytes=10**9, workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_zip_bomb_with_lying_header_is_stopped(tmp_path: Path, workdir: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("TA-up/default/app.conf", APP_CONF)
        zf.writestr("TA-up/zeros.bin", bytes(8 * 1024 * 1024))
    # Rewrite the central directory's uncompressed size of zeros.bin to claim 10 bytes.
    data = bytearray(archive.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    # zipfile stops at the claimed size, so the CRC no longer matches: refused as corrupt.
    with pytest.raises(UnsafeArchiveError, match=r"corrupt archive.*CRC"):
        safe_unpack(archive, max_member_bytes=100_000, workdir=workdir)
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"hello, I am text", "not a gzip tar"),
        (b"\x1f\x8b\x08\x00garbage-after-a-gzip-magic", "corrupt archive"),
        (b"PK\x03\x04not really a zip", "corrupt archive"),
    ],
)
def test_not_an_archive_or_corrupt(
    tmp_path: Path, workdir: Path, content: bytes, message: str
) -> None:
    archive = tmp_path / "x.tgz"
    archive.write_bytes(content)
    with pytest.raises(UnsafeArchiveError, match=message):
        safe_unpack(archive, workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_truncated_gzip_is_corrupt(tmp_path: Path, workdir: Path) -> None:
    good = _tar(tmp_path / "good.tgz", _valid_members()).read_bytes()
    archive = tmp_path / "cut.tgz"
    archive.write_bytes(good[: len(good) // 2])
    with pytest.raises(UnsafeArchiveError, match="corrupt archive"):
        safe_unpack(archive, workdir=workdir)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("TA-up/default/app.conf", APP_CONF), ("TA-other/x", b"")], "one top folder"),
        ([("app.conf", APP_CONF)], "one top folder"),
        ([("TA-up/default/props.conf", b"[st]\n")], r"default/app\.conf is missing"),
    ],
)
def test_archives_that_are_not_a_ta(
    tmp_path: Path, workdir: Path, members: list[tuple[str, bytes]], message: str
) -> None:
    archive = _tar(tmp_path / "notta.tgz", list(members))
    with pytest.raises(InvalidTAError, match=message):
        safe_unpack(archive, workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_default_temporary_directory_is_fresh_and_private(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "ta.tgz", _valid_members())
    first = safe_unpack(archive)
    second = safe_unpack(archive)
    try:
        assert first.parent != second.parent
        assert first.parent.parent == Path(tempfile.gettempdir())
    finally:
        shutil.rmtree(first.parent)
        shutil.rmtree(second.parent)

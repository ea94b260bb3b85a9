"""Safe unpacking of TA archives that users upload (.tgz, .tar.gz, .spl, .tar, .zip).

An upload is hostile until proven otherwise: the format is sniffed from its bytes (never the
file name), each member's name and type is checked before it is written, sizes are
counted on the decompressed bytes actually read (headers can lie), files are created with
``O_EXCL | O_NOFOLLOW`` under our own modes, and the result must be one top folder holding
``default/app.conf``. Everything goes into a fresh temporary directory that is removed on
any error.
"""

from __future__ import annotations

import contextlib
import gzip
import lzma
import os
import shutil
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, Protocol

from engine.conf.ta import (
    DIR_MODE,
    FILE_MODE,
    MAX_FILES,
    MAX_MEMBER_BYTES,
    MAX_TOTAL_BYTES,
    InvalidTAError,
    is_junk,
)

CHUNK = 64 * 1024
# Tar headers and padding cost at most this many decompressed bytes per member beyond its data.
_TAR_OVERHEAD_PER_MEMBER = 3 * 512 + 511
_TAR_MAGIC_OFFSET = 257


class UnsafeArchiveError(ValueError):
    """An archive that is corrupt, of an unknown format, or would escape or exhaust the host."""


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _LimitedReader:
    """A read-only stream that fails once more than ``limit`` bytes have been read through it."""

    def __init__(self, raw: _Readable, limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        if self.count > self._limit:
            raise UnsafeArchiveError(
                f"archive expands beyond {self._limit} bytes (compression bomb or too large)"
            )
        return data


def _sniff(archive: Path) -> str:
    with archive.open("rb") as handle:
        head = handle.read(_TAR_MAGIC_OFFSET + 8)
    if head[:2] == b"\x1f\x8b":
        return "tgz"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "tar"
    if not head:
        raise UnsafeArchiveError(f"{archive.name}: empty file, not an archive")
    raise UnsafeArchiveError(
        f"{archive.name}: not a gzip tar (.tgz/.tar.gz/.spl), tar or zip archive"
    )


def _member_path(name: str) -> PurePosixPath:
    """The safe relative path of an archive member name, or an error naming the problem.

    ``.`` or ``./`` (``tar -C dir .``) maps to the empty path: the extraction root itself.
    """
    if "\\" in name or "\x00" in name:
        raise UnsafeArchiveError(f"member {name!r}: backslash or NUL in name")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"member {name!r}: absolute path")
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"member {name!r}: path traversal ('..')")
    return PurePosixPath(*parts)


class _Extractor:
    """Writes checked members under ``root`` and enforces the limits."""

    def __init__(self, root: Path, *, max_total_bytes: int, max_files: int, max_member: int):
        self.root = root
        self.max_total_bytes = max_total_bytes
        self.max_files = max_files
        self.max_member = max_member
        self.total = 0
        self.seen: set[PurePosixPath] = set()

    def _register(self, relative: PurePosixPath) -> bool:
        """Count a member; False when it is OS junk (``__MACOSX``, ``.DS_Store``) or the root
        folder entry, which are left out."""
        if not relative.parts:
            return False
        if is_junk(relative):
            return False
        if relative in self.seen:
            raise UnsafeArchiveError(f"member {relative}: appears twice in the archive")
        self.seen.add(relative)
        if len(self.seen) > self.max_files:
            raise UnsafeArchiveError(f"archive holds more than {self.max_files} files and folders")
        return True

    def _mkdirs(self, relative: PurePosixPath) -> Path:
        target = self.root
        for part in relative.parts:
            target = target / part
            if target.is_symlink() or (target.exists() and not target.is_dir()):
                raise UnsafeArchiveError(f"member {relative}: a file is in the way of a folder")
            if not target.exists():
                try:
                    target.mkdir()
                except OSError as exc:  # a name too long or invalid for this file system
                    raise UnsafeArchiveError(f"member {relative}: {exc.strerror}") from exc
                target.chmod(DIR_MODE)
        return target

    def directory(self, relative: PurePosixPath) -> None:
        if self._register(relative):
            self._mkdirs(relative)

    def file(self, relative: PurePosixPath, declared: int, stream: IO[bytes]) -> None:
        if not relative.parts:
            raise UnsafeArchiveError("a file member has an empty path")
        if not self._register(relative):
            return
        if declared > self.max_member:
            raise UnsafeArchiveError(
                f"member {relative}: {declared} bytes exceeds the {self.max_member} byte limit"
            )
        parent = self._mkdirs(relative.parent) if relative.parent.parts else self.root
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(parent / relative.name, flags, FILE_MODE)
        except FileExistsError as exc:  # a folder another member's path made
            raise UnsafeArchiveError(
                f"member {relative}: a folder is in the way of a file"
            ) from exc
        except OSError as exc:  # a name too long or invalid for this file system
            raise UnsafeArchiveError(f"member {relative}: {exc.strerror}") from exc
        os.fchmod(fd, FILE_MODE)  # whatever the umask
        written = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                self.total += len(chunk)
                if written > self.max_member:
                    raise UnsafeArchiveError(
                        f"member {relative}: more than {self.max_member} bytes when decompressed"
                    )
                if self.total > self.max_total_bytes:
                    raise UnsafeArchiveError(f"archive expands beyond {self.max_total_bytes} bytes")
                out.write(chunk)


def _extract_tar(source: BinaryIO, extractor: _Extractor, *, compressed: bool) -> None:
    limit = extractor.max_total_bytes + _TAR_OVERHEAD_PER_MEMBER * (extractor.max_files + 1)
    raw: _Readable = gzip.GzipFile(fileobj=source, mode="rb") if compressed else source
    counted = _LimitedReader(raw, limit)
    with tarfile.open(fileobj=counted, mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            relative = _member_path(member.name)
            if member.issym() or member.islnk():
                raise UnsafeArchiveError(
                    f"member {member.name}: links are not allowed ({member.linkname!r})"
                )
            if member.isdir():
                extractor.directory(relative)
            elif member.isreg() and not member.issparse():
                stream = tar.extractfile(member)
                if stream is None:  # pragma: no cover - isreg() members always have data
                    raise UnsafeArchiveError(f"member {member.name}: unreadable")
                extractor.file(relative, member.size, stream)
            else:
                raise UnsafeArchiveError(
                    f"member {member.name}: only regular files and folders are allowed "
                    "(device, fifo or special file)"
                )


def _zip_member_kind(info: zipfile.ZipInfo) -> str:
    """Unix type bits live in the high 16 bits; zips from other systems (or without type bits)
    hold plain files and folders."""
    mode = info.external_attr >> 16
    if info.is_dir() or stat.S_ISDIR(mode):
        return "dir"
    if stat.S_IFMT(mode) in (0, stat.S_IFREG):
        return "file"
    return "link" if stat.S_ISLNK(mode) else "special"


def _extract_zip(archive: Path, extractor: _Extractor) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > extractor.max_files:
            raise UnsafeArchiveError(f"archive holds more than {extractor.max_files} entries")
        for info in infos:
            relative = _member_path(info.filename)
            if info.flag_bits & 0x1:
                raise UnsafeArchiveError(f"member {info.filename}: encrypted entries")
            kind = _zip_member_kind(info)
            if kind == "link":
                raise UnsafeArchiveError(f"member {info.filename}: links are not allowed")
            if kind == "special":
                raise UnsafeArchiveError(
                    f"member {info.filename}: only regular files and folders are allowed"
                )
            if kind == "dir":
                extractor.directory(relative)
                continue
            with zf.open(info) as stream:
                extractor.file(relative, info.file_size, stream)


def _ta_root(root: Path) -> Path:
    """The single top folder holding default/app.conf, or an InvalidTAError."""
    tops = sorted(p.name for p in root.iterdir())
    if len(tops) != 1 or not (root / tops[0]).is_dir():
        listed = ", ".join(tops[:5]) or "nothing"
        raise InvalidTAError(f"not a TA: expected one top folder, found {listed}")
    ta_dir = root / tops[0]
    if not (ta_dir / "default" / "app.conf").is_file():
        raise InvalidTAError(f"not a TA: {tops[0]}/default/app.conf is missing")
    return ta_dir


def safe_unpack(
    archive: Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    workdir: Path | None = None,
) -> Path:
    """Unpack ``archive`` into a fresh temporary directory and return the TA folder in it.

    The caller owns the temporary directory (the returned folder's parent) and removes it;
    :func:`unpacked_ta` does that for you.
    """
    if not archive.is_file():
        raise UnsafeArchiveError(f"{archive}: not a file")
    kind = _sniff(archive)
    root = Path(tempfile.mkdtemp(prefix="tagen-ta-", dir=workdir))
    extractor = _Extractor(
        root, max_total_bytes=max_total_bytes, max_files=max_files, max_member=max_member_bytes
    )
    try:
        try:
            if kind == "zip":
                _extract_zip(archive, extractor)
            else:
                with archive.open("rb") as source:
                    _extract_tar(source, extractor, compressed=kind == "tgz")
        except UnsafeArchiveError:
            raise
        except (
            tarfile.TarError,
            zipfile.BadZipFile,
            gzip.BadGzipFile,
            zlib.error,
            lzma.LZMAError,
            struct.error,
            EOFError,
            NotImplementedError,
            ValueError,  # a member name that is not UTF-8 although flagged so, a bad offset
        ) as exc:
            raise UnsafeArchiveError(f"{archive.name}: corrupt archive ({exc})") from exc
        except OSError as exc:  # zipfile seeking to an offset a damaged directory gave, ...
            reason = exc.strerror or str(exc)
            raise UnsafeArchiveError(f"{archive.name}: cannot be unpacked ({reason})") from exc
        return _ta_root(root)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


@contextlib.contextmanager
def unpacked_ta(
    archive: Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    workdir: Path | None = None,
) -> Iterator[Path]:
    """``safe_unpack`` as a context manager that always removes the temporary directory."""
    ta_dir = safe_unpack(
        archive,
        max_total_bytes=max_total_bytes,
        max_files=max_files,
        max_member_bytes=max_member_bytes,
        workdir=workdir,
    )
    try:
        yield ta_dir
    finally:
        shutil.rmtree(ta_dir.parent, ignore_errors=True)

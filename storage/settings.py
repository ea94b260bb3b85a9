"""Settings owned by the storage package: the application database and the local data home.

Built lazily by the `get_*` functions (cached) so that importing storage never reads the
environment; tests clear the caches after changing the environment.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DRIVER_PREFIXES = ("postgresql://", "postgres://", "postgresql+asyncpg://")
APP_DRIVER_PREFIX = "postgresql+psycopg://"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_URL_SHAPE = "postgresql://user:password@host:port/database, an IPv6 host in brackets ([::1])"


def normalize_database_url(url: str) -> str:
    """Return `url` with the psycopg 3 driver. Plain postgresql:// and postgres:// are
    accepted, and so is the seeds' postgresql+asyncpg://: the application speaks psycopg 3
    (its error translation reads psycopg's diagnostics), whatever driver the URL names."""
    for prefix in _DRIVER_PREFIXES:
        if url.startswith(prefix):
            return APP_DRIVER_PREFIX + url[len(prefix) :]
    return url


def _checked_database_url(value: object, variable: str) -> object:
    """`value` as a psycopg URL, or a ValueError naming what is wrong (never the password)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        return None
    if not value.startswith(("postgresql", "postgres://")):
        raise ValueError(
            f"{variable} must be a PostgreSQL URL (postgresql://...), got scheme "
            f"{value.split(':', 1)[0]!r}"
        )
    value = normalize_database_url(value)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
        port = url.port
    except (ArgumentError, ValueError):
        raise ValueError(f"{variable} is malformed: expected {_URL_SHAPE}") from None
    if url.drivername != "postgresql+psycopg":
        raise ValueError(
            f"{variable} names the driver {url.drivername.split('+', 1)[-1]!r}; the application "
            f"connects through psycopg 3: write postgresql://..."
        )
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"{variable} has port {port}, outside 1-65535")
    host = url.host or ""
    if any(char in host for char in "[]/") or (host.count(":") and not _is_ipv6(host)):
        raise ValueError(f"{variable} has a malformed host: expected {_URL_SHAPE}")
    return value


def _is_ipv6(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _default_home() -> Path:
    """As root, /var/lib/tagen: the embedded server's own OS user must reach its data, and
    root's home is closed to it (an earlier ~/.local/share/tagen/pgdata is kept)."""
    from platformdirs import user_data_dir

    home = Path(user_data_dir("tagen"))
    if os.name == "posix" and os.geteuid() == 0 and not (home / "pgdata").exists():
        return Path("/var/lib/tagen")
    return home


class DatabaseSettings(BaseSettings):
    """The application database: `DATABASE_URL` or, when unset, the embedded PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_", extra="ignore")

    url: SecretStr | None = Field(
        default=None, description="the application role's URL; unset = embedded"
    )
    owner_url: SecretStr | None = Field(
        default=None, description="the owner role's URL for migrations; unset = url / embedded"
    )
    owner_role: str = Field(default="tagen_owner", description="owns the schema, migrates")
    app_role: str = Field(default="tagen_app", description="the application's role (DML only)")
    connect_timeout: int = Field(default=10, ge=1, description="seconds to establish a connection")
    statement_timeout: float = Field(
        default=300.0, ge=0, description="seconds a statement may run (0: no limit)"
    )
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=20, ge=0)
    echo: bool = False
    pool_recycle: int = Field(
        default=1800, ge=-1, description="seconds before a connection is renewed"
    )
    pool_pre_ping: bool = True
    pool_timeout: float = Field(default=30.0, gt=0)

    @field_validator("url", mode="before")
    @classmethod
    def _check_url(cls, value: object) -> object:
        return _checked_database_url(value, "DATABASE_URL")

    @field_validator("owner_url", mode="before")
    @classmethod
    def _check_owner_url(cls, value: object) -> object:
        return _checked_database_url(value, "DATABASE_OWNER_URL")

    @field_validator("owner_role", "app_role")
    @classmethod
    def _check_role(cls, value: str) -> str:
        if not _ROLE_NAME.fullmatch(value) or value == "postgres" or value.startswith("pg_"):
            raise ValueError(
                f"{value!r} is not a role name tagen uses: lower-case letters, digits and _, "
                f"not postgres nor pg_*"
            )
        return value

    @model_validator(mode="after")
    def _distinct_roles(self) -> Self:
        if self.owner_role == self.app_role:
            raise ValueError("DATABASE_OWNER_ROLE and DATABASE_APP_ROLE must differ")
        return self


class StorageSettings(BaseSettings):
    """Where tagen keeps local state (embedded PostgreSQL data dir, local objects)."""

    model_config = SettingsConfigDict(env_prefix="TAGEN_", extra="ignore")

    home: Path = Field(default_factory=_default_home)

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"


@lru_cache(maxsize=1)
def get_database_settings() -> DatabaseSettings:
    return DatabaseSettings()


@lru_cache(maxsize=1)
def get_storage_settings() -> StorageSettings:
    return StorageSettings()


def clear_settings_cache() -> None:
    """Forget cached settings (after the environment changed, e.g. in tests)."""
    get_database_settings.cache_clear()
    get_storage_settings.cache_clear()

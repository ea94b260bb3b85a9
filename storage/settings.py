"""Settings owned by the storage package: the application database and the local data home.

Built lazily by the `get_*` functions (cached) so that importing storage never reads the
environment; tests clear the caches after changing the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DRIVER_PREFIXES = ("postgresql://", "postgres://", "postgresql+asyncpg://")
APP_DRIVER_PREFIX = "postgresql+psycopg://"


def normalize_database_url(url: str) -> str:
    """Return `url` with the psycopg 3 driver. Plain postgresql:// and postgres:// are
    accepted, and so is the seeds' postgresql+asyncpg://: the application speaks psycopg 3
    (its error translation reads psycopg's diagnostics), whatever driver the URL names."""
    for prefix in _DRIVER_PREFIXES:
        if url.startswith(prefix):
            return APP_DRIVER_PREFIX + url[len(prefix) :]
    return url


def _default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("tagen"))


class DatabaseSettings(BaseSettings):
    """The application database: `DATABASE_URL` or, when unset, the embedded PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_", extra="ignore")

    url: SecretStr | None = Field(default=None, description="SQLAlchemy URL; unset = embedded")
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
    def _normalize(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not value.startswith(("postgresql", "postgres://")):
                raise ValueError(
                    f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got scheme "
                    f"{value.split(':', 1)[0]!r}"
                )
            return normalize_database_url(value)
        return value


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

"""tagen's settings: the composition of every package's own settings model, built lazily.

Each package owns what it configures (storage: database and local home; later objects,
sandbox, ...); this model only gathers them so the CLI and wiring can show or pass one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from storage.settings import (
    DatabaseSettings,
    StorageSettings,
    get_database_settings,
    get_storage_settings,
)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    storage: StorageSettings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once (on first call, never at import)."""
    return Settings(database=get_database_settings(), storage=get_storage_settings())

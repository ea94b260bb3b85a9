"""Alembic from Python (CLI, tests, Prefect tasks), independent of the current directory.

Migrations run as the owner role (storage.db.session.get_migration_url); `app_role` tells
migration 0005 which role gets the application's grants.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

_REPO_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    """The project's alembic.ini with script_location made absolute; `url` overrides settings."""
    ini = _REPO_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(_REPO_ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.attributes["url"] = url
    return config


def upgrade(revision: str = "head", *, url: str | None = None) -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(revision: str, *, url: str | None = None) -> None:
    command.downgrade(alembic_config(url), revision)


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def current(*, url: str | None = None) -> str | None:
    """The revision the database is at (None for an empty database), read as the owner role."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from storage.db.session import connect_args, get_migration_url

    url = url or get_migration_url()
    engine = create_engine(
        url, poolclass=NullPool, connect_args=connect_args(url, statement_timeout=False)
    )
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()

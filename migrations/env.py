"""Alembic environment (async, psycopg 3) reading the same settings as the application.

URL precedence: a connection passed in `config.attributes["connection"]`, then
`config.attributes["url"]` (storage.db.migrate), then the owner role's URL (DATABASE_OWNER_URL,
DATABASE_URL, or the embedded server's owner role). `config.attributes["app_role"]` names the
application role migrations grant to (default DATABASE_APP_ROLE).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db.models import Base
from storage.db.session import connect_args, get_migration_url
from storage.settings import get_database_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
config.attributes.setdefault("app_role", get_database_settings().app_role)

target_metadata = Base.metadata


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.attributes.get("url") or get_migration_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = config.attributes.get("url") or get_migration_url()
    engine = create_async_engine(
        url, poolclass=pool.NullPool, connect_args=connect_args(url, statement_timeout=False)
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_async())
        return
    # Called from inside an event loop (e.g. an async test): migrate on a private loop.
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(asyncio.run, _run_async()).result()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""What every command shares: one line on stderr and exit code 2 for an error, the storage and
lifecycle errors it covers, running a command's coroutine, reading a request id."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

T = TypeVar("T")


def fail(message: str) -> typer.Exit:
    """Print `message` as one line on stderr; the caller raises the returned Exit (code 2)."""
    Console(stderr=True, emoji=False).print(
        f"error: {message}", markup=False, highlight=False, soft_wrap=True
    )
    return typer.Exit(code=2)


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Turn the storage layer's errors into one line on stderr and exit code 2."""
    from alembic.util.exc import CommandError

    from storage.db.embedded import EmbeddedDatabaseError
    from storage.db.errors import StorageError
    from storage.db.session import describe_database_error

    try:
        yield
    except (StorageError, EmbeddedDatabaseError, CommandError) as exc:
        raise fail(str(exc)) from None
    except ValidationError as exc:
        raise fail(one_line(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(f"database: {describe_database_error(exc)}") from None
    except OSError as exc:  # e.g. TAGEN_HOME not writable
        raise fail(one_line(exc)) from None


def given_path(value: str, what: str) -> Path:
    """A path argument as typed. Taken as text because typer turns an empty one into ".", the
    current folder: ``tagen generate ""`` would read it as a sample."""
    if not value:
        raise fail(f"the {what} path is empty")
    return Path(value)


def one_line(exc: BaseException) -> str:
    """``exc`` as a single line: a setting that failed validation, a path and what the system
    said about it (without ``[Errno N]``), or the message with its whitespace folded."""
    from engine.outputs import os_reason

    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or exc.title
        return f"invalid setting {where}: {first['msg']}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {os_reason(exc)}"
    return " ".join(str(exc).split()) or type(exc).__name__


@contextlib.contextmanager
def lifecycle_errors() -> Iterator[None]:
    """Bad input of the lifecycle (and storage) as one line on stderr, exit code 2."""
    from storage.objects import ObjectStoreError
    from tagen.stack import StackError
    from tasks.errors import LifecycleError

    with cli_errors():
        try:
            yield
        except (LifecycleError, ObjectStoreError, StackError, TimeoutError, ValueError) as exc:
            raise fail(str(exc)) from None


def run_async(action: Callable[[], Awaitable[T]]) -> T:
    """Run one command's coroutine on a fresh loop and close its database engine afterwards."""
    from storage.db.session import dispose_engine

    async def _main() -> T:
        try:
            return await action()
        finally:
            await dispose_engine()

    return asyncio.run(_main())


def parse_request_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise fail(f"request id {value!r} is not a UUID") from None

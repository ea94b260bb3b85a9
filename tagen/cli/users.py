"""`tagen roles init`, `tagen users create|password|verify`: the people and roles of tagen.

Passwords are read from stdin only (`--password-stdin`), never from an option that would show
in the process list or the shell history; they are hashed (storage.db.passwords) and never
printed, logged or audited.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tagen.cli.common import cli_errors, fail, run_async

roles_app = typer.Typer(
    help="Roles (REQUESTOR, APPROVER, ADMIN, KNOWLEDGE_MANAGER).", no_args_is_help=True
)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from stdin (required)")
]


@roles_app.command("init")
def init_roles() -> None:
    """Create the default roles with their descriptions and permissions (idempotent)."""
    from storage.db.unit_of_work import UnitOfWork

    async def _init() -> list[str]:
        async with UnitOfWork() as uow:
            roles = await uow.roles.ensure_default_roles()
            await uow.commit()
            return [f"{role.name}: {role.description}" for role in roles]

    with cli_errors():
        for line in run_async(_init):
            typer.echo(line)


@users_app.command("create")
def create(
    username: Annotated[str, typer.Option(help="unique login name")],
    email: Annotated[str, typer.Option(help="unique e-mail address")],
    role: Annotated[
        list[str] | None,
        typer.Option(
            help="role to grant (repeatable): REQUESTOR, APPROVER, ADMIN, KNOWLEDGE_MANAGER"
        ),
    ] = None,
    full_name: Annotated[str | None, typer.Option(help="display name")] = None,
    superuser: Annotated[bool, typer.Option(help="grant every permission")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read a local password from stdin")
    ] = False,
) -> None:
    """Create a user with roles; the default roles are created first if missing."""
    from storage.db.enums import UserRoleEnum
    from storage.db.passwords import hash_password
    from storage.db.repositories.base import to_enum
    from tagen.wiring import install
    from tasks.user import NewUser, create_user

    async def _create() -> str:
        hashed = hash_password(_read_password()) if password_stdin else None
        wanted = tuple(to_enum(UserRoleEnum, name.strip().upper(), "--role") for name in role or [])
        made = await create_user(
            NewUser(
                username=username,
                email=email,
                roles=wanted,
                full_name=full_name,
                is_superuser=superuser,
                hashed_password=hashed,
            ),
            via="cli",
        )
        roles_text = ", ".join(str(name) for name in wanted) or "no roles"
        return f"created user {made.username} ({made.user_id}) with {roles_text}"

    with cli_errors():
        install()
        typer.echo(run_async(_create))


@users_app.command("password")
def password(
    username: Annotated[str, typer.Option(help="login name")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set or replace a user's local password (approvers authenticate their decisions with it)."""
    from storage.db.passwords import hash_password
    from tagen.wiring import install
    from tasks.user import set_password

    _require_stdin(password_stdin)

    async def _set() -> None:
        await set_password(username, hash_password(_read_password()), via="cli")

    with cli_errors():
        install()
        run_async(_set)
    typer.echo(f"password of {username} set")


@users_app.command("verify")
def verify(
    username: Annotated[str, typer.Option(help="login name")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Check a password read from stdin: exit 0 when it matches, 1 when it does not."""
    from storage.db.unit_of_work import UnitOfWork

    _require_stdin(password_stdin)

    async def _verify() -> bool:
        password = _read_password()
        async with UnitOfWork() as uow:
            return await uow.users.authenticate(username, password) is not None

    with cli_errors():
        matched = run_async(_verify)
    if not matched:
        typer.echo("invalid username or password", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"password of {username} verified")


def _require_stdin(password_stdin: bool) -> None:
    if not password_stdin:
        raise fail("--password-stdin is required: a password is read from stdin, never argv")


def _read_password() -> str:
    """The first line of stdin without its line ending (other whitespace is kept)."""
    from storage.db.errors import InvalidValueError

    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password.strip():
        raise InvalidValueError("no password on stdin (--password-stdin reads its first line)")
    return password


def register(app: typer.Typer) -> None:
    app.add_typer(roles_app, name="roles")
    app.add_typer(users_app, name="users")

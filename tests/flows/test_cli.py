"""The lifecycle CLI: one clear line and exit code 2 for bad input, no traceback."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from tagen.cli import _register, app


@pytest.fixture(scope="module")
def cli() -> CliRunner:
    from prefect.logging.configuration import ensure_logging_setup

    # Prefect binds its console handler to sys.stderr when first imported: do it now, not
    # inside CliRunner.invoke, whose stream is closed afterwards (later flow logs would fail).
    ensure_logging_setup()
    if not any(group.name == "request" for group in app.registered_groups):
        _register()
    return CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["request", "status", "not-a-uuid"],
        ["ta", "download", "nope"],
        ["request", "approve", "123", "--approver", "bob"],
    ],
)
def test_malformed_request_ids_are_refused(cli: CliRunner, args: list[str]):
    result = cli.invoke(app, args)
    assert result.exit_code == 2
    assert "is not a UUID" in result.output
    assert "Traceback" not in result.output


def test_unknown_request_is_reported(cli: CliRunner, db_url: str):
    missing = str(uuid.uuid4())
    result = cli.invoke(app, ["request", "status", missing])
    assert result.exit_code == 2
    assert f"no request {missing}" in result.output


def test_reject_needs_a_reason(cli: CliRunner):
    result = cli.invoke(
        app, ["request", "reject", str(uuid.uuid4()), "--approver", "b", "--reason", " "]
    )
    assert result.exit_code == 2
    assert "--reason must not be empty" in result.output


def test_list_shows_requests_or_says_there_are_none(cli: CliRunner, db_url: str):
    result = cli.invoke(app, ["request", "list", "--status", "COMPLETED", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert result.output.strip()

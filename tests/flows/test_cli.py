"""The lifecycle CLI: one clear line and exit code 2 for bad input, no traceback."""

from __future__ import annotations

import io
import os
import tarfile
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tagen.cli import _register, app
from tests.flows.conftest import run, set_config


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


@pytest.fixture
def cli_objects(test_backends: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI's own backends (tagen.wiring) store objects where the other suites look: a
    document it registers stays indexable by the indexing flows that run later."""
    from storage.objects.settings import get_object_store_settings
    from tasks import backends as task_backends

    root = test_backends.objects.root
    monkeypatch.setenv("TAGEN_OBJECTS_URL", str(root))
    get_object_store_settings.cache_clear()
    # Another factory first, so the CLI's install() builds its backends again from the
    # environment instead of keeping what an earlier command built.
    task_backends.install(test_backends)
    yield root
    get_object_store_settings.cache_clear()
    task_backends.install(test_backends)


def _storage_key(document_id: str) -> str:
    from storage.db.unit_of_work import UnitOfWork

    async def key() -> str:
        async with UnitOfWork() as uow:
            return (await uow.knowledge.get(uuid.UUID(document_id))).storage_key

    return run(key())


def _documents_titled(title: str) -> int:
    from storage.db.unit_of_work import UnitOfWork

    async def count() -> int:
        async with UnitOfWork() as uow:
            return len(await uow.knowledge.get_all(0, 100, filters={"title": title}))

    return run(count())


def test_knowledge_add_refuses_a_file_over_the_limit_before_reading_it(
    cli: CliRunner, db_url: str, cli_objects: Path, tmp_path: Path
):
    big = tmp_path / "big.md"
    with big.open("wb") as handle:  # sparse: 64 MB on paper
        handle.truncate(64 * 1024 * 1024)
    run(set_config("MAX_DOCUMENT_BYTES", 1024 * 1024))
    tracemalloc.start()
    try:
        result = cli.invoke(app, ["knowledge", "add", str(big), "--title", "too-big"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        run(set_config("MAX_DOCUMENT_BYTES", 200 * 1024 * 1024))
    assert result.exit_code == 2, result.output
    assert f"document {big}: 67108864 bytes is more than the 1048576 allowed" in result.output
    assert peak < 16 * 1024 * 1024  # refused from its size, not read into memory
    assert _documents_titled("too-big") == 0
    assert not cli_objects.exists() or not any(cli_objects.rglob("big.md"))


def test_knowledge_add_unpacks_a_ta_archive_safely_before_storing_it(
    cli: CliRunner, db_url: str, cli_objects: Path, tmp_path: Path
):
    bomb = tmp_path / "bomb.tgz"  # 60 MB of zeros in one member: about 60 kB compressed
    with tarfile.open(bomb, "w:gz") as tar:
        for name, size in (("TA-bomb/default/app.conf", 0), ("TA-bomb/static/zeros", 60 << 20)):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    result = cli.invoke(app, ["knowledge", "add", str(bomb), "--type", "ta_archive"])
    assert result.exit_code == 2, result.output
    assert "static/zeros: 62914560 bytes exceeds the 52428800 byte limit" in result.output
    assert _documents_titled("bomb.tgz") == 0
    assert not cli_objects.exists() or not any(cli_objects.rglob("bomb.tgz"))


def test_knowledge_add_refuses_a_fifo_and_reports_progress(
    cli: CliRunner, db_url: str, cli_objects: Path, tmp_path: Path
):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    result = cli.invoke(app, ["knowledge", "add", str(fifo)])
    assert result.exit_code == 2
    assert f"document {fifo}: is a named pipe (FIFO), not a regular file" in result.output

    document = tmp_path / "notes.md"
    document.write_text(f"# Notes {uuid.uuid4()}\n\nTIME_PREFIX notes.\n" * 100)
    result = cli.invoke(app, ["knowledge", "add", str(document), "--progress"])
    assert result.exit_code == 0, result.output
    size = document.stat().st_size
    assert f"adding: 100% ({2 * size / 1000:.1f} kB of {2 * size / 1000:.1f} kB)" in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("added: ")
    assert (cli_objects / _storage_key(last.removeprefix("added: "))).is_file()


@pytest.fixture
def no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A TAGEN_HOME where no stack runs: a decision stops right after reading its password."""
    from tagen import stack

    monkeypatch.setenv("TAGEN_HOME", str(tmp_path))
    monkeypatch.delenv("TAGEN_APPROVER_PASSWORD", raising=False)
    stack.get_stack_settings.cache_clear()
    yield
    monkeypatch.undo()
    stack.get_stack_settings.cache_clear()


@pytest.mark.usefixtures("no_stack")
def test_decisions_read_the_password_from_a_hidden_prompt_or_the_environment_never_an_option(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
):
    request_id, secret = str(uuid.uuid4()), "s3cret-" + uuid.uuid4().hex
    approve = ["request", "approve", request_id, "--approver", "bob"]
    flagged = cli.invoke(app, [*approve, "--password", secret])
    assert flagged.exit_code == 2 and "No such option: --password" in flagged.output

    prompted = cli.invoke(app, approve, input=secret + "\n")
    assert "password of bob" in prompted.output  # asked for it, without echoing it
    assert secret not in prompted.output
    assert "the tagen stack is not running" in prompted.output  # and went on with it

    unanswered = cli.invoke(app, approve, input="")
    assert unanswered.exit_code == 2
    assert "no password: set TAGEN_APPROVER_PASSWORD or answer the prompt" in unanswered.output

    monkeypatch.setenv("TAGEN_APPROVER_PASSWORD", secret)
    from_env = cli.invoke(
        app, ["request", "reject", request_id, "--approver", "bob", "--reason", "r"]
    )
    assert "password of bob" not in from_env.output
    assert "the tagen stack is not running" in from_env.output
    monkeypatch.setenv("TAGEN_APPROVER_PASSWORD", " ")
    empty = cli.invoke(app, approve)
    assert empty.exit_code == 2 and "the password of bob must not be empty" in empty.output

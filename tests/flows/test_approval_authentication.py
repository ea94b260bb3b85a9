"""Authenticated decisions at the approval gate: the approver's password is checked, failures are
audited and lock the approver out for a while, and no password stays where Prefect or tagen
store things (run input, logs, parameters, artifacts, audit entries)."""

from __future__ import annotations

import secrets
import sqlite3
import time
import uuid
from typing import Any

import pytest

from tests.flows.conftest import (
    decide,
    request_details,
    resume,
    run,
    set_config,
    start_request,
)

pytestmark = pytest.mark.usefixtures("lifecycle_env")


def _new_approver(*, password: bool = True) -> tuple[str, str]:
    """A new APPROVER of its own (failures of other tests never count against it) and its
    password (set unless `password` is False)."""
    from storage.db.enums import UserRoleEnum
    from storage.db.passwords import hash_password
    from tasks.user import ensure_user, set_password

    username, secret = f"appr-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(18)

    async def create() -> None:
        await ensure_user(username, roles=(UserRoleEnum.APPROVER,))
        if password:
            await set_password(username, hash_password(secret), via="test")

    run(create())
    return username, secret


def _refused(audit: list[Any]) -> list[Any]:
    return [entry for entry in audit if entry.details.get("decision") == "refused"]


def test_a_wrong_password_is_refused_and_audited_and_the_right_one_decides():
    approver, password = _new_approver()
    flow, request_id, flow_run_id = start_request()
    flow.wait_paused(flow_run_id, key="approval-1")
    decision = decide(request_id, approved=True, approver=approver, password="x" + password)
    assert decision.status == "PENDING_APPROVAL"
    assert f"authentication failed for approver {approver!r}" in (decision.refusal or "")
    flow.wait_paused(flow_run_id, key="approval-2")  # the gate waits for another decision
    request, audit = run(request_details(request_id))
    assert str(request.status) == "PENDING_APPROVAL"
    [refused] = _refused(audit)
    assert refused.details["authentication"] == "failed"
    assert (refused.details["approver"], refused.details["gate"]) == (approver, "approval-1")
    assert refused.user_id is not None

    decision = decide(request_id, approved=True, approver=approver, password=password)
    assert decision.refusal is None and decision.status != "PENDING_APPROVAL"
    result = flow.join(timeout=240)
    assert result["status"] in ("COMPLETED", "FAILED")  # past the gate: generated, validated
    request, audit = run(request_details(request_id))
    assert request.approved_by is not None
    [approval] = [a for a in audit if str(a.action) == "APPROVE"]
    assert approval.details["authentication"] == "verified"
    assert approval.details["approver"] == approver


def test_users_without_a_password_and_empty_credentials_cannot_decide():
    approver, _ = _new_approver(password=False)
    other, _ = _new_approver()
    flow, request_id, flow_run_id = start_request()
    flow.wait_paused(flow_run_id, key="approval-1")
    decision = decide(request_id, approved=True, approver=approver, password="any password")
    assert "no password is set for that user" in (decision.refusal or "")
    flow.wait_paused(flow_run_id, key="approval-2")
    resume(flow_run_id, approved=True, approver=other, credential="")  # e.g. an erased one
    flow.wait_paused(flow_run_id, key="approval-3")
    request, audit = run(request_details(request_id))
    assert str(request.status) == "PENDING_APPROVAL"
    assert [a.details["authentication"] for a in _refused(audit)] == ["failed", "failed"]
    decide(request_id, approved=False, approver="appr-bob", reason="cleanup")
    assert flow.join()["status"] == "REJECTED"


def test_repeated_failures_lock_the_approver_out_until_the_window_has_passed():
    approver, password = _new_approver()
    run(set_config("APPROVAL_MAX_FAILED_LOGINS", 2))
    run(set_config("APPROVAL_LOCKOUT_SECONDS", 3600))
    try:
        flow, request_id, flow_run_id = start_request()
        for round_ in (1, 2):
            flow.wait_paused(flow_run_id, key=f"approval-{round_}")
            wrong = decide(
                request_id, approved=False, approver=approver, password="guess", reason="r"
            )
            assert "authentication failed" in (wrong.refusal or "")
        flow.wait_paused(flow_run_id, key="approval-3")
        # the right password, but too late: the approver is locked out
        locked = decide(
            request_id, approved=False, approver=approver, password=password, reason="r"
        )
        assert locked.status == "PENDING_APPROVAL"
        assert f"too many failed authentications for approver {approver!r} (2 within 3600 s)" in (
            locked.refusal or ""
        )
        assert "refused until" in (locked.refusal or "")
        flow.wait_paused(flow_run_id, key="approval-4")
        other, _ = _new_approver()  # is not locked out: the count is per approver
        wrong = decide(request_id, approved=False, approver=other, password="guess", reason="r")
        assert "authentication failed" in (wrong.refusal or "")
        flow.wait_paused(flow_run_id, key="approval-5")
        _, audit = run(request_details(request_id))
        assert [a.details["authentication"] for a in _refused(audit)] == [
            "failed",
            "failed",
            "locked",
            "failed",
        ]
        # once the window has passed (shrunk to one second here), the approver decides again
        run(set_config("APPROVAL_LOCKOUT_SECONDS", 1))
        time.sleep(1.5)
        decision = decide(
            request_id, approved=False, approver=approver, password=password, reason="late"
        )
        assert (decision.status, decision.refusal) == ("REJECTED", None)
        assert flow.join()["status"] == "REJECTED"
    finally:
        run(set_config("APPROVAL_MAX_FAILED_LOGINS", 5))
        run(set_config("APPROVAL_LOCKOUT_SECONDS", 900))


def _prefect_database() -> str:
    """Every row the Prefect (test) server stored, as SQL text."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
    assert url is not None and url.startswith("sqlite+aiosqlite:///"), url
    with sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) as connection:
        return "\n".join(connection.iterdump())


async def _application_database() -> str:
    """Every row of every table of the application's database, as text."""
    from sqlalchemy import text

    from storage.db.unit_of_work import UnitOfWork

    async with UnitOfWork() as uow:
        tables = await uow.session.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        rows = []
        for table in tables.all():
            found = await uow.session.scalars(text(f'SELECT t::text FROM "{table}" t'))
            rows += found.all()
    return "\n".join(rows)


def _prefect_logs_of(flow_run_id: uuid.UUID) -> str:
    """The run's log lines the server stored, once the refusal's warning has arrived."""
    deadline = time.monotonic() + 30
    dump = _prefect_database()
    while "decision refused: authentication failed" not in dump and time.monotonic() < deadline:
        time.sleep(0.5)
        dump = _prefect_database()
    return dump


def test_no_password_is_left_in_what_prefect_or_tagen_stored():
    approver, password = _new_approver()
    wrong = secrets.token_urlsafe(18)
    flow, request_id, flow_run_id = start_request()
    flow.wait_paused(flow_run_id, key="approval-1")
    decide(request_id, approved=False, approver=approver, password=wrong, reason="one")
    flow.wait_paused(flow_run_id, key="approval-2")
    decide(request_id, approved=False, approver=approver, password=password, reason="two")
    assert flow.join()["status"] == "REJECTED"

    prefect = _prefect_logs_of(flow_run_id)
    # what is searched holds the run, its decisions (without credential) and its logs...
    assert str(flow_run_id) in prefect and approver in prefect
    assert '"credential": ""' in prefect
    assert "decision refused: authentication failed" in prefect
    # ...and neither password
    assert password not in prefect and wrong not in prefect

    tagen = run(_application_database())
    assert request_id in tagen and approver in tagen and "authentication" in tagen
    assert password not in tagen and wrong not in tagen

"""A decision sent the moment a run pauses: Prefect sets the PAUSED state before it stores the
run input schema (the form), and a resume in between is rejected 'Run input schema not found'
(seen with 100 concurrent requests). `tagen.lifecycle` waits for the form instead of failing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.flows.conftest import run

DECISION = {"approved": True, "approver": "appr-bob", "credential": "pw", "reason": "ok"}


async def _paused_without_form() -> tuple[uuid.UUID, Any]:
    """A flow run PAUSED at an approval gate whose form is not stored yet, and its keyset."""
    from prefect import flow, get_client
    from prefect.input import keyset_from_paused_state
    from prefect.states import Paused, Running

    @flow(name="form-wait")
    def gate() -> None: ...

    async with get_client() as client:
        flow_run = await client.create_flow_run(gate)
        await client.set_flow_run_state(flow_run.id, Running(), force=True)
        paused: Any = Paused(pause_key="approval-1")
        keyset = keyset_from_paused_state(paused)
        paused.state_details.run_input_keyset = keyset
        await client.set_flow_run_state(flow_run.id, paused, force=True)
    return flow_run.id, keyset


def test_a_decision_sent_before_the_form_is_stored_waits_for_it(prefect_server: None) -> None:
    from prefect import get_client

    from tagen.lifecycle import resume_with_input
    from tasks.approval import ApprovalDecision

    async def scenario() -> tuple[str, Any]:
        flow_run_id, keyset = await _paused_without_form()

        async def publish_form_later() -> None:
            await asyncio.sleep(1.5)
            await ApprovalDecision.asave(keyset, flow_run_id=flow_run_id)

        publisher = asyncio.create_task(publish_form_later())
        await resume_with_input(flow_run_id, DECISION)
        await publisher
        async with get_client() as client:
            state = (await client.read_flow_run(flow_run_id)).state
            stored = await client.read_flow_run_input(flow_run_id, keyset["response"])
        assert state is not None
        return state.type.value, stored

    state, stored = run(scenario())
    assert state == "RUNNING"
    assert '"approver": "appr-bob"' in stored or '"approver":"appr-bob"' in stored


def test_without_the_wait_prefect_rejects_the_early_decision(prefect_server: None) -> None:
    """The race the wait covers, as Prefect shows it (so the wait is not for nothing)."""
    from tagen.lifecycle import resume_with_input

    flow_run_id, _ = run(_paused_without_form())
    with pytest.raises(RuntimeError, match="schema not found"):
        run(resume_with_input(flow_run_id, DECISION, form_wait=0))

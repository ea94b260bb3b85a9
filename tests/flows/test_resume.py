"""`tagen request resume` (tagen.lifecycle.resume): which runs may be resumed, with what."""

from __future__ import annotations

import pytest

from tests.flows.conftest import SAMPLE, FlowThread, decide, run

pytestmark = pytest.mark.usefixtures("lifecycle_env")


def test_a_live_run_is_not_resumed_and_a_finished_request_has_nothing_to_resume():
    from tagen import lifecycle
    from tasks.errors import LifecycleError

    flow = FlowThread(requester="req-ann", source_system="resume", samples=[str(SAMPLE)])
    request_id, flow_run_id = flow.request_and_run()
    flow.wait_paused(flow_run_id, key="approval-1")

    parameters = run(lifecycle.resume_parameters(request_id))
    assert parameters["request_id"] == request_id
    assert parameters["samples"] == [str(SAMPLE)]
    assert parameters["idempotency_key"] == flow.key
    with pytest.raises(LifecycleError, match="is PAUSED: resume only a run that died"):
        run(lifecycle.resume(request_id))

    decide(request_id, approved=False, approver="appr-bob", reason="not now")
    assert flow.join()["status"] == "REJECTED"
    with pytest.raises(LifecycleError, match="is REJECTED: nothing to resume"):
        run(lifecycle.resume(request_id, force=True))

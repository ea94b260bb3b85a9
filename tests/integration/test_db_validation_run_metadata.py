"""What ran a validation and its log: splunk_container_id and validation_logs on completion."""

from __future__ import annotations

from storage.db.enums import RequestStatus, ValidationStatus
from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import Builder


async def test_completion_records_the_runner_and_its_log(uow: UnitOfWork, build: Builder):
    request = await build.request(status=RequestStatus.VALIDATING)
    run = await build.validation(await build.revision(request))
    await uow.validations.start_validation(run.id, "tagen-worker@host:1")
    log = "provisioning...\n@@tagen-done@@\n" + "é" * 1000
    done = await uow.validations.complete_validation(
        run.id,
        ValidationStatus.PASSED,
        {"verdict": "PASSED"},
        splunk_container_id="tagen-validation-1234abcd-0a1b2c3d",
        validation_logs=log,
    )
    assert done.splunk_container_id == "tagen-validation-1234abcd-0a1b2c3d"
    assert done.validation_logs == log
    again = await uow.validations.get(run.id)
    assert (again.splunk_container_id, again.validation_logs) == (done.splunk_container_id, log)


async def test_completion_without_a_runner_keeps_the_worker_of_the_start(
    uow: UnitOfWork, build: Builder
):
    request = await build.request(status=RequestStatus.VALIDATING)
    run = await build.validation(await build.revision(request))
    await uow.validations.start_validation(run.id, "tagen-worker@host:2")
    done = await uow.validations.complete_validation(
        run.id, ValidationStatus.FAILED, {}, error_message="no package"
    )
    assert done.splunk_container_id == "tagen-worker@host:2"
    assert done.validation_logs is None

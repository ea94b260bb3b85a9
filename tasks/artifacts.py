"""Prefect artifacts on a lifecycle run: the validation report, where to download the TA, and
which planner made each revision (the summary of its AI transcript)."""

from __future__ import annotations

import uuid

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from tasks.backends import get_backends, unit_of_work
from tasks.generation_session import describe_session
from tasks.validation_run import ValidationOutcome


@task
async def publish_report(request_id: str) -> str:
    """Markdown report + table of validation runs; returns the markdown."""
    async with unit_of_work() as uow:
        request = await uow.requests.get_full_details(uuid.UUID(request_id))
        if request is None:
            raise LookupError(f"no request {request_id}")
        revisions = list(request.ta_revisions)
        runs = list(request.validation_runs)
        sessions = {
            session.ta_revision_id: session
            for session in await uow.generation_sessions.get_for_request(request.id)
        }
    objects = get_backends().objects
    versions = {r.id: r.version for r in revisions}
    rows = [
        {
            "version": f"v{versions.get(run.ta_revision_id, '?')}",
            "status": str(run.status),
            "events": outcome.report.events if outcome.report else 0,
            "reasons": "; ".join(outcome.reasons) if not outcome.passed else "",
            "debug_bundle": objects.url(run.debug_bundle_key) if run.debug_bundle_key else "",
        }
        for run, outcome in ((run, ValidationOutcome.stored(run)) for run in runs)
    ]
    latest = revisions[-1] if revisions else None
    lines = [
        f"# TA request {request_id}: {request.status}",
        "",
        f"- **Source system:** {request.source_system}",
    ]
    if request.failure_reason:
        lines.append(f"- **Failure reason:** {request.failure_reason}")
    if request.rejection_reason:
        lines.append(f"- **Rejection reason:** {request.rejection_reason}")
    if latest is not None and latest.storage_key:
        lines += [
            f"- **Latest revision:** v{latest.version} ({latest.generated_by})",
            f"- **SHA-256:** `{latest.checksum}`",
            f"- **Download:** {objects.url(latest.storage_key)}",
            f"- **CLI:** `tagen ta download {request_id} --version {latest.version}`",
        ]
    planned = [
        f"- v{revision.version}: {describe_session(sessions[revision.id])}"
        for revision in revisions
        if revision.id in sessions
    ]
    if planned:
        lines += ["", "## Planner (AI transcripts)", "", *planned]
    lines += ["", "| version | status | events | reasons |", "|---|---|---|---|"]
    lines += [f"| {r['version']} | {r['status']} | {r['events']} | {r['reasons']} |" for r in rows]
    markdown = "\n".join(lines)
    key = f"ta-request-{request_id[:8]}"
    await acreate_markdown_artifact(markdown=markdown, key=key, description="TA request report")
    await acreate_table_artifact(
        table=rows, key=f"{key}-validations", description="Validation runs of the request"
    )
    return markdown

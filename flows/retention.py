"""Nightly retention: delete samples whose retention ended (rows, then objects; audited)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.approval import expire_stale_approvals
from tasks.retention import delete_sample, find_expired_samples


@flow(name="retention", log_prints=True)
async def retention(dry_run: bool = False) -> dict[str, int]:
    """With `dry_run`, only report what would be deleted.

    Also ends requests whose approval waited past APPROVAL_TIMEOUT_SECONDS (suspended runs
    cannot time themselves out).
    """
    expired_approvals = [] if dry_run else await expire_stale_approvals()
    expired = await find_expired_samples()
    logger = get_run_logger()
    if dry_run:
        for sample in expired:
            logger.info("would delete %s (retention ended %s)", sample.key, sample.retention_until)
        return {"expired": len(expired), "deleted": 0, "missing_objects": 0, "approvals": 0}
    missing = 0
    for sample in expired:
        if not await delete_sample(sample.sample_id):
            missing += 1
    return {
        "expired": len(expired),
        "deleted": len(expired),
        "missing_objects": missing,
        "approvals": len(expired_approvals),
    }

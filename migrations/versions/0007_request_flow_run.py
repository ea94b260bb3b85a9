"""A request knows the flow run that drives it: requests.flow_run_id (nullable UUID, indexed).

Existing requests get the run they were created in: the correlation id of their CREATE audit
entry, which is the lifecycle's flow run id (until now the only way to find it). Entries made
outside a flow run carry "local" (not a UUID) and leave the column NULL. The backfill is no
change of the request, so updated_at (what the approval-timeout sweep reads) is kept: its
trigger is off for that one statement. Audit entries are read as both spellings of the entity
("Request" before AuditEntity, "request" after), never rewritten (the log is append-only).

Downgrade drops the column and its index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID_TEXT = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def upgrade() -> None:
    op.add_column("requests", sa.Column("flow_run_id", postgresql.UUID(), nullable=True))
    op.create_index("ix_requests_flow_run_id", "requests", ["flow_run_id"])
    op.execute("ALTER TABLE requests DISABLE TRIGGER trg_requests_updated_at")
    op.execute(
        sa.text(
            "UPDATE requests AS r SET flow_run_id = a.correlation_id::uuid "
            "FROM audit_logs AS a "
            "WHERE a.entity_type IN ('request', 'Request') AND a.action = 'CREATE' "
            "AND a.entity_id = r.id::text AND a.correlation_id ~ :uuid"
        ).bindparams(uuid=UUID_TEXT)
    )
    op.execute("ALTER TABLE requests ENABLE TRIGGER trg_requests_updated_at")


def downgrade() -> None:
    op.drop_index("ix_requests_flow_run_id", table_name="requests")
    op.drop_column("requests", "flow_run_id")

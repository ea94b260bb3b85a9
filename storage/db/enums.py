"""Enumerations stored as native PostgreSQL enum types (values are exactly the seed values)."""

from __future__ import annotations

import enum


class RequestStatus(enum.StrEnum):
    NEW = "NEW"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    GENERATING_TA = "GENERATING_TA"
    VALIDATING = "VALIDATING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ValidationStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PASSED = "PASSED"
    FAILED = "FAILED"


class TARevisionType(enum.StrEnum):
    AUTO = "AUTO"
    MANUAL = "MANUAL"


class UserRoleEnum(enum.StrEnum):
    REQUESTOR = "REQUESTOR"
    APPROVER = "APPROVER"
    ADMIN = "ADMIN"
    KNOWLEDGE_MANAGER = "KNOWLEDGE_MANAGER"


class AuditAction(enum.StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    DOWNLOAD = "DOWNLOAD"
    UPLOAD = "UPLOAD"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"


class AuditEntity(enum.StrEnum):
    """What an audit entry is about. The values are the seeds' own spelling (`"request"`,
    `"ta_revision"`), so the guides' `create_log(entity_type="request", ...)` and
    `get_by_entity("request", ...)` name the same entries the application writes."""

    REQUEST = "request"
    LOG_SAMPLE = "log_sample"
    TA_REVISION = "ta_revision"
    VALIDATION_RUN = "validation_run"
    KNOWLEDGE_DOCUMENT = "knowledge_document"
    USER = "user"
    SESSION = "session"
    GENERATION_SESSION = "generation_session"
    """A revision's generation session (which planner, which model, redacted or raw)."""


LEGACY_AUDIT_ENTITIES: dict[str, AuditEntity] = {
    "Request": AuditEntity.REQUEST,
    "LogSample": AuditEntity.LOG_SAMPLE,
    "TARevision": AuditEntity.TA_REVISION,
    "ValidationRun": AuditEntity.VALIDATION_RUN,
    "KnowledgeDocument": AuditEntity.KNOWLEDGE_DOCUMENT,
    "User": AuditEntity.USER,
}
"""Entity names the application wrote before AuditEntity (class names). audit_logs is
append-only, so those rows keep them; lookups read both spellings (AuditLogRepository)."""


class ConfigValueType(enum.StrEnum):
    """How SystemConfig.value (text) is parsed."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    JSON = "json"
    LIST = "list"


WORKING_STATUSES: frozenset[RequestStatus] = frozenset(
    {
        RequestStatus.NEW,
        RequestStatus.PENDING_APPROVAL,
        RequestStatus.APPROVED,
        RequestStatus.GENERATING_TA,
        RequestStatus.VALIDATING,
    }
)

# The request state machine. VALIDATING -> GENERATING_TA is the repair loop: a failed validation
# regenerates revision v(N+1) and validates again. FAILED is reachable from every working state.
# Migration 0001 installs the same table as a trigger on requests.status.
REQUEST_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.NEW: frozenset({RequestStatus.PENDING_APPROVAL, RequestStatus.FAILED}),
    RequestStatus.PENDING_APPROVAL: frozenset(
        {RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.FAILED}
    ),
    RequestStatus.APPROVED: frozenset({RequestStatus.GENERATING_TA, RequestStatus.FAILED}),
    RequestStatus.GENERATING_TA: frozenset({RequestStatus.VALIDATING, RequestStatus.FAILED}),
    RequestStatus.VALIDATING: frozenset(
        {RequestStatus.COMPLETED, RequestStatus.GENERATING_TA, RequestStatus.FAILED}
    ),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.COMPLETED: frozenset(),
    RequestStatus.FAILED: frozenset(),
}

"""All models (importing this registers every table on Base.metadata) and their enums."""

from __future__ import annotations

from storage.db.base import Base
from storage.db.enums import (
    REQUEST_TRANSITIONS,
    WORKING_STATUSES,
    AuditAction,
    ConfigValueType,
    RequestStatus,
    TARevisionType,
    UserRoleEnum,
    ValidationStatus,
)
from storage.db.models.audit_log import AuditLog
from storage.db.models.circuit_breaker import CircuitBreakerState
from storage.db.models.generation_session import GenerationMessage, GenerationSession
from storage.db.models.knowledge_chunk import KnowledgeChunk
from storage.db.models.knowledge_document import KnowledgeDocument
from storage.db.models.knowledge_vector import KnowledgeVector
from storage.db.models.log_sample import LogSample
from storage.db.models.request import Request
from storage.db.models.role import Role
from storage.db.models.system_config import SystemConfig
from storage.db.models.ta_revision import TARevision
from storage.db.models.user import User, UserRole
from storage.db.models.validation_run import ValidationRun

__all__ = [
    "REQUEST_TRANSITIONS",
    "WORKING_STATUSES",
    "AuditAction",
    "AuditLog",
    "Base",
    "CircuitBreakerState",
    "ConfigValueType",
    "GenerationMessage",
    "GenerationSession",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "KnowledgeVector",
    "LogSample",
    "Request",
    "RequestStatus",
    "Role",
    "SystemConfig",
    "TARevision",
    "TARevisionType",
    "User",
    "UserRole",
    "UserRoleEnum",
    "ValidationRun",
    "ValidationStatus",
]

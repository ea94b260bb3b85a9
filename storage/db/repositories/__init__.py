"""One repository per entity; they never commit (the unit of work does)."""

from __future__ import annotations

from storage.db.repositories.audit_log import AuditLogRepository
from storage.db.repositories.base import BaseRepository
from storage.db.repositories.knowledge_document import (
    KnowledgeDocumentRepository,
    KnowledgeStatistics,
)
from storage.db.repositories.log_sample import LogSampleRepository
from storage.db.repositories.request import RequestRepository, RequestStatistics, StatusChange
from storage.db.repositories.role import DEFAULT_ROLES, RoleRepository
from storage.db.repositories.system_config import SECRET_MASK, SystemConfigRepository
from storage.db.repositories.ta_revision import TARevisionRepository
from storage.db.repositories.user import UserRepository
from storage.db.repositories.validation_run import ValidationRunRepository, ValidationStatistics

__all__ = [
    "DEFAULT_ROLES",
    "SECRET_MASK",
    "AuditLogRepository",
    "BaseRepository",
    "KnowledgeDocumentRepository",
    "KnowledgeStatistics",
    "LogSampleRepository",
    "RequestRepository",
    "RequestStatistics",
    "RoleRepository",
    "StatusChange",
    "SystemConfigRepository",
    "TARevisionRepository",
    "UserRepository",
    "ValidationRunRepository",
    "ValidationStatistics",
]

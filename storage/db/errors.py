"""Domain errors of the storage layer: what went wrong, named, without driver tracebacks."""

from __future__ import annotations

from typing import Any


class StorageError(Exception):
    """Base class of every storage error."""


class NotFoundError(StorageError):
    def __init__(self, entity: str, key: Any, *, field: str = "id") -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} with {field}={key!s} not found")


class DuplicateError(StorageError):
    """A unique constraint refused the row (e.g. a second user with the same username)."""

    def __init__(self, entity: str, detail: str) -> None:
        self.entity = entity
        super().__init__(f"duplicate {entity}: {detail}")


class ConstraintViolationError(StorageError):
    """A foreign key, check or not-null constraint refused the data."""


class InvalidValueError(StorageError, ValueError):
    """A value is not acceptable for a column (unknown enum member, unknown column, ...)."""


class InvalidStatusTransitionError(StorageError):
    def __init__(self, entity: str, current: Any, target: Any) -> None:
        self.current = current
        self.target = target
        super().__init__(f"{entity} cannot move from {current!s} to {target!s}")


class RoleError(StorageError):
    """A role requirement is not met (missing role, approver is the requestor, ...)."""


class ImmutableAuditLogError(StorageError):
    def __init__(self, operation: str) -> None:
        super().__init__(f"audit logs are append-only: {operation} is not allowed")


class InvalidConfigValueError(StorageError, ValueError):
    def __init__(self, key: str, value_type: str, detail: str) -> None:
        self.key = key
        super().__init__(f"config {key!r} is not a valid {value_type}: {detail}")

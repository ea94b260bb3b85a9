"""Domain errors of the storage layer: what went wrong, named, without driver tracebacks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError


class StorageError(Exception):
    """Base class of every storage error."""


class _IntegrityErrorToo(StorageError, IntegrityError):
    """A refusal by a database constraint that is also an sqlalchemy IntegrityError, so that
    handlers written for the driver's error (the seeds' `except IntegrityError:`) catch it.
    `orig` is the driver's error; str() is our message, which names the problem."""

    def __init__(self, message: str, *, cause: DBAPIError | None = None) -> None:
        orig = cause.orig if cause is not None and cause.orig is not None else Exception(message)
        IntegrityError.__init__(
            self,
            cause.statement if cause is not None else None,
            None,  # the parameters may hold user data: never carried along
            orig,
            hide_parameters=True,
        )
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


class NotFoundError(StorageError):
    def __init__(self, entity: str, key: Any, *, field: str = "id") -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} with {field}={key!s} not found")


class DuplicateError(_IntegrityErrorToo):
    """A unique constraint refused the row (e.g. a second user with the same username)."""

    def __init__(self, entity: str, detail: str, *, cause: DBAPIError | None = None) -> None:
        self.entity = entity
        super().__init__(f"duplicate {entity}: {detail}", cause=cause)


class ConstraintViolationError(_IntegrityErrorToo):
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

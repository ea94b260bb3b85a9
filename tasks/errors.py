"""Domain errors raised by tasks: bad input that retrying cannot fix."""

from __future__ import annotations


class LifecycleError(ValueError):
    """A request cannot go on (bad samples, unknown requester, generation impossible...)."""


def is_transient(exc: BaseException) -> bool:
    """Whether a failed task is worth retrying: not for bad input or refused transitions.

    A bare `StorageError` is the database's unclassified failure (connection lost, deadlock):
    transient. Its subclasses (not found, duplicate, invalid transition, role) are not.
    """
    from storage.db.errors import StorageError

    if type(exc) is StorageError:
        return True
    return not isinstance(exc, StorageError | ValueError | LookupError)

"""Password hashing for local accounts (users.hashed_password): argon2id via argon2-cffi.

The one place that hashes and checks passwords, so that the CLI and any later login or
approval authentication share the algorithm and its parameters (argon2-cffi's defaults, the
RFC 9106 low-memory profile). Only the PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)
is stored; a password is never stored, logged, echoed or put in audit details.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.db.errors import InvalidValueError

MAX_PASSWORD_CHARS = 1024
"""Longer input is refused: hashing cost should not be an attacker's choice."""


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _decoy_hash() -> str:
    """A hash to verify against when an account has none, so that the answer takes as long as
    a real check and timing does not tell which accounts exist."""
    return _hasher().hash("no password is set for this account")


def hash_password(password: str) -> str:
    """The argon2id hash of `password`; empty (or blank) and oversized passwords are refused."""
    if not password or not password.strip():
        raise InvalidValueError("a password must not be empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidValueError(f"a password must not exceed {MAX_PASSWORD_CHARS} characters")
    return _hasher().hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    """True when `password` matches `hashed`; False on a mismatch, no hash, an unreadable hash
    or an empty password. Never raises for bad input: a check only answers yes or no."""
    if hashed is None or not password or len(password) > MAX_PASSWORD_CHARS:
        _matches(_decoy_hash(), "decoy")
        return False
    return _matches(hashed, password)


def _matches(hashed: str, password: str) -> bool:
    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False

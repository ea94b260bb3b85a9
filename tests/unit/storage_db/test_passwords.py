"""storage.db.passwords: argon2id hashes, yes/no checks that never raise, empty refused."""

from __future__ import annotations

import pytest

from storage.db.errors import InvalidValueError
from storage.db.passwords import MAX_PASSWORD_CHARS, hash_password, verify_password


def test_hash_is_salted_argon2id_and_verifies():
    first, second = hash_password("s3cret pass"), hash_password("s3cret pass")
    assert first.startswith("$argon2id$v=19$") and first != second  # a new salt each time
    assert "s3cret" not in first
    assert verify_password(first, "s3cret pass") and verify_password(second, "s3cret pass")
    assert not verify_password(first, "s3cret pas")
    assert not verify_password(first, "S3cret pass")


@pytest.mark.parametrize("password", ["", " ", "\t\n", "x" * (MAX_PASSWORD_CHARS + 1)])
def test_empty_blank_or_oversized_passwords_are_refused(password: str):
    with pytest.raises(InvalidValueError, match="password must not"):
        hash_password(password)


@pytest.mark.parametrize(
    ("hashed", "password"),
    [
        (None, "anything"),
        ("not a hash", "anything"),
        ("$argon2id$v=19$m=65536,t=3,p=4$broken", "anything"),
        ("$2b$12$" + "a" * 53, "anything"),  # a bcrypt string is no argon2 hash
    ],
)
def test_checks_answer_no_instead_of_raising(hashed: str | None, password: str):
    assert verify_password(hashed, password) is False


def test_an_empty_or_oversized_attempt_never_matches():
    hashed = hash_password("pw")
    assert verify_password(hashed, "") is False
    assert verify_password(hashed, "p" * (MAX_PASSWORD_CHARS + 1)) is False

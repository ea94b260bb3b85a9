"""Rules of the embedded server's access, on synthetic files: who may traverse a directory,
which pg_hba.conf lets a login in without a password, which verifier matches a password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db.embedded import _allows_without_password
from storage.db.roles import verifies
from storage.db.server_user import ServerUser
from tests.db_fixtures import scratch_dir


@pytest.fixture
def tree() -> Iterator[Path]:
    """scratch (0711) / open (0755) / closed / leaf."""
    root = scratch_dir("tagen-access-rules-")
    (root / "open" / "closed" / "leaf").mkdir(parents=True)
    try:
        yield root / "open" / "closed"
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize(
    ("mode", "who", "blocked"),
    [
        (0o700, "stranger", True),
        (0o700, "owner", False),
        (0o710, "group", False),
        (0o701, "stranger", False),
        (0o770 & ~0o010, "group", True),  # group may read, not traverse
    ],
)
def test_who_may_traverse(tree: Path, mode: int, who: str, blocked: bool):
    tree.chmod(mode)
    me, my_group = os.geteuid(), os.getegid()
    user = {
        "owner": ServerUser(name="owner", uid=me, gid=my_group + 1, groups=()),
        "group": ServerUser(name="member", uid=me + 1, gid=my_group + 1, groups=(my_group,)),
        "stranger": ServerUser(name="stranger", uid=me + 1, gid=my_group + 1, groups=()),
    }[who]
    assert user.blocked_at(tree / "leaf") == (tree if blocked else None)


def test_a_symlinked_way_is_checked_where_it_leads(tree: Path):
    tree.chmod(0o700)
    link = tree.parent / "shortcut"
    link.symlink_to(tree / "leaf")
    stranger = ServerUser(name="stranger", uid=os.geteuid() + 1, gid=os.getegid() + 1, groups=())
    assert stranger.blocked_at(link) == tree


@pytest.mark.parametrize(
    ("hba", "insecure"),
    [
        ("local all all scram-sha-256\n", False),
        ("# local all all trust\nlocal all all scram-sha-256\n", False),
        ("local all all scram-sha-256 # not trust\n", False),
        ("local all all trust\n", True),
        ("host all all 127.0.0.1/32 trust\n", True),
        ("host all all 127.0.0.1 255.255.255.255 password\n", True),
        ("local all all md5\nlocal replication all peer\n", False),
    ],
)
def test_which_pg_hba_lets_a_login_in_without_a_password(tmp_path: Path, hba: str, insecure: bool):
    (tmp_path / "pg_hba.conf").write_text(hba)
    assert _allows_without_password(tmp_path) is insecure


def _verifier(password: str, salt: bytes, iterations: int = 4096) -> str:
    """RFC 5803 SCRAM-SHA-256 verifier, as PostgreSQL stores it."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored).decode()}:"
        f"{b64(server).decode()}"
    )


def test_a_stored_verifier_is_matched_against_a_password():
    verifier = _verifier("right", b"0123456789abcdef")
    assert verifies(verifier, "right")
    assert not verifies(verifier, "wrong")
    assert not verifies(None, "right")  # no password set
    assert not verifies("md5" + "0" * 32, "right")  # another method
    assert not verifies("SCRAM-SHA-256$x:y$z:w", "right")  # malformed

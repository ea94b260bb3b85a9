"""A laboratory for whole request lifecycles: its own TAGEN_HOME (embedded PostgreSQL, objects),
seeded users, the approval every lab request gets, and the census that says whether anything
was lost, orphaned or duplicated.

`bench.crash` kills lifecycle runs in it, `bench.load` runs many at once, and
`tests/flows/test_crash_load.py` runs a few of each. Everything goes through the product's own
paths (tagen.lifecycle, the flows, the repositories' tables); the census reads the tables and
the object store directly, as an auditor would.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tagen.demo import DEMO_SAMPLE

REQUESTER = "lab-requester"
APPROVER = "lab-approver"
APPROVER_PASSWORD = secrets.token_urlsafe(24)
"""The lab approver's password, new in each process: the process that seeds the lab decides."""
LAB_ENVIRONMENT = ("DATABASE_URL", "DATABASE_OWNER_URL", "TAGEN_OBJECTS_URL", "TAGEN_HOME")
"""What the lab sets (TAGEN_HOME) or must not inherit (the rest): its own database and objects."""
OBJECT_PREFIXES = ("samples", "tas", "validations")
ONCE_ONLY_MOVES = ("PENDING_APPROVAL", "APPROVED", "REJECTED", "COMPLETED", "FAILED")
"""Statuses a request reaches once at most (the repair loop revisits the others)."""


class LabError(RuntimeError):
    """The lab could not do what a scenario needs (the message says what)."""


@dataclass(frozen=True)
class Lab:
    home: Path

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def objects(self) -> Path:
        return self.home / "objects"

    def environment(self, **extra: str) -> dict[str, str]:
        """The environment of a process working in the lab (a flow run, the CLI)."""
        env = {k: v for k, v in os.environ.items() if k not in LAB_ENVIRONMENT}
        return {**env, "TAGEN_HOME": str(self.home), **extra}

    def app_url(self) -> str:
        """The application role's libpq URL (the census reads the tables through it)."""
        from storage.db.session import get_database_url

        return get_database_url().replace("postgresql+psycopg://", "postgresql://", 1)


def _reset_settings() -> None:
    from storage.objects import get_object_store_settings
    from storage.settings import clear_settings_cache

    clear_settings_cache()
    get_object_store_settings.cache_clear()


@contextmanager
def lab_environment(home: Path) -> Iterator[None]:
    """This process works in `home` meanwhile (its environment is restored afterwards)."""
    saved = {key: os.environ.pop(key) for key in LAB_ENVIRONMENT if key in os.environ}
    os.environ["TAGEN_HOME"] = str(home)
    _reset_settings()
    try:
        yield
    finally:
        os.environ.pop("TAGEN_HOME", None)
        os.environ.update(saved)
        _reset_settings()


@contextmanager
def open_lab(*, start_database: bool = True) -> Iterator[Lab]:
    """A fresh lab in a scratch directory (removed afterwards), this process working in it,
    with tagen's backends installed; its PostgreSQL started, migrated and seeded unless
    `start_database` is False (`tagen up` then starts it)."""
    from storage.db import embedded

    # Traversable, not listable, by others: as root the server runs as its own OS user.
    scratch = Path(tempfile.mkdtemp(prefix="tagen-lab-"))
    scratch.chmod(0o711)
    lab = Lab(scratch / "home")
    lab.home.mkdir(mode=0o711)
    try:
        with lab_environment(lab.home):
            if start_database:
                embedded.start(lab.pgdata, throwaway=True)
                prepare(lab)
            yield lab
    finally:
        _close_engine()
        embedded.stop(lab.pgdata)
        shutil.rmtree(scratch, ignore_errors=True)


def prepare(lab: Lab) -> None:
    """Migrate the lab's database, seed its requester and approver, install the backends."""
    from storage.db import migrate
    from tagen.wiring import build_backends
    from tasks import backends as task_backends

    migrate.upgrade()
    task_backends.install(build_backends())
    _run_async(_seed_users())


def _close_engine() -> None:
    from storage.db.session import dispose_engine

    _run_async(dispose_engine())


def _run_async(coro: object) -> None:
    import asyncio

    asyncio.run(coro)  # type: ignore[arg-type]


async def _seed_users() -> None:
    from storage.db.enums import UserRoleEnum
    from storage.db.passwords import hash_password
    from storage.db.session import dispose_engine
    from tasks.user import ensure_user, set_password

    await ensure_user(REQUESTER, roles=(UserRoleEnum.REQUESTOR,))
    await ensure_user(APPROVER, roles=(UserRoleEnum.APPROVER,))
    await set_password(APPROVER, hash_password(APPROVER_PASSWORD), via="lab")
    await dispose_engine()


def request_parameters(label: str) -> dict[str, object]:
    """A lab request's flow parameters: the demo's nginx sample, a key of its own."""
    from tagen import lifecycle
    from tasks.log_sample import SampleSpec

    return lifecycle.parameters(
        requester=REQUESTER,
        source_system=f"lab {label}",
        description="nginx access logs of a web shop front end (combined format)",
        samples=[SampleSpec.location(str(DEMO_SAMPLE))],
        idempotency_key=f"lab-{label}-{uuid.uuid4()}",
    )


async def approve(request_id: str) -> str:
    """Approve a lab request at its gate with the approver's password and return its status:
    the one place the lab decides."""
    from pydantic import SecretStr

    from tagen import lifecycle

    decision = await lifecycle.decide(
        request_id,
        approved=True,
        approver=APPROVER,
        password=SecretStr(APPROVER_PASSWORD),
        reason="lab approval",
    )
    if decision.refusal is not None:
        raise LabError(f"the lab's approval of {request_id} was refused: {decision.refusal}")
    return decision.status


@dataclass
class Census:
    """What one request left behind: rows, objects, audit entries, and what is wrong."""

    requests: int = 0
    status: str = "-"
    reason: str | None = None
    samples: int = 0
    revisions: int = 0
    validations: int = 0
    objects: int = 0
    audit: int = 0
    swept: int = 0
    """Objects a resumed run found without their row and removed (its audit entries say)."""
    problems: list[str] = field(default_factory=list)

    def counts(self) -> str:
        return (
            f"req={self.requests} smp={self.samples} rev={self.revisions} "
            f"val={self.validations} obj={self.objects} aud={self.audit} swept={self.swept}"
        )


def census(lab: Lab, idempotency_key: str, *, samples: int = 1) -> Census:
    """Count the request made for `idempotency_key` and check: a final status (FAILED with a
    reason), `samples` sample rows, versions 1..n, every row's object present with its
    checksum and every object named by a row, one audit entry per created thing, no
    unfinished validation run."""
    found = Census()
    with psycopg.connect(lab.app_url()) as conn:
        rows = conn.execute(
            "SELECT id, status, coalesce(failure_reason, rejection_reason) FROM requests"
            " WHERE idempotency_key = %s",
            (idempotency_key,),
        ).fetchall()
        found.requests = len(rows)
        if len(rows) != 1:
            found.problems.append(f"{len(rows)} requests for one key")
            return found
        rid, found.status, found.reason = rows[0][0], str(rows[0][1]), rows[0][2]
        sample_rows = conn.execute(
            "SELECT storage_key, checksum FROM log_samples"
            " WHERE request_id = %s AND deleted_at IS NULL",
            (rid,),
        ).fetchall()
        revisions = conn.execute(
            "SELECT id, version, storage_key, checksum FROM ta_revisions WHERE request_id = %s"
            " ORDER BY version",
            (rid,),
        ).fetchall()
        runs = conn.execute(
            "SELECT id, status, debug_bundle_key FROM validation_runs WHERE request_id = %s",
            (rid,),
        ).fetchall()
        ids = [str(rid), *(str(r[0]) for r in revisions), *(str(r[0]) for r in runs)]
        entries = conn.execute(
            "SELECT entity_type, entity_id, action::text, details FROM audit_logs"
            " WHERE entity_id = ANY(%s)",
            (ids,),
        ).fetchall()
    found.samples, found.revisions, found.validations = len(sample_rows), len(revisions), len(runs)
    found.audit = len(entries)
    found.swept = sum(len(e[3].get("orphan_objects", [])) for e in entries if e[2] == "DELETE")
    problems = found.problems
    if found.status not in ("COMPLETED", "FAILED", "REJECTED"):
        problems.append(f"left {found.status}")
    if found.status == "FAILED" and not found.reason:
        problems.append("FAILED without a reason")
    if found.samples != samples:
        problems.append(f"{found.samples} sample rows, {samples} given")
    versions = [r[1] for r in revisions]
    if versions != list(range(1, len(versions) + 1)):
        problems.append(f"versions {versions}")
    if found.status == "COMPLETED" and not revisions:
        problems.append("COMPLETED without a revision")
    unfinished = [str(r[1]) for r in runs if str(r[1]) in ("QUEUED", "RUNNING")]
    if unfinished:
        problems.append(f"validation runs left {unfinished}")
    named = {key: digest for key, digest in sample_rows}
    named.update({r[2]: r[3] for r in revisions if r[2]})
    named.update({r[2]: None for r in runs if r[2]})
    stored = _stored_objects(lab, str(rid))
    found.objects = len(stored)
    for key in sorted(stored - set(named)):
        problems.append(f"orphan object {key}")
    for key in sorted(set(named) - stored):
        problems.append(f"row without its object {key}")
    for key, digest in named.items():
        if digest and key in stored and _sha256(lab.objects / key) != digest:
            problems.append(f"object {key} does not match its checksum")
    problems += _audit_problems(entries, str(rid), revisions, runs)
    return found


def _stored_objects(lab: Lab, request_id: str) -> set[str]:
    """Every file under the request's prefixes, half-written ones included."""
    keys: set[str] = set()
    for prefix in OBJECT_PREFIXES:
        root = lab.objects / prefix / request_id
        if root.is_dir():
            keys |= {str(p.relative_to(lab.objects)) for p in root.rglob("*") if not p.is_dir()}
    return keys


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _audit_problems(
    entries: list[tuple[str, str, str, dict[str, object]]],
    request_id: str,
    revisions: list[tuple[object, ...]],
    runs: list[tuple[object, ...]],
) -> list[str]:
    """Exactly one entry per created thing (request, samples upload, revision, run, its
    verdict) and no status move written twice."""
    problems: list[str] = []
    kinds = Counter((e[1], e[2]) for e in entries if e[2] in ("CREATE", "UPLOAD"))
    expect = [(request_id, "CREATE"), (request_id, "UPLOAD")]
    expect += [(str(r[0]), "CREATE") for r in revisions] + [(str(r[0]), "CREATE") for r in runs]
    for key in expect:
        if kinds[key] != 1:
            problems.append(f"{kinds[key]} {key[1]} audit entries for {key[0]}")
    for run in runs:
        verdicts = [
            e
            for e in entries
            if e[1] == str(run[0]) and e[2] == "UPDATE" and e[3].get("status") == str(run[1])
        ]
        if len(verdicts) != 1:
            problems.append(f"{len(verdicts)} verdict entries for validation run {run[0]}")
    moves = Counter(
        (e[3].get("from"), e[3].get("to"))
        for e in entries
        if e[1] == request_id and e[3].get("to") in ONCE_ONLY_MOVES
    )
    problems += [f"move {m} audited {n} times" for m, n in moves.items() if n > 1]
    return problems

"""The quick start guide (../shared/seeds/000) and the implementation summary (001), run as
written on real PostgreSQL. Only the `backend.` imports differ (README: "The seeds' names");
lines marked `# setup:` create what a snippet assumes exists (its ids, a sample, a document).

Each snippet commits through the application's own `async_session_factory`, so these tests
use a database of their own (`seed_app_db`), migrated with the real migrations.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.enums import (
    AuditAction,
    RequestStatus,
    TARevisionType,
    UserRoleEnum,
    ValidationStatus,
)
from storage.db.errors import InvalidValueError
from storage.db.repositories import (
    AuditLogRepository,
    KnowledgeDocumentRepository,
    LogSampleRepository,
    RequestRepository,
    RoleRepository,
    SystemConfigRepository,
    TARevisionRepository,
    UserRepository,
    ValidationRunRepository,
)
from storage.db.session import async_session_factory, check_db_connection, dispose_engine, get_db


async def _user(session: AsyncSession, username: str, role: UserRoleEnum) -> uuid.UUID:
    """setup: a user holding `role` (the guides' admin_id, approver_id...)."""
    user = await UserRepository(session).create(
        {"username": username, "email": f"{username}@example.com"}
    )
    role_row = await RoleRepository(session).get_by_name(role)
    assert role_row is not None
    await RoleRepository(session).assign_role_to_user(user.id, role_row.id)
    return user.id


async def test_quick_start_guide(seed_app_db: str, capsys: pytest.CaptureFixture[str]):
    # ## Setup, 4. Initialize Default Roles
    async with async_session_factory() as session:
        role_repo = RoleRepository(session)
        await role_repo.ensure_default_roles()
        await session.commit()

    # ### Creating a User
    async with async_session_factory() as session:
        user_repo = UserRepository(session)

        user = await user_repo.create(
            {
                "username": "john_doe",
                "email": "john@example.com",
                "full_name": "John Doe",
                "is_active": True,
                "auth_provider": "local",
            }
        )

        await session.commit()
    user_id = user.id

    async with async_session_factory() as session:
        admin_id = await _user(session, "qs_admin", UserRoleEnum.ADMIN)  # setup
        approver_id = await _user(session, "qs_approver", UserRoleEnum.APPROVER)  # setup
        await session.commit()

        # ### Assigning Roles
        role_repo = RoleRepository(session)

        # Get role
        role = await role_repo.get_by_name(UserRoleEnum.REQUESTOR)

        # Assign to user
        await role_repo.assign_role_to_user(user_id, role.id, assigned_by=admin_id)
        await session.commit()

        # ### Creating a Request
        request_repo = RequestRepository(session)

        request = await request_repo.create(
            {
                "created_by": user_id,
                "status": RequestStatus.NEW,
                "source_system": "Apache",
                "description": "Generate TA for Apache access logs",
                "cim_required": True,
            }
        )

        await session.commit()
        request_id = request.id
        assert request.status is RequestStatus.NEW

        # The status flow (NEW -> PENDING_APPROVAL -> APPROVED): submit for approval first.
        await request_repo.transition_status(request_id, RequestStatus.PENDING_APPROVAL)
        # setup: a second request, created as PENDING_APPROVAL, for the "Or reject" branch
        other = await request_repo.create(
            {"created_by": user_id, "status": "PENDING_APPROVAL", "source_system": "Apache"}
        )

        # ### Approving a Request
        # Approve
        approved = await request_repo.approve_request(request_id, approver_id)

        # Or reject
        rejected = await request_repo.reject_request(
            other.id, approver_id, "Insufficient log samples provided"
        )

        await session.commit()
        assert (approved.status, approved.approved_by) == (RequestStatus.APPROVED, approver_id)
        assert approved.approved_at is not None
        assert rejected.status is RequestStatus.REJECTED
        assert rejected.rejection_reason == "Insufficient log samples provided"

        # ### Creating a TA Revision
        ta_repo = TARevisionRepository(session)

        # Get next version
        version = await ta_repo.get_next_version(request_id)

        # Create revision
        revision = await ta_repo.create(
            {
                "request_id": request_id,
                "version": version,
                "storage_key": f"tas/request-{request_id}-v{version}.tgz",
                "storage_bucket": "ta-artifacts",
                "generated_by": TARevisionType.AUTO,
                "file_size": 1024000,
                "checksum": "sha256hash...",
                "config_summary": {
                    "inputs": ["monitor:///var/log/apache/*"],
                    "sourcetypes": ["apache:access"],
                    "cim_fields": ["src", "dest", "user"],
                },
            }
        )

        await session.commit()
        revision_id = revision.id
        assert (version, revision.generated_by) == (1, TARevisionType.AUTO)
        assert await ta_repo.get_next_version(request_id) == 2

        # ### Running Validation
        validation_repo = ValidationRunRepository(session)

        # Create validation run
        validation = await validation_repo.create(
            {
                "request_id": request_id,
                "ta_revision_id": revision_id,
                "status": ValidationStatus.QUEUED,
            }
        )
        await session.commit()

        # Start validation
        await validation_repo.start_validation(validation.id, "k8s-job-abc123")
        await session.commit()
        running_now = await validation_repo.get_running_count()  # seen below

        # Complete validation
        await validation_repo.complete_validation(
            validation.id,
            status=ValidationStatus.PASSED,
            results={"fields_extracted": 15, "errors": 0, "events_indexed": 1000},
            debug_bundle_key="debug/request-123-v1.zip",
        )
        await session.commit()
        run = await validation_repo.get(validation.id)
        assert (run.status, run.splunk_container_id) == (ValidationStatus.PASSED, "k8s-job-abc123")
        assert run.results_json == {"fields_extracted": 15, "errors": 0, "events_indexed": 1000}
        assert run.debug_bundle_key == "debug/request-123-v1.zip"
        assert run.duration_seconds is not None and run.completed_at is not None
        assert running_now == 1

        # ### Creating Audit Logs
        audit_repo = AuditLogRepository(session)

        await audit_repo.create_log(
            user_id=user_id,
            action=AuditAction.APPROVE,
            entity_type="request",
            entity_id=request_id,
            details={"previous_status": "PENDING_APPROVAL", "new_status": "APPROVED"},
            ip_address="192.168.1.100",
            user_agent="Mozilla/5.0...",
        )

        await session.commit()

        # setup: a log sample for the relationship query below
        await LogSampleRepository(session).create(
            {
                "request_id": request_id,
                "filename": "access.log",
                "file_size": 2048,
                "storage_key": f"samples/{request_id}/access.log",
                "storage_bucket": "log-samples",
                "checksum": "a" * 64,
            }
        )
        await session.commit()

        # ### Querying with Relationships
        # Get request with all log samples
        request = await request_repo.get_with_samples(request_id)
        for sample in request.log_samples:
            print(f"Sample: {sample.filename}, {sample.file_size} bytes")

        # Get request with all TA revisions
        request = await request_repo.get_with_revisions(request_id)
        for revision in request.ta_revisions:
            print(f"Version {revision.version}: {revision.generated_by.value}")

        # Get full request details
        request = await request_repo.get_full_details(request_id)
        # Has log_samples, ta_revisions, and validation_runs loaded
        assert capsys.readouterr().out.splitlines() == [
            "Sample: access.log, 2048 bytes",
            "Version 1: AUTO",
        ]
        assert [s.filename for s in request.log_samples] == ["access.log"]
        assert [r.version for r in request.ta_revisions] == [1]
        assert [v.id for v in request.validation_runs] == [validation.id]
        assert request.created_by_user.username == "john_doe"

        # setup: complete the approved request (so that the search below finds it)
        for step in ("GENERATING_TA", "VALIDATING", "COMPLETED"):
            await request_repo.transition_status(request_id, step)
        await session.commit()

        user_repo = UserRepository(session)  # setup: on this session (the first one is closed)

        # ### Search and Filtering
        # Search users
        users = await user_repo.search_users("john", skip=0, limit=10)

        # Search requests
        requests = await request_repo.search_requests(
            "apache", status=RequestStatus.COMPLETED, skip=0, limit=20
        )

        # Get pending approvals
        pending = await request_repo.get_pending_approval()

        # Get failed validations
        failed = await validation_repo.get_failed_validations(request_id)
        assert [u.username for u in users] == ["john_doe"]
        assert [r.id for r in requests] == [request_id]
        assert (pending, failed) == ([], [])

        # setup: a knowledge document for its statistics
        knowledge_doc_repo = KnowledgeDocumentRepository(session)
        await knowledge_doc_repo.create(
            {
                "title": "Apache access log format",
                "document_type": "markdown",
                "storage_bucket": "knowledge",
                "storage_key": "knowledge/apache.md",
            }
        )
        MAX_PARALLEL_VALIDATIONS = await SystemConfigRepository(session).get_value(
            "MAX_PARALLEL_VALIDATIONS", default=5
        )

        # ### Statistics and Monitoring
        # Request statistics
        stats = await request_repo.get_statistics()
        # {"NEW": 5, "PENDING_APPROVAL": 2, "COMPLETED": 10, ...}

        # Validation statistics
        val_stats = await validation_repo.get_validation_statistics()
        # {"QUEUED": 3, "RUNNING": 2, "PASSED": 50, "FAILED": 5}

        # Knowledge document statistics
        doc_stats = await knowledge_doc_repo.get_statistics()
        # {"by_type": {"pdf": 10, "markdown": 5}, "indexing_status": {...}}

        # Check validation concurrency
        running = await validation_repo.get_running_count()
        if running < MAX_PARALLEL_VALIDATIONS:
            # Start new validation
            pass
        assert stats == {
            "NEW": 0,
            "PENDING_APPROVAL": 0,
            "APPROVED": 0,
            "REJECTED": 1,
            "GENERATING_TA": 0,
            "VALIDATING": 0,
            "COMPLETED": 1,
            "FAILED": 0,
        }
        assert val_stats == {"QUEUED": 0, "RUNNING": 0, "PASSED": 1, "FAILED": 0}
        assert doc_stats["by_type"] == {"markdown": 1}
        assert doc_stats["indexing_status"] == {"indexed": 0, "unindexed": 1}
        assert (running, MAX_PARALLEL_VALIDATIONS) == (0, 5)

        # ## Common Patterns, Pagination
        page = 1
        page_size = 20
        skip = (page - 1) * page_size

        requests = await request_repo.get_all(skip=skip, limit=page_size)
        assert {r.id for r in requests} == {request_id, other.id}

        # ## Useful Queries
        correlation_uuid = uuid.uuid4()  # setup: one correlated entry
        await audit_repo.create_log(
            user_id=None,
            action=AuditAction.UPDATE,
            entity_type="request",
            entity_id=request_id,
            correlation_id=correlation_uuid,
        )
        recent = await audit_repo.get_recent_activity(hours=24, limit=50)
        user_activity = await audit_repo.get_by_user(user_id, skip=0, limit=100)
        trail = await audit_repo.get_by_entity("request", request_id)
        flow = await audit_repo.get_by_correlation_id(correlation_uuid)
        assert len(recent) == 2 and len(trail) == 2 and len(flow) == 1
        [entry] = user_activity
        assert (entry.action, str(entry.ip_address)) == (AuditAction.APPROVE, "192.168.1.100")
        assert entry.details == {"previous_status": "PENDING_APPROVAL", "new_status": "APPROVED"}

        # ### Get Active Documents for Indexing
        unindexed = await knowledge_doc_repo.get_unindexed_documents()
        for doc in unindexed:
            # Process and index
            await knowledge_doc_repo.mark_as_indexed(
                doc.id,
                "splunk_docs_index",
                150,  # embedding count
            )
        [doc] = unindexed
        assert (doc.pinecone_indexed, doc.pinecone_index_name, doc.embedding_count) == (
            True,
            "splunk_docs_index",
            150,
        )
        await session.commit()


async def test_quick_start_transaction_and_error_handling(seed_app_db: str):
    """## Common Patterns: Transaction Management (its `{...}` placeholders filled in) and
    Error Handling. A refused write rolls the whole transaction back; a duplicate is an
    IntegrityError as the guide catches it (our DuplicateError is one)."""
    async with async_session_factory() as session:
        user_repo = UserRepository(session)
        request_repo = RequestRepository(session)
        audit_repo = AuditLogRepository(session)
        with pytest.raises(InvalidValueError, match="created as NEW or PENDING_APPROVAL"):
            try:
                # Multiple operations
                user = await user_repo.create({"username": "tx_user", "email": "tx@example.com"})
                request = await request_repo.create(
                    {"created_by": user.id, "source_system": "x", "status": "COMPLETED"}
                )
                await audit_repo.create_log(user.id, AuditAction.CREATE, "request", request.id)

                # Commit all changes
                await session.commit()
            except Exception:
                # Rollback on error
                await session.rollback()
                raise
        assert await user_repo.get_by_username("tx_user") is None  # nothing half-written

        await user_repo.create({"username": "dup_user", "email": "dup@example.com"})
        await session.commit()
        with pytest.raises(HTTPException) as refused:
            try:
                user = await user_repo.create({"username": "dup_user", "email": "dup@example.com"})
                await session.commit()
            except IntegrityError:
                await session.rollback()
                raise HTTPException(
                    status_code=400, detail="User with this username or email already exists"
                ) from None
        assert refused.value.status_code == 400
        assert await user_repo.count({"username": "dup_user"}) == 1


def _build_quick_start_app() -> FastAPI:
    """## FastAPI Integration of the quick start, as written (plus 001's GET route)."""
    app = FastAPI()

    @app.on_event("startup")
    async def startup():
        if not await check_db_connection():
            raise RuntimeError("Database connection failed")

    @app.on_event("shutdown")
    async def shutdown():
        await dispose_engine()

    @app.get("/requests/{request_id}")
    async def get_request(request_id: uuid.UUID, db: AsyncSession = Depends(get_db)):
        request_repo = RequestRepository(db)
        request = await request_repo.get_by_id(request_id)

        if not request:
            raise HTTPException(status_code=404, detail="Request not found")

        return request

    @app.post("/requests")
    async def create_request(request_data: dict, db: AsyncSession = Depends(get_db)):
        request_repo = RequestRepository(db)
        request = await request_repo.create(request_data)
        await db.commit()
        return request

    @app.post("/requests/{request_id}/approve")
    async def approve_request(
        request_id: uuid.UUID, approver_id: uuid.UUID, db: AsyncSession = Depends(get_db)
    ):
        request_repo = RequestRepository(db)
        audit_repo = AuditLogRepository(db)

        # Approve request
        request = await request_repo.approve_request(request_id, approver_id)

        # Create audit log
        await audit_repo.create_log(
            user_id=approver_id,
            action=AuditAction.APPROVE,
            entity_type="request",
            entity_id=request_id,
            details={"status": "APPROVED"},
        )

        await db.commit()
        return request

    return app


async def test_quick_start_fastapi_routes(seed_app_db: str):
    async with async_session_factory() as session:  # setup: who requests and who approves
        await RoleRepository(session).ensure_default_roles()
        requester_id = await _user(session, "api_requester", UserRoleEnum.REQUESTOR)
        approver_id = await _user(session, "api_approver", UserRoleEnum.APPROVER)
        await session.commit()

    with TestClient(_build_quick_start_app()) as client:  # runs startup, then shutdown
        created = client.post(
            "/requests",
            json={
                "created_by": str(requester_id),
                "status": "PENDING_APPROVAL",
                "source_system": "Apache",
                "description": "via the API",
            },
        )
        assert created.status_code == 200, created.text
        body = created.json()
        assert (body["status"], body["created_by"]) == ("PENDING_APPROVAL", str(requester_id))
        assert body["cim_required"] is True

        fetched = client.get(f"/requests/{body['id']}")
        assert fetched.status_code == 200 and fetched.json()["id"] == body["id"]
        missing = client.get(f"/requests/{uuid.uuid4()}")
        assert (missing.status_code, missing.json()) == (404, {"detail": "Request not found"})

        approved = client.post(
            f"/requests/{body['id']}/approve", params={"approver_id": str(approver_id)}
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "APPROVED"
        assert approved.json()["approved_by"] == str(approver_id)

    async with async_session_factory() as session:
        trail = await AuditLogRepository(session).get_by_entity("request", body["id"])
        assert [(a.action, a.details) for a in trail] == [
            (AuditAction.APPROVE, {"status": "APPROVED"})
        ]


def test_the_startup_hook_refuses_an_unreachable_database(
    seed_app_db: str, monkeypatch: pytest.MonkeyPatch
):
    """check_db_connection() answers False (no exception) and the guide's hook stops the app."""
    from storage.settings import clear_settings_cache

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    clear_settings_cache()
    with (
        pytest.raises(RuntimeError, match="Database connection failed"),
        TestClient(_build_quick_start_app()),
    ):
        pass

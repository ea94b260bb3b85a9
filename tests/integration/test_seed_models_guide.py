"""The models and repository reference (../shared/seeds/002), run as written on real
PostgreSQL. Only the `backend.` imports differ (README: "The seeds' names"); lines marked
`# setup:` create what a snippet assumes exists.

The guide's own tests ("Unit Testing Repositories", "Integration Testing") run with its own
fixture: tables from `Base.metadata.create_all` through asyncpg, as the guide writes it, on a
database of their own. The usage examples run on the migrated seed examples database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from storage.db.enums import AuditAction, RequestStatus, UserRoleEnum, ValidationStatus
from storage.db.models import Base
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
from storage.db.session import (
    async_session_factory,
    check_db_connection,
    dispose_engine,
    engine,
    get_db,
    init_db,
)
from tests.db_fixtures import PgServer

# -- ## Testing: the guide's fixture and tests ------------------------------------------------


@pytest.fixture
async def db_session(pg_server: PgServer):
    """Create test database session."""
    url = make_url(pg_server.create_database("tagen_seed_unit", fresh=True))  # setup: our server
    engine = create_async_engine(url.set(drivername="postgresql+asyncpg"))

    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)

    async_session = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    async with async_session() as session:
        yield session

    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)

    await engine.dispose()


@pytest.mark.asyncio
async def test_create_user(db_session):
    """Test user creation."""
    user_repo = UserRepository(db_session)

    user_data = {"username": "testuser", "email": "test@example.com", "is_active": True}

    user = await user_repo.create(user_data)
    await db_session.commit()

    assert user.id is not None
    assert user.username == "testuser"

    # Verify retrieval
    retrieved = await user_repo.get_by_username("testuser")
    assert retrieved.id == user.id


@pytest.mark.asyncio
async def test_request_approval_workflow(db_session):
    """Test complete request approval workflow."""
    user_repo = UserRepository(db_session)
    request_repo = RequestRepository(db_session)
    audit_repo = AuditLogRepository(db_session)

    # Create users
    requester = await user_repo.create({"username": "requester", "email": "req@test.com"})
    approver = await user_repo.create({"username": "approver", "email": "app@test.com"})
    await db_session.commit()

    # Create request
    request_data = {
        "created_by": requester.id,
        "status": RequestStatus.PENDING_APPROVAL,
        "source_system": "Apache",
        "description": "Test request",
        "cim_required": True,
    }
    request = await request_repo.create(request_data)
    await db_session.commit()

    # Approve request
    approved = await request_repo.approve_request(request.id, approver.id)
    await db_session.commit()

    assert approved.status == RequestStatus.APPROVED
    assert approved.approved_by == approver.id
    assert approved.approved_at is not None

    # Verify audit log
    await audit_repo.create_log(
        user_id=approver.id,
        action=AuditAction.APPROVE,
        entity_type="request",
        entity_id=request.id,
        details={"status": "APPROVED"},
    )
    await db_session.commit()

    logs = await audit_repo.get_by_entity("request", request.id)
    assert len(logs) > 0


# -- ## Models Reference: each model's usage example, ## Common Queries -----------------------


@pytest_asyncio.fixture(loop_scope="session")
async def people(seed_app_db: str) -> dict[str, UUID]:
    """setup: the ids the usage examples name (admin_id, user_id, approver_id...)."""
    ids: dict[str, UUID] = {}
    async with async_session_factory() as session:
        roles = RoleRepository(session)
        await roles.ensure_default_roles()
        for key, role in (
            ("admin_id", UserRoleEnum.ADMIN),
            ("approver_id", UserRoleEnum.APPROVER),
            ("user_id", UserRoleEnum.REQUESTOR),
        ):
            name = f"guide_{key}_{uuid4().hex[:6]}"
            user = await UserRepository(session).create(
                {"username": name, "email": f"{name}@example.com", "full_name": name}
            )
            granted = await roles.get_by_name(role)
            await roles.assign_role_to_user(user.id, granted.id)
            ids[key] = user.id
        await session.commit()
    return ids


async def test_user_and_role_examples(people: dict[str, UUID]):
    admin_id, user_id = people["admin_id"], people["user_id"]
    async with async_session_factory() as session:
        user_repo = UserRepository(session)
        role_repo = RoleRepository(session)
        await user_repo.update(user_id, {"external_id": "ext-123", "auth_provider": "saml"})

        # ### User Model
        # Get user with roles
        user = await user_repo.get_with_roles(user_id)

        # Search users
        users = await user_repo.search_users("guide_user_id", skip=0, limit=10)

        # Update last login
        await user_repo.update_last_login(user_id)
        assert [r.name for r in user.roles] == [UserRoleEnum.REQUESTOR]
        assert [u.id for u in users] == [user_id]
        assert (await user_repo.get(user_id)).last_login is not None

        # ### Role Model
        # Get role by name
        role = await role_repo.get_by_name(UserRoleEnum.APPROVER)

        # Assign role to user
        await role_repo.assign_role_to_user(user_id, role.id, assigned_by=admin_id)

        # Ensure default roles exist (run at startup)
        await role_repo.ensure_default_roles()

        # ### User Queries
        # Find user by email and SSO provider
        user = await user_repo.get_by_external_id("ext-123", "saml")

        # Get users with specific role
        approvers = await user_repo.get_users_by_role(UserRoleEnum.APPROVER)
        assert user.id == user_id
        assert {people["approver_id"], user_id} <= {a.id for a in approvers}
        await session.commit()


async def test_request_sample_revision_validation_examples(people: dict[str, UUID]):
    approver_id = people["approver_id"]
    async with async_session_factory() as session:
        request_repo = RequestRepository(session)
        log_sample_repo = LogSampleRepository(session)
        ta_revision_repo = TARevisionRepository(session)
        validation_repo = ValidationRunRepository(session)
        request = await request_repo.create(  # setup
            {
                "created_by": people["user_id"],
                "status": RequestStatus.PENDING_APPROVAL,
                "source_system": "Cisco ASA",
                "description": "firewall logs for apache-fronted hosts",
            }
        )
        request_id = request.id

        # ### Request Model
        # Get pending approvals
        pending = await request_repo.get_pending_approval(skip=0, limit=20)

        # Approve request
        request = await request_repo.approve_request(request_id, approver_id)

        # Get full details with all relationships
        request = await request_repo.get_full_details(request_id)

        # Get statistics
        stats = await request_repo.get_statistics()
        # Returns: {"NEW": 5, "PENDING_APPROVAL": 2, "COMPLETED": 10, ...}
        assert request_id in {r.id for r in pending}
        assert request.status is RequestStatus.APPROVED
        assert request.approved_by_user.id == approver_id
        assert (request.log_samples, request.ta_revisions, request.validation_runs) == ([], [], [])
        assert stats["APPROVED"] >= 1 and set(stats) == {s.value for s in RequestStatus}

        sample = await log_sample_repo.create(  # setup
            {
                "request_id": request_id,
                "filename": "asa.log",
                "file_size": 10,
                "storage_key": f"samples/{request_id}/asa.log",
                "storage_bucket": "log-samples",
                "checksum": "b" * 64,
                "retention_until": datetime.now().astimezone() - timedelta(days=100),
            }
        )
        sample_id = sample.id

        # ### LogSample Model
        # Get samples for request
        samples = await log_sample_repo.get_by_request(request_id)

        # Get samples for cleanup
        cutoff = datetime.utcnow() - timedelta(days=90)
        old_samples = await log_sample_repo.get_samples_for_cleanup(cutoff)

        # Soft delete
        await log_sample_repo.mark_as_deleted(sample_id)
        assert [s.id for s in samples] == [sample_id]
        assert sample_id in {s.id for s in old_samples}
        assert await log_sample_repo.get_by_request(request_id) == []

        for _ in range(2):  # setup: v1 and v2
            await ta_revision_repo.create_next_revision(request_id, {"storage_key": "k"})

        # ### TARevision Model
        # Get latest revision
        latest = await ta_revision_repo.get_latest_revision(request_id)

        # Get next version number
        next_version = await ta_revision_repo.get_next_version(request_id)

        # Get revision history
        history = await ta_revision_repo.get_revision_history(request_id)
        assert (latest.version, next_version, [r.version for r in history]) == (2, 3, [2, 1])

        runs = [  # setup
            await validation_repo.create({"request_id": request_id, "ta_revision_id": latest.id})
            for _ in range(3)
        ]
        validation_id = runs[0].id

        # ### ValidationRun Model
        # Start validation
        await validation_repo.start_validation(validation_id, container_id="job-abc-123")

        # Complete validation
        await validation_repo.complete_validation(
            validation_id,
            status=ValidationStatus.PASSED,
            results={"fields_extracted": 15, "errors": 0},
            debug_bundle_key="debug/request-123-v1.zip",
        )

        # Check concurrency
        running_count = await validation_repo.get_running_count()
        assert running_count == 0
        passed = await validation_repo.get(validation_id)
        assert (passed.splunk_container_id, passed.status) == ("job-abc-123", "PASSED")

        # ### Validation Queries
        MAX_PARALLEL_VALIDATIONS = 2  # setup: the limit it compares with
        validation_id, container_id = runs[1].id, "job-def-456"  # setup
        results_dict = {"fields_extracted": 0, "errors": 3}  # setup

        # Check concurrency limit
        running = await validation_repo.get_running_count()
        if running < MAX_PARALLEL_VALIDATIONS:
            # Start new validation
            await validation_repo.start_validation(validation_id, container_id)

        # Complete validation
        await validation_repo.complete_validation(
            validation_id, status=ValidationStatus.PASSED, results=results_dict
        )

        # Get failed validations
        failed = await validation_repo.get_failed_validations(request_id)
        assert (await validation_repo.get(validation_id)).splunk_container_id == "job-def-456"
        assert failed == []

        # ### Request Queries: Search requests
        requests = await request_repo.search_requests("apache", status=RequestStatus.APPROVED)
        assert request_id in {r.id for r in requests}
        await session.commit()


async def test_knowledge_audit_and_config_examples(people: dict[str, UUID]):
    admin_id, user_id = people["admin_id"], people["user_id"]
    async with async_session_factory() as session:
        knowledge_doc_repo = KnowledgeDocumentRepository(session)
        audit_log_repo = AuditLogRepository(session)
        system_config_repo = SystemConfigRepository(session)
        document = await knowledge_doc_repo.create(  # setup
            {
                "title": "Splunk props.conf spec",
                "document_type": "splunk_doc",
                "storage_key": "knowledge/props.conf.spec",
                "storage_bucket": "knowledge",
                "uploaded_by": user_id,
            }
        )
        doc_id = document.id
        before = await knowledge_doc_repo.get_statistics()  # setup

        # ### KnowledgeDocument Model
        # Get unindexed documents for processing
        unindexed = await knowledge_doc_repo.get_unindexed_documents()

        # Mark as indexed
        await knowledge_doc_repo.mark_as_indexed(doc_id, "splunk_docs_index", 150)

        # Get statistics
        stats = await knowledge_doc_repo.get_statistics()
        # Returns: {"by_type": {"pdf": 10, "markdown": 5},
        #           "indexing_status": {"indexed": 12, "unindexed": 3}}
        assert doc_id in {d.id for d in unindexed}
        assert stats["by_type"]["splunk_doc"] >= 1
        assert stats["indexing_status"]["indexed"] == before["indexing_status"]["indexed"] + 1
        assert stats["indexing_status"]["unindexed"] == before["indexing_status"]["unindexed"] - 1

        request_id, correlation_uuid = uuid4(), uuid4()  # setup

        # ### AuditLog Model
        # Create audit log
        await audit_log_repo.create_log(
            user_id=user_id,
            action=AuditAction.APPROVE,
            entity_type="request",
            entity_id=request_id,
            details={"previous_status": "PENDING_APPROVAL", "new_status": "APPROVED"},
            ip_address="192.168.1.100",
            user_agent="Mozilla/5.0...",
            correlation_id=correlation_uuid,
        )

        # Get entity audit trail
        trail = await audit_log_repo.get_by_entity("request", request_id)

        # Get recent activity
        recent = await audit_log_repo.get_recent_activity(hours=24, limit=50)
        [entry] = trail
        assert entry.correlation_id == str(correlation_uuid)
        assert entry.id in {a.id for a in recent}
        assert [a.id for a in await audit_log_repo.get_by_correlation_id(correlation_uuid)] == [
            entry.id
        ]

        # ### SystemConfig Model
        # Get value with type parsing
        max_validations = await system_config_repo.get_value("MAX_PARALLEL_VALIDATIONS", default=5)

        # Set value
        await system_config_repo.set_value(
            key="SAMPLE_RETENTION_ENABLED",
            value=True,
            value_type="boolean",
            updated_by=admin_id,
            description="Enable log sample retention",
        )

        # Get all public configs for UI
        configs = await system_config_repo.get_public_configs()
        assert max_validations == 5
        assert configs["SAMPLE_RETENTION_ENABLED"] is True
        await session.commit()


async def example_usage(session: AsyncSession):
    """### Using Repositories, as written."""
    # Initialize repositories
    user_repo = UserRepository(session)
    request_repo = RequestRepository(session)

    # Use repository methods
    user = await user_repo.get_by_username("john_doe")
    requests = await request_repo.get_by_user(user.id)

    # Commit changes
    await session.commit()
    return requests  # setup: so that the test can look


async def test_using_repositories_example(seed_app_db: str):
    async with async_session_factory() as session:
        john = await UserRepository(session).get_by_username("john_doe")
        if john is None:  # setup: the quick start module may not have run first
            john = await UserRepository(session).create(
                {"username": "john_doe", "email": "john@example.com"}
            )
        request = await RequestRepository(session).create(
            {"created_by": john.id, "source_system": "Apache"}
        )
        await session.commit()
        assert request.id in {r.id for r in await example_usage(session)}


# -- ## Configuration: FastAPI integration, database initialization ---------------------------


def _build_models_guide_app() -> FastAPI:
    app = FastAPI()

    @app.on_event("startup")
    async def startup_event():
        # Check database connection
        if not await check_db_connection():
            raise RuntimeError("Database connection failed")

        # Ensure default roles exist
        async with async_session_factory() as session:
            role_repo = RoleRepository(session)
            await role_repo.ensure_default_roles()
            await session.commit()

    @app.on_event("shutdown")
    async def shutdown_event():
        await dispose_engine()

    @app.get("/requests/{request_id}")
    async def get_request(request_id: UUID, db: AsyncSession = Depends(get_db)):
        request_repo = RequestRepository(db)
        request = await request_repo.get_by_id(request_id)
        if not request:
            raise HTTPException(status_code=404, detail="Request not found")
        return request

    @app.get("/pool")  # setup: what `engine` (imported as the guide does) is connected to
    async def pool():
        async with engine.connect() as conn:
            database = await conn.run_sync(lambda sync: sync.engine.url.database)
        return {"database": database, "checked_out": engine.pool.checkedout()}

    return app


async def test_models_guide_fastapi_integration(people: dict[str, UUID]):
    async with async_session_factory() as session:
        request = await RequestRepository(session).create(  # setup
            {"created_by": people["user_id"], "source_system": "IIS"}
        )
        await session.commit()
    with TestClient(_build_models_guide_app()) as client:
        got = client.get(f"/requests/{request.id}")
        assert got.status_code == 200
        assert (got.json()["source_system"], got.json()["status"]) == ("IIS", "NEW")
        assert client.get(f"/requests/{uuid4()}").status_code == 404
        assert client.get("/pool").json() == {"database": "tagen_seed_examples", "checked_out": 0}


async def test_init_db_creates_the_tables_for_development(
    pg_server: PgServer, app_database: Callable[[str], Awaitable[None]]
):
    """### Database Initialization, Development (create tables directly)."""
    await app_database(pg_server.create_database("tagen_init_db", fresh=True))

    async def startup():
        await init_db()

    await startup()
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(sa_inspect(sync).get_table_names()))
    assert tables == set(Base.metadata.tables)
    async with async_session_factory() as session:  # usable at once
        roles = await RoleRepository(session).ensure_default_roles()
        assert {r.name for r in roles} == set(UserRoleEnum)
        await session.commit()


async def test_get_db_rolls_back_what_was_not_committed(seed_app_db: str):
    """get_db as FastAPI drives it: an error inside the request leaves nothing behind."""
    sessions: AsyncIterator[AsyncSession] = get_db()
    session = await anext(sessions)
    await UserRepository(session).create({"username": "never_kept", "email": "nk@example.com"})
    with pytest.raises(RuntimeError):
        await sessions.athrow(RuntimeError("the route failed"))
    async with async_session_factory() as check:
        assert await UserRepository(check).get_by_username("never_kept") is None

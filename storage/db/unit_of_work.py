"""The unit of work: one session and transaction, every repository on it, explicit commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from storage.db.repositories.base import translate_db_error
from storage.db.repositories.circuit_breaker import CircuitBreakerRepository
from storage.db.repositories.generation_session import GenerationSessionRepository
from storage.db.repositories.knowledge_chunk import KnowledgeChunkRepository


class UnitOfWork:
    """`async with UnitOfWork() as uow: ...; await uow.commit()`.

    Whatever is not committed when the block exits (normally or by an exception) is rolled back.
    `session_factory` defaults to the application's; tests pass one bound to a savepoint.
    """

    users: UserRepository
    roles: RoleRepository
    requests: RequestRepository
    samples: LogSampleRepository
    revisions: TARevisionRepository
    validations: ValidationRunRepository
    knowledge: KnowledgeDocumentRepository
    chunks: KnowledgeChunkRepository
    audit: AuditLogRepository
    config: SystemConfigRepository
    generation_sessions: GenerationSessionRepository
    breakers: CircuitBreakerRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession] | None = None) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `async with` block")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        factory = self._session_factory
        if factory is None:
            from storage.db.session import get_session_factory

            factory = get_session_factory()
        session = factory()
        self._session = session
        self.users = UserRepository(session)
        self.roles = RoleRepository(session)
        self.requests = RequestRepository(session)
        self.samples = LogSampleRepository(session)
        self.revisions = TARevisionRepository(session)
        self.validations = ValidationRunRepository(session)
        self.knowledge = KnowledgeDocumentRepository(session)
        self.chunks = KnowledgeChunkRepository(session)
        self.audit = AuditLogRepository(session)
        self.config = SystemConfigRepository(session)
        self.generation_sessions = GenerationSessionRepository(session)
        self.breakers = CircuitBreakerRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches the loaded objects
        # (still readable, e.g. to return ids), without expiring them.
        session = self.session
        self._session = None
        await session.close()

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except DBAPIError as exc:
            await self.session.rollback()
            raise translate_db_error(exc, "transaction") from exc

    async def rollback(self) -> None:
        await self.session.rollback()

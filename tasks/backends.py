"""The backends tasks use, provided by the composition root (tagen.wiring): the database,
objects, sandbox settings, validator, embedder and vector store.

Tasks never choose a backend nor read a setting, and do not know who chooses: tagen registers
how to build them with `provide()` before a flow runs. In-process callers (the CLI, the demo,
tests) call `tagen.wiring.install()`; a flow run that Prefect starts from a deployment does it
when the run starts (the `on_running` hook `tagen.deployments` puts on each flow). The factory
runs once, on first use, so nothing is built or read at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.generator.planner import Planner
from engine.settings import SandboxSettings
from storage.breaker import BreakerPolicy, CircuitBreaker
from storage.db.unit_of_work import UnitOfWork
from storage.objects import ObjectStore
from storage.vectors import Embedder, VectorStore
from tasks.validators.protocol import Validator


class LlmProvider(Protocol):
    """The configured LLM provider (tagen.llm): the environment's defaults, which SystemConfig
    may override at run time, and the planner asking a model through it."""

    @property
    def has_key(self) -> bool: ...

    @property
    def model(self) -> str | None: ...

    @property
    def send_raw(self) -> bool: ...

    @property
    def token_budget(self) -> int: ...

    @property
    def breaker_policy(self) -> BreakerPolicy: ...

    def planner(
        self, *, model: str, send_raw: bool, token_budget: int, breaker: CircuitBreaker
    ) -> Planner: ...


@dataclass(frozen=True)
class Backends:
    sessions: Callable[[], async_sessionmaker[AsyncSession]]
    """The running event loop's session factory: every unit of work of a task opens on it."""
    objects: ObjectStore
    bucket: str
    """What LogSample/TARevision rows record as storage_bucket ("local" or the S3 bucket)."""
    download_s3: Callable[[str, Path], None]
    """Copy an `s3://bucket/key` sample given by a requester to a local file."""
    sandbox: SandboxSettings
    """How the sandbox runs and judges, for the generator's self-check and the local
    validator alike."""
    validator: Validator
    """Where VALIDATING judges a revision (local emulator or a Kubernetes Job)."""
    embedder: Embedder
    vectors: VectorStore
    """Chunk vectors in the embedder's namespace (built for that embedder)."""
    llm: LlmProvider | None = None
    """The LLM generation may ask (None: the rules only)."""
    breakers: Mapping[str, BreakerPolicy] = field(default_factory=dict)
    """The circuit breaker policy of each remote provider of the vector side
    (``storage.breaker.EMBEDDINGS`` for an embeddings API, ``PINECONE``); local backends have
    none (tasks.provider_breakers)."""


BackendsFactory = Callable[[], Backends]


class BackendsNotProvidedError(RuntimeError):
    """A task ran before the composition root provided its backends."""


_factory: BackendsFactory | None = None
_built: Backends | None = None


def provide(factory: BackendsFactory) -> None:
    """Register how this process builds its backends (built lazily, on first use). The same
    factory again keeps what it built."""
    global _factory, _built
    if factory is not _factory:
        _factory, _built = factory, None


def install(backends: Backends) -> None:
    """Use these ready-made backends in this process."""
    provide(lambda: backends)


def get_backends() -> Backends:
    global _built
    if _built is None:
        if _factory is None:
            raise BackendsNotProvidedError(
                "no backends provided: run the flows through their deployment entrypoints "
                "(tagen.deployments) or call tagen.wiring.install() first"
            )
        _built = _factory()
    return _built


def unit_of_work() -> UnitOfWork:
    """A unit of work on the provided database: `async with unit_of_work() as uow:`."""
    return UnitOfWork(get_backends().sessions())

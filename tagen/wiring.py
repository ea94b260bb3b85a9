"""The composition root: which backend serves each concern, chosen by configuration only here.

Everything the tasks use comes from `build_backends()`, handed to them through
`tasks.backends` (tasks read no setting themselves):

- database: the application's session factory (`storage.db.session`: DATABASE_URL, else the
  embedded PostgreSQL), one engine per event loop.
- object store, by URL scheme: unset, a path or `file://` -> a local directory (default
  `<TAGEN_HOME>/objects`); `s3://bucket/prefix` -> S3 or any S3-compatible endpoint. Any other
  scheme fails fast with the URL in the message.
- sandbox settings (TAGEN_SANDBOX_*): one set for the generator's self-check and the local
  validator, so the generator checks itself by the thresholds its TA is judged by.
- validator, by `VALIDATION_BACKEND`: `local` (default, the engine's emulator) or `kubernetes`
  (a Job running the official Splunk image, TAGEN_K8S_*). The SystemConfig key wins over the
  environment and is read at each validation, so an admin can switch without restarting
  workers; the environment's value is checked when the backends are built. Any other value
  fails naming it.
- LLM, by `OPENAI_API_KEY` / `OPENAI_BASE_URL` / `TAGEN_LLM_*` (tagen.llm): generation asks it
  when a key and a model are configured (SystemConfig `LLM_MODEL`, `AI_GENERATION_ENABLED`,
  `LLM_SEND_RAW` and `LLM_TOKEN_BUDGET` override at run time: tasks.generation_session).
- embedder, by `TAGEN_EMBEDDINGS_KIND`: `hashing` (default, offline), `minilm` (offline, the
  `[onnx]` extra) or `openai` (any OpenAI-compatible `/v1/embeddings`).
- vector store, by `TAGEN_VECTORS_KIND`: `pgvector` (default, the application database) or
  `pinecone`; opened on the embedder's namespace. The settings models refuse other kinds;
  Pinecone without an index name fails here. The remote ones (an embeddings API, Pinecone)
  get a circuit breaker each (`TAGEN_EMBEDDINGS_BREAKER_*`, `TAGEN_VECTORS_BREAKER_*`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import unquote, urlparse

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.settings import SandboxSettings, get_sandbox_settings
from storage.breaker import EMBEDDINGS, PINECONE, BreakerPolicy
from storage.db.session import get_session_factory
from storage.db.unit_of_work import UnitOfWork
from storage.objects import (
    LocalObjectStore,
    ObjectStore,
    ObjectStoreSettings,
    S3ObjectStore,
    UnsupportedObjectStoreError,
    get_object_store_settings,
    parse_s3_url,
)
from storage.settings import get_storage_settings
from storage.vectors import (
    DEFAULT_HASHING_DIMENSIONS,
    Embedder,
    EmbeddingSettings,
    HashingEmbedder,
    VectorConfigurationError,
    VectorStore,
    VectorStoreSettings,
    get_embedding_settings,
    get_vector_store_settings,
)
from tagen.llm import LlmSettings, OpenAIProvider
from tasks import backends as task_backends
from tasks.validators import LocalValidator, ValidationInput, ValidationResult, Validator

LOCAL_BUCKET = "local"
VALIDATION_BACKEND = "VALIDATION_BACKEND"
ValidationKind = Literal["local", "kubernetes"]
VALIDATION_KINDS: tuple[ValidationKind, ...] = ("local", "kubernetes")


class UnknownValidationBackendError(ValueError):
    """VALIDATION_BACKEND names no validator."""


class ValidationBackendSettings(BaseSettings):
    """The environment's VALIDATION_BACKEND (SystemConfig's, when set, overrides it)."""

    model_config = SettingsConfigDict(extra="ignore")

    validation_backend: str = "local"


def validation_kind(value: str, *, source: str) -> ValidationKind:
    kind = value.strip().lower()
    if kind not in VALIDATION_KINDS:
        raise UnknownValidationBackendError(
            f"{source} {VALIDATION_BACKEND}={value!r}: unknown validation backend "
            f"(use {' or '.join(VALIDATION_KINDS)})"
        )
    return cast(ValidationKind, kind)


def build_validator(
    kind: ValidationKind, objects: ObjectStore, sandbox: SandboxSettings
) -> Validator:
    if kind == "kubernetes":
        # Imported only when chosen: the kubernetes client is not needed otherwise.
        from tasks.validators.kubernetes import KubernetesValidator, KubernetesValidatorSettings

        return KubernetesValidator(
            objects=objects, settings=KubernetesValidatorSettings(), sandbox_settings=sandbox
        )
    return LocalValidator(objects=objects, settings=sandbox)


class ConfiguredValidator:
    """The validator VALIDATION_BACKEND names at the time of each validation."""

    def __init__(
        self,
        *,
        objects: ObjectStore,
        sandbox: SandboxSettings,
        default: ValidationKind,
        sessions: Callable[[], async_sessionmaker[AsyncSession]],
    ) -> None:
        self._objects = objects
        self._sandbox = sandbox
        self._default = default
        self._sessions = sessions
        self._built: dict[ValidationKind, Validator] = {}

    async def kind(self) -> ValidationKind:
        async with UnitOfWork(self._sessions()) as uow:
            value = await uow.config.get_value(VALIDATION_BACKEND)
        if value is None:
            return self._default
        return validation_kind(str(value), source="SystemConfig")

    async def validate(self, job: ValidationInput) -> ValidationResult:
        kind = await self.kind()
        validator = self._built.get(kind)
        if validator is None:
            validator = self._built[kind] = build_validator(kind, self._objects, self._sandbox)
        return await validator.validate(job)


def _s3_client(settings: ObjectStoreSettings) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=(
            settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None
        ),
        aws_secret_access_key=(
            settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key
            else None
        ),
    )


def build_object_store(settings: ObjectStoreSettings) -> tuple[ObjectStore, str]:
    """The object store TAGEN_OBJECTS_URL names, and the bucket rows record for it."""
    url = settings.url or str(get_storage_settings().home / "objects")
    scheme = urlparse(url).scheme
    if scheme == "s3":
        bucket, prefix = parse_s3_url(url)
        return S3ObjectStore(client=_s3_client(settings), bucket=bucket, prefix=prefix), bucket
    if scheme in ("", "file"):
        root = Path(unquote(urlparse(url).path)) if scheme == "file" else Path(url)
        return LocalObjectStore(root=root), LOCAL_BUCKET
    raise UnsupportedObjectStoreError(
        f"TAGEN_OBJECTS_URL {url!r}: unsupported scheme {scheme!r} (use a path, file:// or s3://)"
    )


def build_embedder(settings: EmbeddingSettings) -> Embedder:
    if settings.kind == "hashing":
        return HashingEmbedder(settings.dimensions or DEFAULT_HASHING_DIMENSIONS)
    if settings.kind == "minilm":
        from storage.vectors.minilm import DIMENSIONS, MiniLMEmbedder

        if settings.dimensions not in (None, DIMENSIONS):
            raise VectorConfigurationError(
                f"TAGEN_EMBEDDINGS_DIMENSIONS={settings.dimensions}: MiniLM makes {DIMENSIONS}"
            )
        return MiniLMEmbedder()
    if settings.kind == "openai":
        from openai import OpenAI

        from storage.vectors.openai_embeddings import OpenAIEmbedder

        # The client reads OPENAI_API_KEY and OPENAI_BASE_URL itself.
        client = OpenAI(timeout=settings.timeout, max_retries=settings.max_retries)
        return OpenAIEmbedder.connect(
            client=client,
            model=settings.model,
            dimensions=settings.dimensions,
            batch_size=settings.batch_size,
        )
    raise VectorConfigurationError(f"TAGEN_EMBEDDINGS_KIND {settings.kind!r} is not known")


def build_vector_store(settings: VectorStoreSettings, embedder: Embedder) -> VectorStore:
    if settings.kind == "pgvector":
        from storage.vectors.pgvector_store import PgVectorStore

        return PgVectorStore(
            sessions=get_session_factory, namespace=embedder.name, dimensions=embedder.dimensions
        )
    if settings.kind == "pinecone":
        from pinecone import Pinecone

        from storage.vectors.pinecone_store import PineconeVectorStore

        if not settings.pinecone_index:
            raise VectorConfigurationError(
                "TAGEN_VECTORS_KIND=pinecone needs TAGEN_VECTORS_PINECONE_INDEX (the index name)"
            )
        # The client reads PINECONE_API_KEY itself and retries 429/5xx with backoff.
        client = Pinecone(timeout=settings.pinecone_timeout)
        index = (
            client.index(host=settings.pinecone_host)
            if settings.pinecone_host
            else client.index(name=settings.pinecone_index)
        )
        return PineconeVectorStore(
            index=index,
            index_name=settings.pinecone_index,
            namespace=embedder.name,
            dimensions=embedder.dimensions,
        )
    raise VectorConfigurationError(f"TAGEN_VECTORS_KIND {settings.kind!r} is not known")


def build_backends(
    settings: ObjectStoreSettings | None = None,
    validation: ValidationBackendSettings | None = None,
    sandbox: SandboxSettings | None = None,
    llm: LlmSettings | None = None,
    *,
    embeddings: EmbeddingSettings | None = None,
    vectors: VectorStoreSettings | None = None,
) -> task_backends.Backends:
    """Every backend of the tasks, from the given settings or the environment's."""
    settings = settings or get_object_store_settings()
    sandbox = sandbox or get_sandbox_settings()
    default = validation_kind(
        (validation or ValidationBackendSettings()).validation_backend, source="environment"
    )
    store, bucket = build_object_store(settings)

    def download_s3(uri: str, destination: Path) -> None:
        source_bucket, key = parse_s3_url(uri)
        _s3_client(settings).download_file(source_bucket, key, str(destination))

    embeddings = embeddings or get_embedding_settings()
    vectors = vectors or get_vector_store_settings()
    embedder = build_embedder(embeddings)
    return task_backends.Backends(
        sessions=get_session_factory,
        objects=store,
        bucket=bucket,
        download_s3=download_s3,
        sandbox=sandbox,
        validator=ConfiguredValidator(
            objects=store, sandbox=sandbox, default=default, sessions=get_session_factory
        ),
        embedder=embedder,
        vectors=build_vector_store(vectors, embedder),
        llm=OpenAIProvider(llm or LlmSettings()),
        breakers=remote_breakers(embeddings, vectors),
    )


def remote_breakers(
    embeddings: EmbeddingSettings, vectors: VectorStoreSettings
) -> dict[str, BreakerPolicy]:
    """The circuit breakers of the remote providers configured (local ones need none)."""
    breakers = {}
    if embeddings.kind == "openai":
        breakers[EMBEDDINGS] = embeddings.breaker_policy()
    if vectors.kind == "pinecone":
        breakers[PINECONE] = vectors.breaker_policy()
    return breakers


def install() -> None:
    """Provide the configured backends to the tasks of this process (built on first use)."""
    task_backends.provide(build_backends)

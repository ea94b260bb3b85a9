"""The backends tasks use (object store, validator), provided by the composition root.

Tasks never choose a backend, nor know who chooses: the composition root (tagen) registers a
factory with `provide()` before any flow runs: in-process callers do it themselves, and a flow
run that Prefect starts in a fresh process imports its deployment entrypoint module
(`tagen.deployments`), which registers it. The factory runs once, on first use, so no
setting is read at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.objects import ObjectStore
from tasks.validators.protocol import Validator


@dataclass(frozen=True)
class Backends:
    objects: ObjectStore
    bucket: str
    """What LogSample/TARevision rows record as storage_bucket ("local" or the S3 bucket)."""
    download_s3: Callable[[str, Path], None]
    """Copy an `s3://bucket/key` sample given by a requester to a local file."""
    validator: Validator
    """Where VALIDATING judges a revision (local emulator or a Kubernetes Job)."""


BackendsFactory = Callable[[], Backends]


class BackendsNotProvidedError(RuntimeError):
    """A task ran before the composition root provided its backends."""


_factory: BackendsFactory | None = None
_built: Backends | None = None


def provide(factory: BackendsFactory) -> None:
    """Register how this process builds its backends (built lazily, on first use)."""
    global _factory, _built
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

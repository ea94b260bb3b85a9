"""The backends tasks use (object store), installed by the composition root.

Tasks never choose a backend themselves: `tagen.wiring` builds them from configuration and
installs them here. A flow run started by Prefect in a fresh process (a deployment run) has had
no chance to call the composition root, so the first use imports the module named by
`TAGEN_COMPOSITION_ROOT` (default `tagen.wiring`) and calls its `install()`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.objects import ObjectStore

DEFAULT_COMPOSITION_ROOT = "tagen.wiring"


@dataclass(frozen=True)
class Backends:
    objects: ObjectStore
    bucket: str
    """What LogSample/TARevision rows record as storage_bucket ("local" or the S3 bucket)."""
    download_s3: Callable[[str, Path], None]
    """Copy an `s3://bucket/key` sample given by a requester to a local file."""


_installed: Backends | None = None


def install(backends: Backends) -> None:
    global _installed
    _installed = backends


def get_backends() -> Backends:
    if _installed is None:
        root = os.environ.get("TAGEN_COMPOSITION_ROOT", DEFAULT_COMPOSITION_ROOT)
        importlib.import_module(root).install()
        if _installed is None:
            raise RuntimeError(f"composition root {root!r} installed no backends")
    return _installed

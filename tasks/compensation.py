"""Compensation for object-store writes whose database commit did not happen.

A task uploads first, under a key no other attempt uses, then records the object in one short
unit of work; when that fails the object is deleted again here, so no object outlives a row
that was never written. Best effort: a failed delete is logged and the error that made the step
fail is the one raised (an orphan object is harmless, a hidden cause is not).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from storage.objects import ObjectStore

log = logging.getLogger(__name__)


def delete_objects(objects: ObjectStore, keys: Iterable[str]) -> None:
    """Delete `keys` (blocking I/O: call from a worker thread)."""
    for key in keys:
        try:
            objects.delete(key)
        except Exception:
            log.warning("could not delete orphan object %s", key, exc_info=True)


async def discard(objects: ObjectStore, keys: Iterable[str]) -> None:
    """delete_objects in a worker thread: what a step runs when its commit failed."""
    await asyncio.to_thread(delete_objects, objects, list(keys))

"""Calls to the vector side's remote providers (an embeddings API, Pinecone) through their
circuit breakers, whose state every process shares (``circuit_breakers``).

A call that still fails after the client's own bounded retries (a ``VectorBackendError``:
5xx, timeouts, answers that are not JSON) counts as one failure; after the policy's number of
consecutive failures the provider's circuit opens for its time, and calls are refused at once
with a ``VectorBackendError`` naming the open circuit, so indexing and retrieval fall back
(full-text only) without waiting out timeouts again. Configuration errors do not count: they
are raised as they are. Local backends (the hashing and MiniLM embedders, pgvector) have no
breaker (``Backends.breakers`` names only the remote ones).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from storage.breaker import BreakerState, CircuitBreaker, CircuitOpenError
from storage.vectors import VectorBackendError
from tasks.backends import get_backends, unit_of_work

T = TypeVar("T")


async def _merge(breaker: CircuitBreaker) -> None:
    async with unit_of_work() as uow:
        await uow.breakers.merge(breaker.provider, breaker.outcome())
        await uow.commit()


async def through_breaker(provider: str, call: Callable[[], Awaitable[T]]) -> T:
    """``await call()`` through ``provider``'s circuit breaker (when it has one)."""
    policy = get_backends().breakers.get(provider)
    if policy is None:
        return await call()
    async with unit_of_work() as uow:
        state = await uow.breakers.get_state(provider)
    breaker = CircuitBreaker(provider, policy, state=state)
    try:
        breaker.check()
    except CircuitOpenError as exc:
        raise VectorBackendError(str(exc)) from exc
    try:
        result = await call()
    except VectorBackendError as exc:
        breaker.record_failure(str(exc))
        await _merge(breaker)
        raise
    breaker.record_success()
    if state != BreakerState():  # a success after failures closes the shared count
        await _merge(breaker)
    return result

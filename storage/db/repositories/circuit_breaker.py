"""The shared circuit-breaker state: read at the start of a run, merged back at its end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert

from storage.breaker import BreakerOutcome, BreakerState
from storage.db.models.circuit_breaker import CircuitBreakerState
from storage.db.repositories.base import BaseRepository

MAX_ERROR_CHARS = 2_000


class CircuitBreakerRepository(BaseRepository[CircuitBreakerState]):
    model = CircuitBreakerState
    default_order = "provider"

    async def get_state(self, provider: str) -> BreakerState:
        row = await self.session.get(CircuitBreakerState, provider)
        if row is None:
            return BreakerState()
        until = row.open_until.timestamp() if row.open_until is not None else None
        return BreakerState(row.failures, until)

    async def merge(self, provider: str, outcome: BreakerOutcome) -> BreakerState:
        """Fold one run's outcome into the stored state, under a row lock.

        A run that succeeded at least once leaves its own final state (its failures after that
        success count, and the circuit it opened). A run that only failed adds its failures to
        what concurrent runs stored, and keeps the later of the two opening times."""
        if not outcome.used:
            return await self.get_state(provider)
        async with self._write():
            await self.session.execute(
                insert(cast(Table, CircuitBreakerState.__table__))
                .values(provider=provider)
                .on_conflict_do_nothing(index_elements=["provider"])
            )
            row = await self.session.scalar(
                select(CircuitBreakerState)
                .where(CircuitBreakerState.provider == provider)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            assert row is not None  # inserted above
            ours = outcome.state.open_until
            if outcome.succeeded:
                row.failures = outcome.trailing_failures
                row.open_until = _at(ours)
            else:
                row.failures += outcome.trailing_failures
                stored = row.open_until.timestamp() if row.open_until is not None else None
                later = max((t for t in (stored, ours) if t is not None), default=None)
                row.open_until = _at(later)
            if outcome.last_error:
                row.last_error = outcome.last_error[:MAX_ERROR_CHARS]
            await self.session.flush()
        until = row.open_until.timestamp() if row.open_until is not None else None
        return BreakerState(row.failures, until)


def _at(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None

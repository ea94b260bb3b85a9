"""What the time functions read: when the search (or, for INGEST_EVAL, the indexing) started
and the user's time zone. The sandbox passes its own clock so results are reproducible."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo


@dataclass(frozen=True, slots=True)
class EvalClock:
    now: datetime
    zone: tzinfo = UTC

    @classmethod
    def wall(cls) -> EvalClock:
        """The machine's clock in UTC, for callers without a sandbox run."""
        return cls(datetime.now(UTC))

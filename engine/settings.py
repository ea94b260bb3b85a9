"""Settings owned by the engine: the sandbox's verdict thresholds and its clock.

Built lazily by :func:`get_sandbox_settings` (cached) so importing the engine never reads the
environment; tests build :class:`SandboxSettings` directly or clear the cache.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    """How the local sandbox runs and when its verdict is PASSED (env prefix TAGEN_SANDBOX_)."""

    model_config = SettingsConfigDict(env_prefix="TAGEN_SANDBOX_", extra="ignore")

    min_timestamp_ratio: float = Field(
        default=0.95, ge=0.0, le=1.0, description="share of events whose timestamp was parsed"
    )
    min_field_coverage: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="share of events with at least one extracted field",
    )
    max_truncated_ratio: float = Field(
        default=0.0, ge=0.0, le=1.0, description="share of events cut by TRUNCATE"
    )
    min_cim_compliance: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="share of CIM-tagged events with every required field present and valid",
    )
    fail_on_lint_errors: bool = True
    require_events: bool = Field(default=True, description="no events at all is a failure")
    now: datetime | None = Field(
        default=None, description="clock for MAX_DAYS_AGO/HENCE and CURRENT (ISO-8601)"
    )
    default_tz: str = Field(default="UTC", description="zone of offset-less timestamps without TZ")
    max_events: int = Field(
        default=0, ge=0, description="analyse at most this many events (0: all of them)"
    )
    max_examples: int = Field(default=10, ge=0, description="failing examples kept per problem")

    @field_validator("now")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("now must carry a UTC offset, e.g. 2024-01-01T00:00:00+00:00")
        return value

    @field_validator("default_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


@lru_cache(maxsize=1)
def get_sandbox_settings() -> SandboxSettings:
    """The sandbox settings from the environment, read on first use."""
    return SandboxSettings()

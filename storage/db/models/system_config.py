"""Runtime configuration that overrides environment defaults (MAX_PARALLEL_VALIDATIONS, ...)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db.base import Base, TimestampMixin, UUIDPrimaryKeyMixin, pg_enum
from storage.db.enums import ConfigValueType


class SystemConfig(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """`value` is text parsed according to `value_type`; secrets are masked when listed."""

    __tablename__ = "system_config"

    key: Mapped[str] = mapped_column(String(255), unique=True)
    value: Mapped[str | None] = mapped_column(Text)
    value_type: Mapped[ConfigValueType] = mapped_column(
        pg_enum(ConfigValueType, "config_value_type"),
        default=ConfigValueType.STRING,
        server_default=text("'string'"),
    )
    description: Mapped[str | None] = mapped_column(Text)
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

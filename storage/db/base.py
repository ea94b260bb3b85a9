"""The one declarative Base: constraint naming convention, type map, UUID ids and timestamps,
and the column and relationship shapes the models share."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names, so migrations can address them and autogenerate stays quiet.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        uuid.UUID: UUID(as_uuid=True),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
    }


class UUIDPrimaryKeyMixin:
    """UUID ids generated in Python (known before flush) and by the database for raw inserts."""

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )


class TimestampMixin:
    """created_at/updated_at from the database clock; a trigger (migration 0001) keeps updated_at
    current for raw SQL updates too. clock_timestamp() rather than now(): rows written in one
    transaction get distinct, ordered times, so "newest first" is well defined."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.clock_timestamp(), onupdate=func.clock_timestamp()
    )


JsonObject = Annotated[
    dict[str, Any], mapped_column(default=dict, server_default=text("'{}'::jsonb"))
]
"""A JSONB object that is `{}` rather than NULL when not given, from the ORM and raw SQL alike."""


def owned_rows(
    *, back_populates: str, order_by: str | None = None, foreign_keys: str | None = None
) -> Any:
    """The child rows a parent owns: removed with it (ORM cascade, and ON DELETE CASCADE in the
    database via passive_deletes), never loaded implicitly (lazy="raise": load them explicitly)."""
    options: dict[str, Any] = {}
    if order_by is not None:
        options["order_by"] = order_by
    if foreign_keys is not None:
        options["foreign_keys"] = foreign_keys
    return relationship(
        back_populates=back_populates,
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        **options,
    )


def pg_enum(enum_cls: type, name: str) -> Any:
    """A native PostgreSQL enum storing the enum *values*."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        name=name,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )

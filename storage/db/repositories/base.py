"""BaseRepository: CRUD on one model plus the translation of driver errors into domain errors.

Repositories never commit: they add, flush, execute and return. Each write runs in a SAVEPOINT,
so a refused row (duplicate, bad reference) leaves the caller's transaction usable and nothing
half-written.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, Table, func, inspect, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.sqltypes import Enum as SAEnum

from storage.db.base import Base
from storage.db.errors import (
    ConstraintViolationError,
    DuplicateError,
    ImmutableAuditLogError,
    InvalidStatusTransitionError,
    InvalidValueError,
    NotFoundError,
    StorageError,
)

ModelT = TypeVar("ModelT", bound=Base)
EnumT = TypeVar("EnumT", bound=enum.Enum)

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"
_CHECK_VIOLATION = "23514"
_NOT_NULL_VIOLATION = "23502"
_RESTRICT_VIOLATION = "23001"


def translate_db_error(exc: Exception, entity: str) -> StorageError:
    """Map a driver error to a domain error with a message naming the problem."""
    if isinstance(exc, StorageError):
        return exc  # already translated
    cause = exc if isinstance(exc, DBAPIError) else None
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or "?"
    primary = getattr(diag, "message_primary", None) or str(orig or exc).splitlines()[0]
    detail = getattr(diag, "message_detail", None)
    if sqlstate == _UNIQUE_VIOLATION:
        return DuplicateError(entity, detail or f"violates {constraint}", cause=cause)
    if sqlstate == _RESTRICT_VIOLATION and "append-only" in primary:
        # "audit_logs is append-only: <OPERATION> is not allowed"
        return ImmutableAuditLogError(primary.split(": ", 1)[-1].split(" ", 1)[0])
    # PostgreSQL 18 reports an ON DELETE RESTRICT foreign key as restrict_violation, not 23503.
    if sqlstate in (_FOREIGN_KEY_VIOLATION, _RESTRICT_VIOLATION):
        return ConstraintViolationError(
            f"{entity}: unknown or still referenced row ({detail or constraint})", cause=cause
        )
    if sqlstate == _CHECK_VIOLATION and "status transition" in primary:
        parts = primary.rsplit(" ", 3)  # "... transition OLD -> NEW"
        return InvalidStatusTransitionError(entity, parts[-3], parts[-1])
    if sqlstate in (_CHECK_VIOLATION, _NOT_NULL_VIOLATION):
        return ConstraintViolationError(f"{entity}: {primary}", cause=cause)
    if sqlstate is not None and sqlstate.startswith("22"):  # data exception
        return InvalidValueError(f"{entity}: {primary}")
    return StorageError(f"{entity}: {primary}")


class BaseRepository(Generic[ModelT]):
    """Typed CRUD for `model`. Subclasses add the queries their entity needs."""

    model: type[ModelT]
    default_order: str = "-created_at"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def entity(self) -> str:
        return self.model.__name__

    # -- reads -------------------------------------------------------------------------------

    async def get_by_id(self, id: uuid.UUID) -> ModelT | None:
        return await self.session.get(self.model, id)

    async def get(self, id: uuid.UUID) -> ModelT:
        """Like get_by_id, but an unknown id raises NotFoundError."""
        found = await self.get_by_id(id)
        if found is None:
            raise NotFoundError(self.entity, id)
        return found

    async def get_all(
        self,
        skip: int = 0,
        limit: int = 100,
        *,
        filters: Mapping[str, Any] | None = None,
        order_by: str | Sequence[str] | None = None,
    ) -> list[ModelT]:
        stmt = self._apply_filters(select(self.model), filters)
        stmt = self._apply_ordering(stmt, order_by or self.default_order)
        return list((await self.session.scalars(stmt.offset(skip).limit(limit))).all())

    async def _lock(self, id: uuid.UUID) -> ModelT:
        """The row, re-read and locked FOR UPDATE until the transaction ends (NotFoundError
        when unknown): state machines check and move it without a concurrent writer."""
        pk = inspect(self.model).primary_key[0]
        stmt = (
            select(self.model)
            .where(pk == id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found = await self.session.scalar(stmt)
        if found is None:
            raise NotFoundError(self.entity, id)
        return found

    async def exists(self, id: uuid.UUID) -> bool:
        pk = inspect(self.model).primary_key[0]
        stmt = select(pk).where(pk == id).limit(1)
        return (await self.session.scalar(stmt)) is not None

    async def count(self, filters: Mapping[str, Any] | None = None) -> int:
        stmt = self._apply_filters(select(func.count()).select_from(self.model), filters)
        return int(await self.session.scalar(stmt) or 0)

    # -- writes ------------------------------------------------------------------------------

    async def create(self, data: Mapping[str, Any]) -> ModelT:
        obj = self.model(**self._coerce(data))
        async with self._write():
            self.session.add(obj)
            await self.session.flush()
        await self.session.refresh(obj)
        return obj

    async def _create_unless_exists(
        self, data: Mapping[str, Any], *, unique: str
    ) -> tuple[ModelT, bool]:
        """INSERT ... ON CONFLICT DO NOTHING, then the row holding the `unique` value.

        Returns (row, created). Idempotent in PostgreSQL: concurrent callers with the same value
        get the same row, and no IntegrityError reaches them. The conflict has no target on
        purpose: with `ON CONFLICT (unique)` only that index arbitrates, so two concurrent
        inserts of one row trip the table's other unique indexes (an e-mail, a lower-cased
        name) and one caller got an IntegrityError. A conflict that leaves no row with this
        `unique` value was on another column: a plain insert then reports it (DuplicateError
        naming the constraint).
        """
        mapper = inspect(self.model)
        column = self._column(unique)
        row = {mapper.column_attrs[k].columns[0].name: v for k, v in self._coerce(data).items()}
        stmt = (
            insert(cast(Table, self.model.__table__))
            .values(row)
            .on_conflict_do_nothing()
            .returning(mapper.primary_key[0])
        )
        async with self._write():
            new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        existing = await self.session.scalar(
            select(self.model)
            .where(column == data[unique])
            .execution_options(populate_existing=True)
        )
        if existing is None:  # the conflict was elsewhere: a plain insert names it (or wins)
            return await self.create(data), True
        return existing, new_id is not None

    async def update(self, id: uuid.UUID, data: Mapping[str, Any]) -> ModelT:
        obj = await self.get(id)
        values = self._coerce(data)
        async with self._write():
            for key, value in values.items():
                setattr(obj, key, value)
            await self.session.flush()
        await self.session.refresh(obj)
        return obj

    async def delete(self, id: uuid.UUID) -> None:
        obj = await self.get(id)
        async with self._write():
            await self.session.delete(obj)
            await self.session.flush()

    # -- helpers -----------------------------------------------------------------------------

    def _write(self) -> _TranslatedSavepoint:
        return _TranslatedSavepoint(self.session, self.entity)

    def _column(self, name: str) -> Any:
        attrs = inspect(self.model).column_attrs
        if name not in attrs:
            raise InvalidValueError(f"{self.entity} has no column {name!r}")
        return getattr(self.model, name)

    def _coerce(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Check names against the model's columns and enum values against their enum."""
        attrs = inspect(self.model).column_attrs
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in attrs:
                raise InvalidValueError(f"{self.entity} has no column {key!r}")
            column_type = attrs[key].columns[0].type
            enum_class = getattr(column_type, "enum_class", None)
            if isinstance(column_type, SAEnum) and enum_class and value is not None:
                value = to_enum(enum_class, value, f"{self.entity}.{key}")
            values[key] = value
        return values

    def _apply_filters(self, stmt: Select[Any], filters: Mapping[str, Any] | None) -> Select[Any]:
        """Equality per column; a list/tuple/set means IN, None means IS NULL."""
        for key, value in (filters or {}).items():
            column = self._column(key)
            if isinstance(value, list | tuple | set | frozenset):
                stmt = stmt.where(column.in_(list(value)))
            elif value is None:
                stmt = stmt.where(column.is_(None))
            else:
                stmt = stmt.where(column == value)
        return stmt

    def _apply_ordering(
        self, stmt: Select[Any], order_by: str | Sequence[str], desc: bool = False
    ) -> Select[Any]:
        """Column names, a leading '-' (or `desc` for all) for descending (e.g. "-created_at")."""
        names = [order_by] if isinstance(order_by, str) else list(order_by)
        for name in names:
            descending = desc or name.startswith("-")
            column = self._column(name.lstrip("-"))
            stmt = stmt.order_by(column.desc() if descending else column.asc())
        return stmt


def to_enum(enum_class: type[EnumT], value: Any, what: str) -> EnumT:
    """`value` as a member of `enum_class`, or InvalidValueError listing the allowed values."""
    try:
        return enum_class(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_class)
        raise InvalidValueError(f"{what}: {value!r} is not one of {allowed}") from None


class _TranslatedSavepoint:
    """`async with`: a SAVEPOINT whose driver errors come out as domain errors."""

    def __init__(self, session: AsyncSession, entity: str) -> None:
        self._session = session
        self._entity = entity
        self._nested: Any = None

    async def __aenter__(self) -> None:
        self._nested = await self._session.begin_nested()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            await self._nested.commit()
            return
        await self._nested.rollback()
        await self._reload_expired()
        if isinstance(exc, IntegrityError | DBAPIError):
            raise translate_db_error(exc, self._entity) from exc
        if isinstance(exc, StatementError):
            raise InvalidValueError(f"{self._entity}: {exc.orig or exc}") from exc
        if isinstance(exc, TypeError | ValueError) and not isinstance(exc, StorageError):
            # values the driver cannot bind, e.g. a JSON column holding a non-JSON object
            raise InvalidValueError(f"{self._entity}: {exc}") from exc

    async def _reload_expired(self) -> None:
        """The rollback expired the attributes the refused write had changed; reload them now,
        because an expired attribute would otherwise lazy-load outside the async context."""
        for obj in list(self._session.identity_map.values()):
            if inspect(obj).expired_attributes:
                await self._session.refresh(obj)

"""Runtime configuration: typed values stored as text, upserted, secrets masked when listed."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from storage.db.enums import ConfigValueType
from storage.db.errors import InvalidConfigValueError
from storage.db.models import SystemConfig
from storage.db.repositories.base import BaseRepository, to_enum

SECRET_MASK = "********"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_config_value(key: str, raw: str | None, value_type: ConfigValueType) -> Any:
    """Text from the table -> the Python value of its type."""
    if raw is None:
        return None
    try:
        if value_type is ConfigValueType.STRING:
            return raw
        if value_type is ConfigValueType.INTEGER:
            return int(raw.strip())
        if value_type is ConfigValueType.BOOLEAN:
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(f"{raw!r} is not one of {sorted(_TRUE | _FALSE)}")
        parsed = json.loads(raw)
    except ValueError as exc:
        raise InvalidConfigValueError(key, value_type.value, str(exc)) from None
    if value_type is ConfigValueType.LIST and not isinstance(parsed, list):
        raise InvalidConfigValueError(key, "list", f"got {type(parsed).__name__}")
    return parsed


def serialize_config_value(key: str, value: Any, value_type: ConfigValueType) -> str | None:
    """A Python value -> the text stored, refusing values that do not fit the type."""
    if value is None:
        return None
    if value_type is ConfigValueType.STRING:
        if not isinstance(value, str):
            raise InvalidConfigValueError(key, "string", f"got {type(value).__name__}")
        return value
    if value_type is ConfigValueType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidConfigValueError(key, "integer", f"got {type(value).__name__}")
        return str(parse_config_value(key, str(value), value_type))
    if value_type is ConfigValueType.BOOLEAN:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return "true" if parse_config_value(key, value, value_type) else "false"
        raise InvalidConfigValueError(key, "boolean", f"got {type(value).__name__}")
    if value_type is ConfigValueType.LIST and not isinstance(value, list | tuple):
        raise InvalidConfigValueError(key, "list", f"got {type(value).__name__}")
    try:
        return json.dumps(list(value) if isinstance(value, tuple) else value, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidConfigValueError(key, value_type.value, str(exc)) from None


class SystemConfigRepository(BaseRepository[SystemConfig]):
    model = SystemConfig
    default_order = "key"

    async def get_by_key(self, key: str) -> SystemConfig | None:
        return await self.session.scalar(select(SystemConfig).where(SystemConfig.key == key))

    async def get_value(self, key: str, default: Any = None) -> Any:
        """The parsed value of `key`, or `default` when it is not set."""
        entry = await self.get_by_key(key)
        if entry is None or entry.value is None:
            return default
        return parse_config_value(key, entry.value, entry.value_type)

    async def set_value(
        self,
        key: str,
        value: Any,
        value_type: ConfigValueType | str = ConfigValueType.STRING,
        updated_by: uuid.UUID | None = None,
        description: str | None = None,
        is_secret: bool = False,
    ) -> SystemConfig:
        """Insert or replace `key` (one statement: safe under concurrent writers)."""
        if not key or not key.strip():
            raise InvalidConfigValueError(key, "key", "a config key must not be empty")
        kind = to_enum(ConfigValueType, value_type, "SystemConfig.value_type")
        text = serialize_config_value(key, value, kind)
        row = {
            "key": key,
            "value": text,
            "value_type": kind,
            "updated_by": updated_by,
            "is_secret": is_secret,
        }
        update = {
            "value": text,
            "value_type": kind,
            "updated_by": updated_by,
            "is_secret": is_secret,
        }
        if description is not None:
            row["description"] = description
            update["description"] = description
        stmt = (
            insert(SystemConfig)
            .values(**row)
            .on_conflict_do_update(index_elements=[SystemConfig.key], set_=update)
            .returning(SystemConfig)
            .execution_options(populate_existing=True)
        )
        async with self._write():
            entry = (await self.session.execute(stmt)).scalar_one()
        return entry

    async def get_public_configs(self) -> dict[str, Any]:
        """Every key with its parsed value; secrets show as a mask, never their value."""
        entries = (
            await self.session.scalars(select(SystemConfig).order_by(SystemConfig.key))
        ).all()
        return {
            entry.key: SECRET_MASK
            if entry.is_secret
            else parse_config_value(entry.key, entry.value, entry.value_type)
            for entry in entries
        }

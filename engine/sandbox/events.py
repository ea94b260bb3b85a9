"""The event the sandbox pipeline passes from index time to search time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

FieldValues = list[str]


@dataclass(slots=True)
class Event:
    """One Splunk event: raw text, metadata and extracted fields.

    Field values are always lists (Splunk fields can be multi-valued); a single value is a
    one-element list. ``indexed`` names the fields that came from index time
    (INDEXED_EXTRACTIONS, WRITE_META) so search time can tell them apart.
    """

    raw: str
    sourcetype: str
    source: str = ""
    host: str = ""
    time: datetime | None = None
    time_error: str | None = None
    truncated: bool = False
    linecount: int = 1
    offset: int = 0
    fields: dict[str, FieldValues] = field(default_factory=dict)
    indexed: set[str] = field(default_factory=set)
    eventtypes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def first(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def set_field(self, name: str, value: str | FieldValues) -> None:
        self.fields[name] = [value] if isinstance(value, str) else list(value)

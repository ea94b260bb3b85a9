"""tags.conf: ``[<field>=<value>]`` stanzas (value URL-encoded) with ``<tag> = enabled|disabled``.

``[eventtype=<name>]`` stanzas tag the events of an eventtype; any other field tags events
carrying that value (compared case-insensitively, as search compares values). An event gets
``tag::<field>`` fields, searchable as "tag::<field>=<tagname>" (Knowledge Manager Manual, "Tag
field-value pairs in Search"), ``tag::eventtype`` and ``tag``, the union of its tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass(slots=True)
class TagIndex:
    """Enabled tags by eventtype name and by (field, value), built once per TA."""

    by_eventtype: dict[str, list[str]] = field(default_factory=dict)
    by_field: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, stanzas: Mapping[str, Mapping[str, str]]) -> TagIndex:
        index = cls()
        for stanza_name, settings in stanzas.items():
            name, sep, encoded = stanza_name.partition("=")
            if not sep or not name.strip():
                index.errors.append(f"tags.conf [{stanza_name}]: not <field>=<value>")
                continue
            enabled = [
                tag.strip()
                for tag, state in settings.items()
                if state.strip().lower() == "enabled" and tag.strip()
            ]
            if not enabled:
                continue
            value = unquote(encoded.strip())
            if name.strip() == "eventtype":
                index.by_eventtype.setdefault(value, []).extend(enabled)
            else:
                values = index.by_field.setdefault(name.strip(), {})
                values.setdefault(value.casefold(), []).extend(enabled)
        return index

    def for_fields(self, get: Callable[[str], list[str] | None]) -> dict[str, set[str]]:
        """Tags of the event's field values, by field (``tag::<field>``)."""
        found: dict[str, set[str]] = {}
        for name, values in self.by_field.items():
            for value in get(name) or ():
                tags = values.get(value.casefold())
                if tags:
                    found.setdefault(name, set()).update(tags)
        return found

    def for_eventtypes(self, names: Iterable[str]) -> set[str]:
        tags: set[str] = set()
        for name in names:
            tags.update(self.by_eventtype.get(name, ()))
        return tags

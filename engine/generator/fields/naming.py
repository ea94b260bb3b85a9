"""Field names Splunk accepts and people understand.

Splunk field names are letters, digits and underscores (a leading letter or underscore); regex
group names in PCRE2 are limited to 32 characters. Header cleaning follows Splunk's
INDEXED_EXTRACTIONS rule: every run of characters that is not alphanumeric becomes ``_``.
"""

from __future__ import annotations

import re

MAX_GROUP_NAME = 32
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

RESERVED = frozenset(
    {
        "_raw",
        "_time",
        "_indextime",
        "_cd",
        "_bkt",
        "_serial",
        "_si",
        "_sourcetype",
        "host",
        "source",
        "sourcetype",
        "index",
        "linecount",
        "punct",
        "splunk_server",
        "timestamp",
        "eventtype",
        "tag",
    }
)
"""Names Splunk sets itself; an extraction must not overwrite them."""


def clean_header(name: str) -> str:
    """Clean a column header as Splunk does for INDEXED_EXTRACTIONS (non-alphanumerics -> ``_``)."""
    cleaned = _NOT_NAME.sub("_", name.strip()).strip("_")
    return cleaned or "field"


def field_name(word: str, *, fallback: str = "field") -> str:
    """A lower_snake_case field name from a key, a header or a context word."""
    snake = _CAMEL.sub("_", word.strip())
    cleaned = _NOT_NAME.sub("_", snake).strip("_").lower()
    if not cleaned:
        cleaned = fallback
    if cleaned[0].isdigit():
        cleaned = f"f_{cleaned}"
    cleaned = cleaned[:MAX_GROUP_NAME]
    if cleaned in RESERVED:
        cleaned = f"{cleaned}_field"[:MAX_GROUP_NAME] if cleaned != "host" else "hostname"
    return cleaned


def unique_name(base: str, used: set[str]) -> str:
    """``base`` or ``base_2``, ``base_3``... whichever is not in ``used``; records the choice."""
    name = base
    counter = 2
    while name in used:
        suffix = f"_{counter}"
        name = base[: MAX_GROUP_NAME - len(suffix)] + suffix
        counter += 1
    used.add(name)
    return name

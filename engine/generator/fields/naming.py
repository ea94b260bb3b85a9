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


_GENERIC = re.compile(
    r"^(?:(?:value|number|ip|hex|address|field|json_key|bracketed|parenthesized|qualified"
    r"|qualifier|flag|token)(?:_\d+)?|f_\w+)$"
)
"""Names the rules fall back to when no word says what a value is: a value's type (``ip``,
``number``...), ``value`` or ``field``, numbered when repeated, or ``f_`` + a digit-led word."""
_VALID = re.compile(rf"^[A-Za-z_][A-Za-z0-9_]{{0,{MAX_GROUP_NAME - 1}}}$")


def is_generic(name: str) -> bool:
    """Whether ``name`` is one of the rules' fallbacks rather than a name saying what it holds."""
    return _GENERIC.match(name) is not None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an extracted field's name (None when it can)."""
    if not _VALID.match(name):
        return (
            f"{name!r} is not a field name (letters, digits and _, not starting with a digit, "
            f"at most {MAX_GROUP_NAME} characters)"
        )
    if name in RESERVED or name.startswith(("_", "date_")):
        return f"{name!r} is a name Splunk sets itself"
    return None

"""JSON events: KV_MODE=json, with the field names Splunk's JSON extraction produces.

Splunk names nested keys with dots (``user.name``) and array elements with ``{}``
(``tags{}``); the names are listed here for the README, the extraction is Splunk's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from engine.generator.fields.builder import PlanBuilder
from engine.generator.fields.naming import field_name, unique_name
from engine.json_leaves import json_leaves

MIN_SHARE = 0.6


def parse_object(event: str) -> dict[str, Any] | None:
    text = event.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested beyond the stack
        return None
    return value if isinstance(value, dict) else None


def is_json(events: Sequence[str]) -> bool:
    """True when most events are JSON objects."""
    return bool(events) and sum(parse_object(e) is not None for e in events) >= MIN_SHARE * len(
        events
    )


def _hidden_key(builder: PlanBuilder, key: str, taken: set[str]) -> None:
    """Splunk hides fields whose name starts with ``_``: extract such a top-level key visibly."""
    name = unique_name(field_name(key.lstrip("_"), fallback="json_key"), taken)
    literal = "".join(f"\\{c}" if not c.isalnum() else c for c in key)
    builder.extract(
        f"json_{name}",
        rf'"{literal}"\s*:\s*(?:"(?<{name}>(?:[^"\\]|\\.)*)"|(?<{name}_value>[^\s,}}\]"]+))',
    )


_EMBEDDED_PAIR = re.compile(r"(?:^|(?<=\s))([A-Za-z_][\w.\-]*+)=([^\s\"'\\]+)")
EMBEDDED_PAIRS = r"(?:^|(?<=[\s\"]))([A-Za-z_][\w.\-]*+)=([^\s\"'\\]+)"
"""``KEY=value`` pairs inside a JSON string (``"message":"IN=eth0 SRC=10.0.0.1 ..."``): read from
the raw text, where the string ends at a quote, since Splunk's JSON extraction does not look
inside values."""
MIN_EMBEDDED = 2


def _embedded_pairs(builder: PlanBuilder, strings: list[str]) -> None:
    """A pairs transform when enough string leaves are themselves ``k=v k=v`` records."""
    found: dict[str, list[str]] = {}
    holding = 0
    for text in strings:
        pairs = _EMBEDDED_PAIR.findall(text)
        if len(pairs) >= MIN_EMBEDDED:
            holding += 1
            for key, value in pairs:
                found.setdefault(key, []).append(value)
    if holding >= max(1, MIN_SHARE * len(builder.events) / 2):
        builder.report(
            "embedded_pairs",
            "json_embedded_pairs",
            {"REGEX": EMBEDDED_PAIRS, "FORMAT": "$1::$2"},
            found,
        )


MAX_EMBEDDED_FIELDS = 30


def _embedded_documents(builder: PlanBuilder, documents: dict[str, list[dict[str, Any]]]) -> None:
    """EVALs reading JSON documents written as strings inside the event (``"payload":
    "{\\"a\\":1}"``): Splunk's JSON extraction stops at the string, ``spath`` reads it."""
    added = 0
    for outer, inner_documents in sorted(documents.items()):
        leaves: dict[str, list[str]] = {}
        for document in inner_documents:
            for name, value in json_leaves(document, nulls=False):
                leaves.setdefault(name, []).append(value)
        for name, values in sorted(leaves.items()):
            if added >= MAX_EMBEDDED_FIELDS:
                return
            field = f"{outer}.{name}"
            builder.set(f"EVAL-{field}", f"spath('{outer}', \"{name}\")")
            builder.note(field, values, "EVAL-spath")
            added += 1


def plan_json(builder: PlanBuilder) -> None:
    """KV_MODE=json (search time), never together with INDEXED_EXTRACTIONS=json."""
    builder.set("KV_MODE", "json")
    builder.set("AUTO_KV_JSON", "true")
    hidden: list[str] = []
    taken: set[str] = set()
    strings: list[str] = []
    documents: dict[str, list[dict[str, Any]]] = {}
    for event in builder.events:
        document = parse_object(event)
        if document is None:
            continue
        try:
            leaves = json_leaves(document, nulls=False)
        except RecursionError:  # decoded at the edge of the stack: too deep to walk
            continue
        for name, value in leaves:
            builder.note(name, [value], "KV_MODE=json")
            taken.add(name)
            if " " in value and "=" in value:
                strings.append(value)
            if value.startswith("{") and (inner := parse_object(value)) is not None:
                documents.setdefault(name, []).append(inner)
        hidden.extend(k for k in document if k.startswith("_") and k not in hidden)
    for key in hidden:
        _hidden_key(builder, key, taken)
    _embedded_pairs(builder, strings)
    _embedded_documents(builder, documents)

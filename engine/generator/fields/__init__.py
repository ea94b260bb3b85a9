"""Search-time field inference: from sampled events and their format to a :class:`FieldPlan`.

One module per format family; :func:`infer_fields` picks the family from the format guess and
from the events themselves (a known grammar wins over a weak guess).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.generator.fields.builder import PlanBuilder
from engine.generator.fields.delimited import header_from_lines, plan_delimited
from engine.generator.fields.grammars import (
    CEF,
    FULL,
    LEEF,
    plan_access,
    plan_cef,
    plan_leef,
    plan_xml,
    recognise,
)
from engine.generator.fields.json_fields import is_json, plan_json
from engine.generator.fields.knowledge import plan_knowledge
from engine.generator.fields.text import plan_text
from engine.generator.model import FieldPlan, FormatGuess

_DELIMITED = {"csv": ",", "tsv": "\t", "psv": "|", "w3c": " ", "zeek_tsv": "\t"}


_XML_START = re.compile(r"\s*<[A-Za-z?!]")
"""An element, declaration or comment: ``<134>`` is a syslog priority, not XML."""


def _is_xml(events: Sequence[str]) -> bool:
    starts = sum(1 for e in events if _XML_START.match(e) and e.rstrip().endswith(">"))
    return bool(events) and starts >= 0.6 * len(events)


def infer_fields(
    events: Sequence[str], guess: FormatGuess, *, knowledge: Sequence[str] = ()
) -> FieldPlan:
    """The props/transforms settings that extract the events' fields, with example values.

    ``knowledge`` (snippets of docs or existing TAs): their EXTRACT- lines that work on the
    samples are kept in addition to what the rules infer.
    """
    builder = PlanBuilder(events)
    plan_knowledge(builder, knowledge)
    kind = guess.kind
    if kind in _DELIMITED:
        header, separator = guess.header, guess.delimiter
        if not header:
            header, separator = header_from_lines(events)
        delimiter = separator or _DELIMITED[kind]
        if header:
            plan_delimited(builder, header, delimiter, zeek=kind == "zeek_tsv", w3c=kind == "w3c")
            return builder.build()
    if kind in ("json", "ndjson") or is_json(events):
        plan_json(builder)
        return builder.build()
    if kind == "xml" or _is_xml(events):
        plan_xml(builder)
        return builder.build()
    grammar = recognise([e.split("\n", 1)[0] for e in events], FULL)
    if grammar is CEF:
        plan_cef(builder)
    elif grammar is LEEF:
        plan_leef(builder)
    elif grammar is not None:
        plan_access(builder, grammar)
    else:
        plan_text(builder)
    return builder.build()

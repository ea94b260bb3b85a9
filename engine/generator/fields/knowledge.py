"""Reuse extractions found in knowledge snippets (stanzas of existing TAs handed in by the caller).

A snippet may hold ``EXTRACT-<class> = <regex>`` lines from an add-on that already parses this
source. Each is kept only if it compiles under PCRE2 and matches some sampled events, so a
snippet about another source, or a broken regex, changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.generator.fields.builder import PlanBuilder
from engine.regex import RegexError, compile_regex

_EXTRACT_LINE = re.compile(r"^\s*EXTRACT-([\w.\-]+)\s*=\s*(.+?)\s*$", re.M)
_MIN_GROUPS = re.compile(r"\(\?P?<[A-Za-z_]\w*>")


def plan_knowledge(builder: PlanBuilder, knowledge: Sequence[str]) -> int:
    """Add the knowledge's EXTRACTs that work on the samples; returns how many were added."""
    added = 0
    seen: set[str] = set()
    for snippet in knowledge:
        for match in _EXTRACT_LINE.finditer(snippet):
            name, pattern = match.group(1), match.group(2)
            if pattern in seen or not _MIN_GROUPS.search(pattern):
                continue
            seen.add(pattern)
            try:
                compile_regex(pattern)
            except RegexError:
                continue
            class_name = "kb_" + re.sub(r"[^\w]+", "_", name).lower()
            if builder.extract(class_name, pattern):
                added += 1
    return added

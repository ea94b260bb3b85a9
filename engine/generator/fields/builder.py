"""Accumulate props/transforms settings and verify each extraction on the sample events.

Every regex a family module proposes is compiled with the PCRE2 wrapper and run over the
sampled events here, so a plan never carries a pattern that does not compile, matches nothing
or hits the backtracking limits; the values it produced become the README's examples.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.generator.model import FieldInfo, FieldPlan, Settings
from engine.regex import RegexLimitError, compile_regex

MAX_EXAMPLES = 3


def non_capturing(pattern: str) -> str:
    """``pattern`` with every named group made non-capturing (for reuse as a prefix)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
            close = pattern.index(">", i)
            out.append("(?:")
            i = close + 1
            continue
        out.append(pattern[i])
        i += 1
    return "".join(out)


class PlanBuilder:
    """Collects the settings of one sourcetype's field extraction and their example values."""

    def __init__(self, events: Sequence[str]) -> None:
        self.events = events
        self.props: Settings = {}
        self.transforms: dict[str, Settings] = {}
        self.caveats: list[str] = []
        self._examples: dict[str, list[str]] = {}
        self._sources: dict[str, str] = {}

    def set(self, key: str, value: str) -> None:
        self.props[key] = value

    def note(self, name: str, values: Iterable[str], source: str) -> None:
        """Record that ``name`` is produced by ``source``, with some example values."""
        examples = self._examples.setdefault(name, [])
        self._sources.setdefault(name, source)
        for value in values:
            if len(examples) >= MAX_EXAMPLES:
                break
            if value.strip() and value not in examples:
                examples.append(value)

    def matches(self, pattern: str, events: Sequence[str] | None = None) -> list[dict[str, str]]:
        """Named-group values of ``pattern``'s first match in each event (of ``events``)."""
        regex = compile_regex(pattern)
        found: list[dict[str, str]] = []
        for event in self.events if events is None else events:
            try:
                match = regex.search(event)
            except RegexLimitError:
                continue
            if match is not None:
                found.append(match.groupdict())
        return found

    def extract(
        self,
        class_name: str,
        pattern: str,
        *,
        min_matches: int = 1,
        events: Sequence[str] | None = None,
    ) -> int:
        """Add ``EXTRACT-<class_name>`` if it matches at least ``min_matches`` events.

        ``events`` narrows the check to the events the pattern was written for (a template's
        own lines), which keeps verification linear in the sample size.
        """
        found = self.matches(pattern, events)
        if len(found) < min_matches:
            return 0
        key = f"EXTRACT-{class_name}"
        self.props[key] = pattern
        for groups in found:
            for name, value in groups.items():
                self.note(name, [value], key)
        return len(found)

    def report(
        self, class_name: str, stanza: str, settings: Settings, examples: dict[str, list[str]]
    ) -> None:
        """Add ``REPORT-<class_name> = <stanza>`` and the transform it points at."""
        key = f"REPORT-{class_name}"
        existing = self.props.get(key)
        self.props[key] = stanza if existing is None else f"{existing}, {stanza}"
        self.transforms[stanza] = settings
        for name, values in examples.items():
            self.note(name, values, key)

    def build(self) -> FieldPlan:
        fields = tuple(
            FieldInfo(name=name, examples=tuple(values), source=self._sources[name])
            for name, values in sorted(self._examples.items())
        )
        return FieldPlan(
            props=dict(self.props),
            transforms={k: dict(v) for k, v in self.transforms.items()},
            fields=fields,
            caveats=tuple(self.caveats),
        )

"""What the planner may show a model: sandboxed events, redacted and size-capped.

Everything sent is built here, from the events of a sandbox run of the current draft (so each
event comes with the fields the TA extracts from it). Redaction is the ``--redact`` redaction
(:class:`engine.generator.redact.Redactor`), applied unless raw sending was configured, plus
the values of the event's own user and host fields wherever they occur in its text. Every
block is cut to a character budget, so a prompt never outgrows ``max_prompt_chars``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.generator.fields.naming import is_generic
from engine.generator.model import FieldPlan
from engine.generator.redact import Redactor, is_identity_field
from engine.regex import RegexError, RegexLimitError, compile_regex
from engine.sandbox.events import Event
from engine.sandbox.report import is_extracted_field

EVENT_CHARS = 400
"""Characters of one example event shown."""
VALUE_CHARS = 60
MAX_CAPTURED = 5_000
COMMON_SHARE = 0.9
"""A field in this share of the events is a header field: it says nothing about a message."""
POOR_COVERAGE = 0.5
"""An event whose own fields cover less than this share of its text is covered poorly."""
MAX_GROUPS = 4
EXAMPLES_PER_GROUP = 3
MAX_RENAME_TARGETS = 24
WORD_RATIO = 3
"""A value in more than this many times the events holding it as a user or host name is a
word, not a name."""
_NAMED_GROUP = re.compile(r"\(\?P?<([A-Za-z_]\w*)>")
_PUNCT = re.compile(r"[\w\s]+")


@dataclass(frozen=True)
class SeenEvent:
    """An event as the sandbox produced it: raw text and the fields the TA extracted."""

    raw: str
    fields: Mapping[str, tuple[str, ...]]


class EventCapture:
    """A sandbox sink keeping the first ``limit`` events with their extracted fields."""

    def __init__(self, limit: int = MAX_CAPTURED) -> None:
        self.limit = limit
        self.events: list[SeenEvent] = []

    def write(self, event: Event) -> None:
        if len(self.events) < self.limit:
            fields = {
                name: tuple(values)
                for name, values in event.fields.items()
                if values and is_extracted_field(name)
            }
            self.events.append(SeenEvent(event.raw, fields))


@dataclass(frozen=True)
class RenameTarget:
    """A generic name one EXTRACT gives a value, with what it holds. The model sees ``id``,
    not the key: a key is named after its template's words, which may include a name."""

    id: str
    key: str
    field: str
    values: tuple[str, ...]
    example: SeenEvent


@dataclass(frozen=True)
class EventGroup:
    """Poorly covered events of one shape (their punctuation)."""

    id: str
    events: tuple[SeenEvent, ...]
    size: int


def named_groups(pattern: str) -> list[str]:
    return list(dict.fromkeys(_NAMED_GROUP.findall(pattern)))


def rename_targets(plan: FieldPlan, events: Sequence[SeenEvent]) -> list[RenameTarget]:
    """The EXTRACT groups with a generic name that match some events, with their values.

    Only EXTRACT groups: a template position holds one kind of value, whereas the typed-token
    transforms (every IP, every number) hold many."""
    targets: list[RenameTarget] = []
    for key, pattern in plan.props.items():
        if not key.startswith("EXTRACT-"):
            continue
        generic = [name for name in named_groups(pattern) if is_generic(name)]
        if not generic:
            continue
        try:
            regex = compile_regex(pattern)
        except RegexError:
            continue
        found: dict[str, list[str]] = defaultdict(list)
        example: dict[str, SeenEvent] = {}
        for event in events:
            try:
                match = regex.search(event.raw)
            except RegexLimitError:
                continue
            if match is None:
                continue
            for name in generic:
                value = match.group(name)
                if value and value not in found[name] and len(found[name]) < 3:
                    found[name].append(value)
                    example.setdefault(name, event)
        targets += [
            RenameTarget(f"f{len(targets) + n}", key, name, tuple(found[name]), example[name])
            for n, name in enumerate((name for name in generic if found[name]), 1)
        ]
    return targets[:MAX_RENAME_TARGETS]


def _own_coverage(event: SeenEvent, common: set[str]) -> float:
    """Share of the event's non-blank characters inside values of its own, non-generic
    fields (header fields every event has do not count)."""
    text = event.raw
    length = sum(1 for char in text if not char.isspace())
    if not length:
        return 1.0
    values = {
        value
        for name, found in event.fields.items()
        if name not in common and not is_generic(name)
        for value in found
        if value and value in text
    }
    covered = sum(sum(1 for char in value if not char.isspace()) for value in values)
    return min(1.0, covered / length)


def poor_groups(events: Sequence[SeenEvent]) -> list[EventGroup]:
    """Events the draft covers poorly, grouped by shape, biggest groups first."""
    if not events:
        return []
    counts: Counter[str] = Counter(name for event in events for name in event.fields)
    common = {name for name, n in counts.items() if n >= COMMON_SHARE * len(events)}
    by_shape: dict[str, list[SeenEvent]] = defaultdict(list)
    for event in events:
        if _own_coverage(event, common) < POOR_COVERAGE:
            shape = _PUNCT.sub(lambda m: "_" if m.group(0).isspace() else "", event.raw[:200])
            by_shape[shape[:40]].append(event)
    ranked = sorted(by_shape.values(), key=lambda group: -len(group))[:MAX_GROUPS]
    return [
        EventGroup(f"g{n}", tuple(group[:EXAMPLES_PER_GROUP]), len(group))
        for n, group in enumerate(ranked, 1)
    ]


class Material:
    """Turns events, values and text into what is sent: redacted unless ``raw``.

    The user and host names that ``events`` hold in their identity fields (``user``,
    ``dest_host``...) are learned first, so they are masked in every text, also where a field
    with a generic name carries them. A value that occurs in many more events than those
    holding it in such a field is a word the rules mistook for a name ("user authentication"),
    not a name: it is left alone. Fields in ``derived`` (CIM aliases and evals) are not
    learned from: their names are the mapping's guess. The mailboxes of e-mail addresses are
    learned too."""

    def __init__(
        self, *, raw: bool, events: Sequence[SeenEvent] = (), derived: Iterable[str] = ()
    ) -> None:
        self.raw = raw
        self._redactor = Redactor()
        if not raw:
            for name, value in _identities(events, skip=set(derived)):
                self._redactor.learn(name, value)
            for event in events:
                self._redactor.redact(event.raw)  # learns the mailboxes of e-mail addresses

    def text(self, text: str, limit: int) -> str:
        out = text if self.raw else self._redactor.redact(text)
        return _cut(out, limit)

    def event(self, event: SeenEvent, limit: int = EVENT_CHARS) -> str:
        out = event.raw if self.raw else self._redactor.redact(event.raw)
        return _cut(" ".join(out.split()), limit)

    def value(self, name: str, value: str) -> str:
        out = value if self.raw else self._redactor.redact_field(name, value)
        return _cut(out, VALUE_CHARS)


def _identities(events: Sequence[SeenEvent], *, skip: set[str]) -> list[tuple[str, str]]:
    """(field, value) of the identity fields' values that read as names (see Material);
    fields in ``skip`` (aliases and evals: copies whose name is a guess) do not count."""
    holders: Counter[str] = Counter()
    names: dict[str, str] = {}
    for event in events:
        for name, values in event.fields.items():
            if is_identity_field(name) and name not in skip:
                for value in set(values):
                    holders[value] += 1
                    names.setdefault(value, name)
    return [
        (names[value], value)
        for value, held in holders.items()
        if sum(1 for event in events if value in event.raw) <= WORD_RATIO * held
    ]


_ALIAS_TARGET = re.compile(r"\bAS(?:NEW)?\s+(\S+)")


def derived_fields(props: Mapping[str, str]) -> set[str]:
    """The fields props.conf settings compute from others (FIELDALIAS targets, EVAL names)."""
    names = {key.removeprefix("EVAL-") for key in props if key.startswith("EVAL-")}
    for key, value in props.items():
        if key.startswith("FIELDALIAS-"):
            names.update(_ALIAS_TARGET.findall(value))
    return names


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(blocks: Iterable[str], budget: int, *, joiner: str = "\n") -> str:
    """As many whole blocks as fit in ``budget`` characters (at least one, cut to fit)."""
    out: list[str] = []
    used = 0
    for block in blocks:
        if used + len(block) + len(joiner) > budget:
            if not out:
                out.append(_cut(block, budget))
            break
        out.append(block)
        used += len(block) + len(joiner)
    return joiner.join(out)

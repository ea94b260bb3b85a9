"""key=value pairs: Splunk's KV_MODE=auto when it reads them right, else a pairs transform.

KV_MODE=auto reads ``k=v`` and ``k="v w"`` separated by whitespace. Anything else gets a
``$1::$2``-style REPORT transform whose regex follows the pairs' own syntax, learned from the
samples: the assignment (``=``, ``=>``, ``:`` with spaces around it), the separator between
pairs (``;``, ``,``, ``|``, ``:``, standing alone or not), quoting (double or single quotes) and
keys of one to four words (``Local Host IP: 10.0.0.1,Local Port: 80``, ``user IP = 10.0.0.1 :``).
Keys are cleaned by Splunk (CLEAN_KEYS: spaces become ``_``); their roles name them for CIM.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from engine.generator.fields.builder import PlanBuilder

MIN_EVENT_SHARE = 0.1
MIN_PAIRS = 2
PURE_PAIRS = 0.8
"""Share of the text pairs cover above which the events are pair records and nothing else:
Splunk's own KV_MODE is then switched off so it cannot read them differently."""
_KEY = r"[A-Za-z_][\w.\-]*+"
_WORDS_KEY = r"[A-Za-z][\w.\-]*+(?: [A-Za-z][\w.\-]*+){0,3}"
_PAIR = re.compile(r"(?:^|(?<=[\s;,|&]))([A-Za-z_][\w.\-]*)=(\"[^\"]*\"|[^\s\"]*)")
_COLON_PAIR = re.compile(r"(?:^|(?<=[\s,;#]))([A-Za-z_][\w\-]*): +(\"[^\"]*\"|[^\s,\"]*[^\s,\":])")
_JSON_PAIR = re.compile(
    r'"([A-Za-z_][\w.\-]*)"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d[\d.eE+\-]*|true|false))'
)
"""``"key": "value"`` or ``"key": 12`` inside text that is not a JSON event (JSON after a
syslog header): leaves get their own key as field name."""
_SEPARATORS = (";", ",", "|", "&", ":", "\t", "\n")
_ESCAPED = frozenset("\t\n")
_ASSIGNS = ("=>", "=", ":")


@dataclass(frozen=True)
class PairStyle:
    """How the pairs of a sample are written."""

    assign: str
    """``=``, ``=>`` or ``:``."""
    separator: str
    """The character between pairs; empty: whitespace."""
    words: bool
    """Keys may be several words (``Local Host IP``)."""

    def regex(self) -> str:
        """The PCRE2 pattern: key in group 1, the value in group 2 (double quotes), 3 (unquoted),
        4 (single quotes) or 5 (angle brackets: ``to=<a@b>``)."""
        if not self.separator:
            start, unquoted = r"(?:^|(?<=\s))", r"([^\s\"'<]\S*)"
            key, assign = _KEY, self.assign
        else:
            # tabs and newlines between pairs are one separator; spaces (and a tab after a
            # line's key) belong to the assignment
            blank = self.separator in _ESCAPED
            one = r"[\t\n]" if blank else re.escape(self.separator)
            gap = r"[ \t]*" if self.separator == "\n" else " *" if blank else r"\s*"
            assign = f"{gap}{self.assign}{gap}"
            sep = r"\t\n" if blank else one
            sep += "" if self.assign == ":" else "="  # a value with "=" runs into a pair
            start = rf"(?:^|{one}|(?<=[\s{{(\[]))\s*[:@$]?"
            # a CRLF line's value ends before its carriage return
            unquoted = rf"([^{sep}\s\"'<](?:[^{sep}]*[^{sep}\s])?)?[ \t\r]*(?={one}|$)"
            key = _WORDS_KEY if self.words else _KEY
        return (
            rf"{start}({key}){assign}"
            rf"(?:\"((?:[^\"\\]|\\.)*)\"|{unquoted}|'([^']*)'|<([^<>\s]*)>)"
        )


def _regex_for(style: PairStyle) -> re.Pattern[str]:
    return re.compile(style.regex())


def _pairs(style: PairStyle, event: str) -> list[tuple[str, str]]:
    out = []
    for match in _regex_for(style).finditer(event):
        value = next((g for g in match.groups()[1:] if g is not None), "")
        out.append((match.group(1), value))
    return out


def _assign(events: Sequence[str]) -> str | None:
    """The assignment most pairs use: ``=>`` before ``=`` (it contains it), then ``=``."""
    counts: Counter[str] = Counter()
    for event in events:
        counts["=>"] += len(re.findall(rf"(?<![\w.\-]){_KEY}\s*=>", event))
        counts["="] += len(re.findall(rf"(?<![\w.\-]){_KEY}=(?!>)", event))
    if counts["=>"] >= max(1, counts["="]):
        return "=>"
    return "=" if counts["="] else None


def _separator(events: Sequence[str], assign: str) -> str:
    """The character that ends most values (standing alone or not); empty for whitespace."""
    keys = re.compile(rf"(?<![\w.\-])[:@$]?({_KEY})\s*{re.escape(assign)}")
    counts: Counter[str] = Counter()
    gaps = 0
    for event in events:
        for here, following in pairwise(keys.finditer(event)):
            gap = event[here.end() : following.start()].rstrip()
            gaps += 1
            if gap and gap[-1] in _SEPARATORS and not gap.endswith(('"', "'")):
                counts[gap[-1]] += 1
            elif gap.endswith(('"', "'")):
                counts[""] += 1
            else:
                counts[""] += 1
    if not counts:
        return ""
    char, count = counts.most_common(1)[0]
    return char if char and count >= 0.5 * gaps else ""


def _segment_style(events: Sequence[str]) -> PairStyle | None:
    """Records of ``Key Words<assign>value`` segments split by one character (``,`` ``;`` ``|``
    ``:``), found in at least MIN_EVENT_SHARE of the events, two or more segments each."""
    best: tuple[int, PairStyle] | None = None
    for separator in _SEPARATORS:
        for assign in _ASSIGNS:
            if separator == assign:
                continue
            segment = re.compile(
                rf"\s*[:@$]?{_WORDS_KEY}\s*{re.escape(assign)}(?!>)\s*[^{re.escape(assign[0])}]*"
            )
            # a colon separates pairs only standing alone: ``:key`` is a key's sigil
            split = re.compile(r"\s:\s" if separator == ":" else re.escape(separator))
            hits = pairs = 0
            spaced = False
            for event in events:
                cut = split.split(event)
                parts = [part for part in cut if segment.fullmatch(part)]
                if len(parts) >= MIN_PAIRS and len(parts) >= 0.5 * len(cut):
                    hits += 1
                    pairs += len(parts)
                    spaced = spaced or any(" " in p.split(assign)[0].strip() for p in parts)
            if hits >= max(1, MIN_EVENT_SHARE * len(events)) and (best is None or pairs > best[0]):
                best = (pairs, PairStyle(assign, separator, words=spaced))
    return best[1] if best else None


def pair_style(events: Sequence[str]) -> PairStyle | None:
    """The pair syntax of the events, or None when fewer than MIN_EVENT_SHARE hold two pairs."""
    segmented = _segment_style(events)
    if segmented is not None:
        return segmented
    assign = _assign(events)
    if assign is None:
        return None
    style = PairStyle(assign, _separator(events, assign), words=False)
    regex = _regex_for(style)
    hits = sum(1 for e in events if len(regex.findall(e)) >= MIN_PAIRS)
    return style if hits >= max(1, MIN_EVENT_SHARE * len(events)) else None


def _kv_auto_reads(style: PairStyle, events: Sequence[str]) -> bool:
    """KV_MODE=auto reads the pairs as written (``k=v`` or ``k="v"``, whitespace between);
    it keeps single quotes and angle brackets (``to=<a@b>``) in the value."""
    if style.assign != "=" or style.separator not in ("", ",", ";"):
        return False
    return not any(re.search(rf"(?<![\w.\-]){_KEY}\s*=\s*['<]", e) for e in events)


def _examples(pattern: re.Pattern[str], events: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event in events:
        for key, value in pattern.findall(event):
            found.setdefault(key, []).append(value.strip('"'))
    return found


def _json_examples(events: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event in events:
        for key, text, number in _JSON_PAIR.findall(event):
            found.setdefault(key, []).append(text or number)
    return found


def _share(pattern: re.Pattern[str], events: Sequence[str], *, minimum: int) -> float:
    hits = sum(1 for e in events if len(pattern.findall(e)) >= minimum)
    return hits / len(events) if events else 0.0


def pair_density(events: Sequence[str], style: PairStyle | None = None) -> float:
    """The share of the events' text that pairs cover: near 1 when pairs make up the events."""
    regexes = [_JSON_PAIR, _regex_for(style) if style is not None else _PAIR]
    total = covered = 0
    for event in events:
        total += len(event.strip())
        spans = sorted(m.span() for regex in regexes for m in regex.finditer(event))
        end = 0
        for start, stop in spans:
            covered += max(0, stop - max(start, end))
            end = max(end, stop)
    return covered / total if total else 0.0


def _clean(key: str) -> str:
    """The key as Splunk's CLEAN_KEYS writes it (non-alphanumerics become ``_``)."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", key).strip("_")


_SEGMENTED = (",", ";", "|")


def _plan_bare_segments(builder: PlanBuilder, style: PairStyle) -> None:
    """Segments of a pair record that hold no pair (``...,Remote Port: 80,TCP,Inbound,...``)
    are values all the same: a multi-valued ``segment`` field."""
    sep = re.escape(style.separator)
    free = rf"[^{sep}:=\s](?:[^{sep}:=]*[^{sep}:=\s])?"
    regex = rf"(?<={sep})[ \t]*({free})[ \t]*(?={sep}|[\r\n]|$)"
    found = [m.group(1) for e in builder.events for m in re.finditer(regex, e)]
    if found:
        settings = {"REGEX": regex, "FORMAT": "segment::$1", "MV_ADD": "true"}
        builder.report("assignments", "kv_bare_segments", settings, {"segment": found})


def plan_kv(builder: PlanBuilder) -> PairStyle | None:
    """Set KV_MODE or add a pairs transform for the pairs of line-oriented text; returns the
    pair style found (None: no pairs to speak of).

    Text keeps Splunk's default KV_MODE=auto where it reads the pairs right, so lines of a
    shape the samples lack still yield their pairs.
    """
    events = builder.events
    builder.set("KV_MODE", "auto")
    style = pair_style(events)
    if style is not None and not (_kv_auto_reads(style, events) and not style.separator):
        pure = pair_density(events, style) >= PURE_PAIRS
        if style.separator and style.assign == "=" and not style.words and pure:
            builder.set("KV_MODE", "none")
        examples: dict[str, list[str]] = {}
        for event in events:
            for key, value in _pairs(style, event):
                examples.setdefault(_clean(key), []).append(value)
        builder.report(
            "assignments",  # sorts before REPORT-context: a key names its value better
            "kv_pairs",
            {"REGEX": style.regex(), "FORMAT": "$1::$2 $1::$3 $1::$4 $1::$5"},
            examples,
        )
        if style.separator in _SEGMENTED:
            _plan_bare_segments(builder, style)
    if builder.props["KV_MODE"] == "auto" and _share(_PAIR, events, minimum=1) >= MIN_EVENT_SHARE:
        for key, values in _examples(_PAIR, events).items():
            builder.note(key, values, "KV_MODE=auto")
    if _share(_JSON_PAIR, events, minimum=2) >= MIN_EVENT_SHARE:
        builder.report(
            "json_pairs",
            "kv_json_pairs",
            {"REGEX": _JSON_PAIR.pattern, "FORMAT": "$1::$2 $1::$3"},
            _json_examples(events),
        )
    if (style is None or style.assign != ":") and _share(
        _COLON_PAIR, events, minimum=2
    ) >= MIN_EVENT_SHARE:
        builder.report(
            "colon_pairs",
            "kv_colon_pairs",
            {
                "REGEX": r"(?:^|(?<=[\s,;#]))([A-Za-z_][\w\-]*): +"
                r"(?:\"([^\"]*)\"|([^\s,\"]*[^\s,\":]))",
                "FORMAT": "$1::$2 $1::$3",
            },
            _examples(_COLON_PAIR, events),
        )
    return style

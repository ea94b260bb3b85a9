"""key=value pairs: Splunk's KV_MODE=auto when pairs are space-separated, else a transform.

KV_MODE=auto already reads ``k=v`` and ``k="v w"`` separated by whitespace. Pairs separated by
``;``, ``,``, ``|`` or ``&`` need a ``_KEY_1``/``_VAL_1`` style transform (FORMAT ``$1::$2``) so
values do not swallow the separator. ``key: value`` pairs (``client: 1.2.3.4, server: x``) get
their own transform.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from engine.generator.fields.builder import PlanBuilder

MIN_EVENT_SHARE = 0.1
_PAIR = re.compile(r"(?:^|(?<=[\s;,|&]))([A-Za-z_][\w.\-]*)=(\"[^\"]*\"|[^\s\"]*)")
_COLON_PAIR = re.compile(r"(?:^|(?<=[\s,;#]))([A-Za-z_][\w\-]*): +(\"[^\"]*\"|[^\s,\"]*[^\s,\":])")
_SEPARATORS = (";", ",", "|", "&")
_JSON_PAIR = re.compile(
    r'"([A-Za-z_][\w.\-]*)"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d[\d.eE+\-]*|true|false))'
)
"""``"key": "value"`` or ``"key": 12`` inside text that is not a JSON event (JSON after a
syslog header): leaves get their own key as field name."""
_SPACED_PAIRS = re.compile(r"(?<![\w.\-])[A-Za-z_][\w.\-]*+=[^;=]*[^;=\s] ; [A-Za-z_][\w.\-]*+=")
"""``TTY=pts/0 ; PWD=/home/x ; COMMAND=/bin/cat /var/log/y``: values may hold spaces.

A key starts where a word starts and is read possessively: a search tried at every offset of a
long word would rescan the rest of it each time (quadratic on one-line giants); this way each
word is read once and each value run once (the runs between ``=`` signs do not overlap)."""


def _separator(events: Sequence[str]) -> str | None:
    """The character that separates pairs when it is not whitespace."""
    counts: Counter[str] = Counter()
    for event in events:
        for match in _PAIR.finditer(event):
            value = match.group(2)
            if value and value[-1] in _SEPARATORS and not value.startswith('"'):
                counts[value[-1]] += 1
    if not counts:
        return None
    char, count = counts.most_common(1)[0]
    pairs = sum(len(_PAIR.findall(e)) for e in events)
    return char if count >= 0.3 * pairs else None


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


def pair_density(events: Sequence[str]) -> float:
    """key=value pairs per whitespace token: near or above 1 when pairs make up the events."""
    tokens = sum(len(e.split()) for e in events)
    pairs = sum(len(_PAIR.findall(e)) + len(_JSON_PAIR.findall(e)) for e in events)
    return pairs / tokens if tokens else 0.0


def plan_kv(builder: PlanBuilder) -> None:
    """Set KV_MODE or add pair transforms for the pairs of line-oriented text.

    Text keeps Splunk's default KV_MODE=auto unless pairs use another separator, so lines of a
    shape the samples lack still yield their pairs.
    """
    events = builder.events
    builder.set("KV_MODE", "auto")
    if _share(_PAIR, events, minimum=1) >= MIN_EVENT_SHARE:
        sep = _separator(events)
        if sep is None:
            for key, values in _examples(_PAIR, events).items():
                builder.note(key, values, "KV_MODE=auto")
        else:
            escaped = re.escape(sep)
            builder.set("KV_MODE", "none")
            builder.report(
                "pairs",
                "kv_pairs",
                {
                    "REGEX": rf"(?:^|[{escaped}\s])([A-Za-z_][\w.\-]*)="
                    rf"(?:\"([^\"]*)\"|([^{escaped}\"]*))",
                    "FORMAT": "$1::$2 $1::$3",
                },
                _examples(_PAIR, events),
            )
    if any(_SPACED_PAIRS.search(event) for event in events):
        builder.report(
            "spaced_pairs",
            "kv_spaced_pairs",
            {
                "REGEX": r"(?:^|[\s;])([A-Za-z_][\w.\-]*)=([^;=]*[^;=\s])(?=\s+;|\s*$)",
                "FORMAT": "$1::$2",
            },
            {},
        )
    if _share(_JSON_PAIR, events, minimum=2) >= MIN_EVENT_SHARE:
        builder.report(
            "json_pairs",
            "kv_json_pairs",
            {"REGEX": _JSON_PAIR.pattern, "FORMAT": "$1::$2 $1::$3"},
            _json_examples(events),
        )
    if _share(_COLON_PAIR, events, minimum=2) >= MIN_EVENT_SHARE:
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

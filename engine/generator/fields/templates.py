"""Message-template mining for unstructured logs (a Drain-like clustering) and regex writing.

Lines are split into whitespace tokens and clustered by length and token similarity; a position
whose tokens differ inside a cluster is a variable. Each variable becomes a named group with a
type-specific pattern (int, float, hex, ip, ip:port) or ``\\S+``; the name comes from the words
around it ("from <ip>" -> src, "port <n>" -> port, "size: <n>" -> size). Patterns only join
tokens with ``\\s+`` and keep every group inside one token, so matching stays linear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from engine.generator.fields.naming import field_name, unique_name
from engine.generator.fields.roles import column_role, context_role, role
from engine.generator.fields.tokens import (
    ENDPOINT,
    HTTP_METHODS,
    IPV4,
    IPV6,
    MESSAGE_ID,
    kind,
    kinds,
    python_regex,
)

SIMILARITY = 0.5
MAX_CLUSTERS_PER_BUCKET = 64
"""Beyond this many templates of one length and first token, lines join the nearest one."""
SMALL_CLUSTER = 3
MAX_TOKENS = 80
_LEAD = "[({<\"'"
_TRAIL = "])}>\"',;:.!?"
_HAS_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w.\-]{0,40})([=:])(.*)$", re.S)
_ID_PREFIX = re.compile(r"^([A-Za-z]+[_.#\-])(.+)$", re.S)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "for",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "no",
        "not",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "then",
        "this",
        "was",
        "were",
        "will",
        "with",
    ]
)
_MESSAGE_ID = python_regex(MESSAGE_ID + ":?")
"""A vendor message id token (``%ASA-6-302013:``): the key of a message, never a variable."""
INTRODUCERS = frozenset(
    {
        "from",
        "to",
        "for",
        "user",
        "username",
        "account",
        "login",
        "src",
        "dst",
        "source",
        "destination",
        "client",
        "server",
        "host",
        "port",
        "proto",
        "protocol",
        "query",
        "status",
        "returned",
        "action",
        "severity",
        "rule",
        "policy",
        "interface",
        "via",
        "->",
    }
)
"""Words after which a token is a value even when the samples show it only once or unchanged."""
_TYPED_KINDS = frozenset({"ipv6", "mac", "email", "url", "uuid", "path", "host", "hex"})
"""Token kinds that are values wherever they stand (a lone sample cannot show them vary)."""
_ENDPOINT = python_regex(ENDPOINT)


@dataclass(frozen=True)
class VarType:
    name: str
    check: re.Pattern[str]
    pattern: str


_TYPES = (
    VarType("hex", re.compile(r"0x[0-9a-fA-F]+"), r"0x[0-9a-fA-F]+"),
    VarType("int", re.compile(r"-?\d+"), r"-?\d+"),
    VarType("float", re.compile(r"-?\d+(?:\.\d+)?"), r"-?\d+(?:\.\d+)?"),
)
_TYPE_NAMES = {"hex": "hex", "int": "number", "float": "value"}


@dataclass
class Cluster:
    """Lines of one template: ``tokens[i]`` is None where the lines differ."""

    tokens: list[str | None]
    members: list[list[str]] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    """Positions of the member messages in the list given to :func:`mine`."""
    truncated: bool = False
    """Some member had more than MAX_TOKENS tokens: the template covers only their start."""

    def similarity(self, tokens: Sequence[str]) -> float:
        same = sum(
            1 for s, u in zip(self.shapes, tokens, strict=True) if s != "*" and s == _shape(u)
        )
        return same / len(tokens)

    def add(self, tokens: list[str], index: int) -> None:
        self.members.append(tokens)
        self.indices.append(index)
        for i, token in enumerate(tokens):
            if self.tokens[i] is not None and self.tokens[i] != token:
                self.tokens[i] = None
            if self.shapes[i] != "*" and self.shapes[i] != _shape(token):
                self.shapes[i] = "*"


def _shape(token: str) -> str:
    """A token with its digit runs masked: ``euid=0`` and ``euid=1`` look alike."""
    return _DIGITS.sub("0", token)


def _route(token: str) -> str:
    if _MESSAGE_ID.fullmatch(token):
        return token
    return "*" if _HAS_DIGIT.search(token) else token


_TOKEN = re.compile(r"""(?:[^\s"]*"[^"\n]{0,256}"[^\s"]*)+|\S+""")
"""A whitespace token, except that a double-quoted string with spaces stays one token."""


def tokenize(message: str) -> list[str]:
    """The message's tokens: runs of non-space, a ``"quoted string"`` kept whole."""
    return _TOKEN.findall(message)


def mine(messages: Sequence[str]) -> list[Cluster]:
    """Cluster messages into templates (Drain: token count, first token, then similarity)."""
    buckets: dict[tuple[int, str], list[Cluster]] = {}
    ordered: list[Cluster] = []
    for index, message in enumerate(messages):
        split = tokenize(message)
        tokens = split[:MAX_TOKENS]
        if not tokens:
            continue
        candidates = buckets.setdefault((len(tokens), _route(tokens[0])), [])
        full = len(candidates) >= MAX_CLUSTERS_PER_BUCKET
        best: Cluster | None = None
        best_score = 0.0 if full else SIMILARITY
        for cluster in candidates:
            score = cluster.similarity(tokens)
            if score >= best_score and (best is None or score > best_score):
                best, best_score = cluster, score
        if best is None:
            best = Cluster(tokens=list(tokens), shapes=[_shape(t) for t in tokens])
            candidates.append(best)
            ordered.append(best)
        best.add(tokens, index)
        best.truncated = best.truncated or len(split) > MAX_TOKENS
    return ordered


def _escape(text: str) -> str:
    return "".join(f"\\{c}" if c.isascii() and not c.isalnum() and c != "_" else c for c in text)


def _common_prefix(values: Sequence[str], allowed: str) -> str:
    out = ""
    for chars in zip(*values, strict=False):
        if len(set(chars)) != 1 or chars[0] not in allowed:
            break
        out += chars[0]
    return out


def _common_suffix(values: Sequence[str], allowed: str) -> str:
    return _common_prefix([v[::-1] for v in values], allowed)[::-1]


def _type_of(values: Sequence[str]) -> VarType | None:
    for var_type in _TYPES:
        if all(var_type.check.fullmatch(v) for v in values):
            return var_type
    return None


@dataclass
class _Namer:
    """Names a template's variables: by key, by the words before them, else by their type."""

    used: set[str] = field(default_factory=set)
    side: str = ""
    """The side (src/dest) of the last endpoint named: ``port 22`` after it is its port."""
    adjacent: str = ""
    """The side of the endpoint just before the current token (``A/1 (B/2)``: B is A's
    translation), empty after any constant token."""
    web: bool = False
    """The line holds an HTTP method: its unnamed numbers may be a status and a byte count."""
    last: str = ""
    """The name given to the variable just before, empty after any constant token."""

    def column(self, values: Sequence[str]) -> str | None:
        """The role of a value no word names, by its kind and the column before it."""
        name = column_role(values, web=self.web, previous=self.last, used=self.used)
        self.last = name or ""
        return name

    def base(
        self, before: Sequence[str], values: Sequence[str], kind: VarType | None, key: str | None
    ) -> str:
        base = None
        if key is not None:
            base = role(key, values) or field_name(key)
        else:
            base = context_role(before, values, side=self.side or None)
            previous = before[-1] if before else None
            if base is None and previous is not None:
                word = previous.strip(_LEAD + _TRAIL).lower()
                keyed = previous.endswith((":", "=")) and bool(word)
                if keyed or (word.isalpha() and 2 <= len(word) <= 20 and word not in _STOPWORDS):
                    base = field_name(word)
        named = base is not None
        base = base or self.column(values)
        if base is None:
            base = _TYPE_NAMES.get(kind.name, "value") if kind else "value"
        if named:
            self.last = base
        if base.startswith(("src", "dest")) and not base.startswith(("src_user", "dest_user")):
            self.side = base.split("_")[0]
        return base

    def name(
        self, before: Sequence[str], values: Sequence[str], kind: VarType | None, key: str | None
    ) -> str:
        return unique_name(self.base(before, values, kind, key), self.used)


_PROCESS = re.compile(r"^([^\s\[\]]+)\[(\d+)\](:?)$")


def _balanced_trail(cores: Sequence[str]) -> str:
    """The punctuation all ``cores`` end with, leaving a ``)`` that closes a ``(`` inside."""
    trail = _common_suffix(cores, _TRAIL)
    while trail and any(
        c[: len(c) - len(trail)].count("(") > c[: len(c) - len(trail)].count(")") for c in cores
    ):
        trail = trail[1:]
    return trail


def _endpoint(
    cores: Sequence[str], base: str, namer: _Namer, *, translated: str, upcoming: str | None
) -> str | None:
    """One address token (``ip``, ``ip:port``, ``iface:ip/port``...) split into its parts, named
    by side when its context gives one; None when the values are not all addresses."""
    matches = [_ENDPOINT.fullmatch(c) for c in cores]
    if not cores or not all(matches):
        return None
    found = [m for m in matches if m is not None]
    side = translated or (base if base in ("src", "dest") else "")
    if not side and upcoming in ("to", "->"):
        side = "src"
    if side:
        namer.side = side
        stem = f"{side}_translated" if translated else side
        names = (stem if not translated else f"{stem}_ip", f"{stem}_port", f"{side}_interface")
    else:
        names = (base, f"{base}_port", f"{base}_interface")
    has_iface = any(m.group("iface") for m in found)
    has_port = any(m.group("port") for m in found)
    if side or has_iface or has_port:
        ip_name = unique_name(
            names[0] if side or not (has_iface or has_port) else f"{base}_ip", namer.used
        )
    else:
        ip_name = unique_name(base, namer.used)
    version4 = all(re.fullmatch(IPV4, m.group("ip")) for m in found)
    address = IPV4 if version4 else f"{IPV4}|{IPV6}"
    slash = "/?" if any(c.startswith("/") for c in cores) else ""
    body = rf"\[?(?<{ip_name}>{slash}(?:{address}))\]?"
    if has_iface:
        optional = "" if all(m.group("iface") for m in found) else "?"
        iface = unique_name(names[2], namer.used)
        body = rf"(?:(?<{iface}>[A-Za-z][\w\-]*(?:/\d+)*)[:/]){optional}" + body
    if has_port:
        optional = "" if all(m.group("port") for m in found) else "?"
        port = unique_name(names[1], namer.used)
        body += rf"(?:(?:[:/#.]|\()(?<{port}>\d{{1,5}})\)?){optional}"
    namer.adjacent = side
    if has_iface or has_port:
        whole = unique_name(f"{side}_endpoint" if side else base, namer.used)
        return rf"(?<{whole}>{body})"
    return body


def _variable(
    values: Sequence[str], before: Sequence[str], namer: _Namer, upcoming: str | None = None
) -> tuple[str, str, str]:
    """The regex piece for one variable token position: literal lead, group(s), literal trail.

    ``before``: the constant tokens just before it (nearest last); ``upcoming``: the next
    constant token (``A to B``: A is the source).
    """
    adjacent, namer.adjacent = namer.adjacent, ""
    processes = [_PROCESS.match(v) for v in values]
    colons = {p.group(3) for p in processes if p}
    if all(processes) and len(colons) == 1:
        process = unique_name("process", namer.used)
        pid = unique_name("pid", namer.used)
        return "", rf"(?<{process}>[^\s\[\]]+)\[(?<{pid}>\d+)\]", _escape(colons.pop())
    lead_text, after, key, cores = "", "", None, list(values)
    endpoint: str | None = None
    for _ in range(3):
        lead = _common_prefix(cores, _LEAD)
        trail = _balanced_trail([c[len(lead) :] for c in cores])
        stripped = [c[len(lead) : len(c) - len(trail)] for c in cores]
        if any(stripped):
            lead_text, after, cores = lead_text + _escape(lead), _escape(trail) + after, stripped
        present = [c for c in cores if c]
        if present and len(present) == len(cores) and all(_ENDPOINT.fullmatch(c) for c in cores):
            ips = [m.group("ip") for c in cores if (m := _ENDPOINT.fullmatch(c))]
            base = namer.base(before, ips, None, key)
            translated = adjacent if lead == "(" and adjacent else ""
            endpoint = _endpoint(cores, base, namer, translated=translated, upcoming=upcoming)
            break
        pairs = [_KEY_VALUE.match(c) for c in cores]
        keys = {(p.group(1), p.group(2)) for p in pairs if p}
        if not (all(pairs) and len(keys) == 1) or any(c.startswith("//") for _, c in _rests(pairs)):
            break
        name, sep = keys.pop()
        key = name
        lead_text += _escape(name + sep)
        cores = [rest for _, rest in _rests(pairs)]
    if endpoint is not None:
        return lead_text, endpoint, after
    trail = after
    present = [c for c in cores if c]
    kind = _type_of(present) if present else None
    name = namer.name(before, present, kind, key)
    if all(len(v) > 1 and v[0] == v[-1] == '"' for v in values) and lead_text == '\\"':
        body = rf'(?<{name}>[^"]*)'  # a quoted string: its spaces are part of the value
    elif kind is not None:
        body = rf"(?<{name}>{kind.pattern})"
    elif present and kinds(present) <= _TYPED_KINDS:
        body = rf"(?<{name}>\S+?)" if trail else rf"(?<{name}>\S+)"  # one value, not parts
    else:
        prefixes = [_ID_PREFIX.match(c) for c in present]
        common = {p.group(1) for p in prefixes if p}
        skeleton = (
            _skeleton(present, name, namer, lazy=bool(trail))
            if len(present) == len(cores)
            else None
        )
        pair = _pair(present, name, namer, lazy=bool(trail)) if len(present) == len(cores) else None
        if pair is not None:
            body = pair
        elif present and all(prefixes) and len(common) == 1:
            part = unique_name(f"{name}_id", namer.used)
            body = rf"(?<{name}>{_escape(common.pop())}(?<{part}>\S+?))"
        elif skeleton is not None:
            body = skeleton
        elif not trail and any(v.endswith((",", ";")) for v in present):
            # some values end a clause (``user=erin, query``): the comma is not theirs
            body, trail = rf"(?<{name}>\S+?)", "[,;]?"
        else:
            body = rf"(?<{name}>\S+?)" if trail else rf"(?<{name}>\S+)"
    if len(present) < len(cores):
        loose = body.replace(r"\S+?)", r"\S*?)").replace(r"\S+)", r"\S*)")
        body = loose if loose != body else f"(?:{body})?"
    return lead_text, body, trail


def _pair(values: Sequence[str], name: str, namer: _Namer, *, lazy: bool) -> str | None:
    """``be_app/srv1`` or ``TCP_MISS/200``: two values joined by one ``/`` get a group each
    (named by their role when a column would have one), nested in the group of the token; a
    value of another shape still matches the whole-token alternative."""
    halves = [value.split("/") for value in values]
    if not values or any(len(half) != 2 or not all(half) for half in halves):
        return None
    parts = []
    for index in (0, 1):
        column = [half[index] for half in halves]
        role_name = namer.column(column) or f"{name}_part"
        parts.append(unique_name(role_name, namer.used))
    rest = r"\S+?" if lazy else r"\S+"
    return rf"(?<{name}>(?<{parts[0]}>[^\s/]+)/(?<{parts[1]}>{rest})|{rest})"


_RUNS = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]+")
MAX_PARTS = 4


def _skeleton(values: Sequence[str], name: str, namer: _Namer, *, lazy: bool) -> str | None:
    """``dn228/dn228`` or ``a<0>(0x0)``: tokens sharing their punctuation get one group per
    varying alphanumeric run, nested in the group for the whole token; None otherwise.

    An unseen value of another shape still matches the whole-token alternative.
    """
    runs = [_RUNS.findall(v) for v in values]
    if len({len(r) for r in runs}) != 1 or len(set(values)) < 2:
        return None
    columns = list(zip(*runs, strict=True))
    varying = [i for i, col in enumerate(columns) if len(set(col)) > 1]
    punct = [i for i, col in enumerate(columns) if not col[0][0].isalnum()]
    if not punct or any(len(set(columns[i])) > 1 for i in punct) or len(varying) > MAX_PARTS:
        return None
    parts = []
    for i, column in enumerate(columns):
        if i in varying:
            parts.append(rf"(?<{unique_name(f'{name}_part', namer.used)}>[A-Za-z0-9]+)")
        else:
            parts.append(_escape(column[0]))
    fallback = r"\S+?" if lazy else r"\S+"
    return rf"(?<{name}>{''.join(parts)}|{fallback})"


def _rests(pairs: Sequence[re.Match[str] | None]) -> list[tuple[str, str]]:
    return [(p.group(1), p.group(3)) for p in pairs if p is not None]


_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"\s+\d{1,2},?\s+(?:\d{4}\s+)?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s+[A-Z]{3,4})?(?:\s+\d{4})?"
)
_DATE_SPANS = (6, 5, 4, 3)
_UNITS = frozenset(
    [
        "b",
        "kb",
        "mb",
        "gb",
        "tb",
        "k",
        "m",
        "g",
        "bytes",
        "ms",
        "us",
        "ns",
        "s",
        "sec",
        "secs",
        "seconds",
        "min",
        "mins",
        "minutes",
        "h",
        "hours",
        "%",
    ]
)
_QUANTITY = re.compile(r"[<>~(]?-?\d+(?:[.,]\d+)?")
_CONSTANT_VALUES = frozenset(["null", "none", "true", "false", "nil", "undefined"])


def _date_spans(tokens: Sequence[str | None], members: Sequence[Sequence[str]]) -> dict[int, int]:
    """Start -> length of token runs that hold a date in every member (``at Fri Jun 17 ...``)."""
    spans: dict[int, int] = {}
    sample = members[:20]
    i = 0
    while i < len(tokens):
        for length in _DATE_SPANS:
            if i + length > len(tokens):
                continue
            if all(tokens[j] is not None for j in range(i, i + length)):
                continue
            if all(_DATE.fullmatch(" ".join(m[i : i + length])) for m in sample):
                spans[i] = length
                break
        i += spans.get(i, 1)
    return spans


def template_regex(cluster: Cluster, *, taken: frozenset[str] = frozenset()) -> tuple[str, int]:
    """The regex body (no anchor) for a cluster and its number of named groups.

    ``taken`` are names an earlier extraction (the header) already sets on the same events;
    Splunk keeps the first value of a field, so a template must not reuse them.
    """
    tokens: list[str | None] = list(cluster.tokens)
    small = len(cluster.members) < SMALL_CLUSTER
    spaced = _spaced_keys(cluster.tokens)
    for i, token in enumerate(tokens):
        if token is None or _MESSAGE_ID.fullmatch(token):
            continue
        prev = tokens[i - 1] if i > 0 else None
        assigned = prev in _ASSIGNMENTS and i > 1 and _word(cluster.tokens[i - 2])
        lone = small and _lone_value(token, prev, spaced)
        if lone or assigned or (prev is not None and _is_key(prev)):
            tokens[i] = None
    web = any(
        all(member[i].strip(_LEAD).split(" ")[0] in HTTP_METHODS for member in cluster.members)
        for i in range(len(tokens))
    )
    namer = _Namer(used=set(taken), web=web)
    pieces: list[str] = []
    before: list[str] = []
    spans = _date_spans(tokens, cluster.members)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if i in spans:
            name = unique_name("date", namer.used)
            pieces.append(rf"(?<{name}>" + r"\s+".join([r"\S+"] * spans[i]) + ")")
            i += spans[i]
            before = []
            continue
        if token is None:
            values = [m[i] for m in cluster.members]
            upcoming = next((t.lower() for t in tokens[i + 1 :] if t is not None), None)
            lead, body, trail = _variable(values, before[-4:], namer, upcoming)
            unit = tokens[i + 1] if i + 1 < len(tokens) else None
            unit_core = unit.rstrip(_TRAIL) if unit is not None else ""
            if (
                unit is not None
                and not trail
                and unit_core.lower() in _UNITS
                and all(_QUANTITY.fullmatch(v) for v in values)
            ):
                name = unique_name(f"{_group_name(body)}_with_unit", namer.used)
                rest = _escape(unit[len(unit_core) :])
                pieces.append(rf"{lead}(?<{name}>{body}\s+{_escape(unit_core)}){rest}")
                i += 2
                before = [unit]
                continue
            pieces.append(lead + body + trail)
            before = []
        else:
            pieces.append(_escape(token))
            before.append(token)
            namer.adjacent = namer.last = ""
        i += 1
    return r"\s+".join(pieces), len(namer.used - taken)


_ASSIGNMENTS = frozenset({"=", "=>"})
"""Assignments standing alone between a key and its value (``user = alice``)."""
_PARTICIPLE = re.compile(r"[a-z]{3,}(?:ed|ing)")
"""A lower-case verb form (``permitted``, ``failed``, ``pending``): prose, not a name."""


def _word(token: str | None) -> bool:
    return token is not None and token.strip(_LEAD + _TRAIL).replace("_", "").isalpha()


def _spaced_keys(tokens: Sequence[str | None]) -> frozenset[str]:
    """Words the message itself writes as keys with a standing assignment (``user = alice``):
    elsewhere in it the bare word is prose (``AAA user authentication``), not a key."""
    return frozenset(
        token.lower()
        for token, following in pairwise(tokens)
        if following in _ASSIGNMENTS and _word(token) and token is not None
    )


def _lone_value(token: str, previous: str | None, spaced: frozenset[str] = frozenset()) -> bool:
    """In a template seen once or twice, whether ``token`` is a value all the same: it holds a
    digit, is a typed token (host, path, e-mail...) or follows a word that introduces values.
    Punctuation alone is never a value, nor a verb form or a word after an introducer the
    message writes as a key elsewhere (``spaced``)."""
    if not any(char.isalnum() for char in token):
        return False
    if _HAS_DIGIT.search(token) or token.lower() in _CONSTANT_VALUES:
        return True
    if token.lower() in INTRODUCERS:
        return False  # ``for user root``: "user" introduces the value, it is not one
    if kind(token.strip(_LEAD + _TRAIL)) in _TYPED_KINDS:
        return True
    if previous is None or _PARTICIPLE.fullmatch(token.strip(_LEAD + _TRAIL)):
        return False
    word = previous.strip(_LEAD + _TRAIL).lower()
    return word in INTRODUCERS and word not in spaced


def _is_key(token: str) -> bool:
    """``size:`` or ``to:``: the token after it is a value even if the samples never vary it."""
    return len(token) > 1 and token.endswith(":") and token[:-1].replace("_", "").isalpha()


def _group_name(piece: str) -> str:
    match = re.search(r"\(\?<(\w+)>", piece)
    return match.group(1) if match else "value"


def template_label(cluster: Cluster) -> str:
    """A short, readable class-name part from the template's first constant words."""
    words = [
        re.sub(r"[^a-z0-9]+", "_", t.lower()).strip("_")
        for t in cluster.tokens
        if t is not None and not _HAS_DIGIT.search(t)
    ]
    label = "_".join(w for w in words if w)[:40].strip("_")
    return label or "event"

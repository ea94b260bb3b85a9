"""eventtypes.conf: compile each ``search =`` once and match it against events.

The search language is the subset eventtypes may use (no pipes, no subsearches):
``field=value`` with ``*`` wildcards and case-insensitive values, ``field!=value`` (the field
must exist), ``field<value`` and friends (numeric when both sides are numbers), ``field IN (a,
b)``, bare terms and quoted phrases (matched case-insensitively against _raw on token
boundaries, ``*`` matching within a token), NOT, OR, AND (also implicit), parentheses,
``eventtype=<other>`` (nested, cycles are false) and ``tag=<t>`` (tags of field values only,
since eventtype tags depend on this very match). As in Splunk's search command, NOT binds
tightest, then OR, then AND. ``index``/``splunk_server`` terms are true when the event does not
carry that field (the sandbox has no indexes); ``earliest``/``latest`` are ignored.
``disabled = 1`` eventtypes are skipped. Wildcard terms run on engine.regex; one that exceeds
the match limit on an event does not match it. Names like ``name-%host%`` are templates: the field's
value is substituted, and the eventtype does not apply when the field is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from engine.messages import quoted
from engine.regex import Regex, RegexError, RegexLimitError, compile_regex
from engine.sandbox.extractions import parse_bool
from engine.sandbox.spl_eval.values import compare_values, parse_number

_IGNORED_FIELDS = frozenset({"earliest", "latest", "_index_earliest", "_index_latest"})
_OPTIONAL_FIELDS = frozenset({"index", "splunk_server"})
_COMPARATORS = ("!=", "<=", ">=", "=", "<", ">")


class EventtypeSearchError(ValueError):
    """An eventtype search that cannot be parsed."""


@dataclass(slots=True)
class MatchContext:
    """What an eventtype search can see of one event."""

    get: Callable[[str], list[str] | None]
    raw: str
    field_tags: set[str]
    resolve_eventtype: Callable[[str], bool]


Predicate = Callable[[MatchContext], bool]


def _pcre_escape(text: str, wildcard: str) -> str:
    return "".join(
        wildcard if ch == "*" else ch if ch.isalnum() or ch == " " else "\\" + ch for ch in text
    )


def _value_matcher(pattern: str) -> Callable[[str], bool]:
    """Case-insensitive equality, with ``*`` as a wildcard."""
    if "*" not in pattern:
        folded = pattern.casefold()
        return lambda value: value.casefold() == folded
    regex = compile_regex("(?is)^" + _pcre_escape(pattern, ".*") + "$")
    return lambda value: _safe_search(regex, value)


def _safe_search(regex: Regex, text: str) -> bool:
    try:
        return regex.search(text) is not None
    except RegexLimitError:
        return False


def _term_matcher(term: str) -> Predicate:
    if term.strip("*") == "":
        return lambda ctx: True
    body = _pcre_escape(term, r"\S*")
    regex = compile_regex(f"(?i)(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])")
    return lambda ctx: _safe_search(regex, ctx.raw)


def _ordering(op: str, pattern: str) -> Callable[[str], bool]:
    target_number = parse_number(pattern)

    return lambda value: compare_values(
        op, value, pattern, left_number=parse_number(value), right_number=target_number
    )


def _comparison(name: str, op: str, value: str) -> Predicate:
    if name in _IGNORED_FIELDS:
        return lambda ctx: True
    if name == "eventtype":
        return lambda ctx: ctx.resolve_eventtype(value) is (op != "!=")
    if name == "tag":
        wanted = _value_matcher(value)
        has = lambda ctx: any(wanted(t) for t in ctx.field_tags)  # noqa: E731
        return has if op != "!=" else (lambda ctx: not has(ctx))
    matches = _value_matcher(value) if op in ("=", "!=") else _ordering(op, value)
    optional = name in _OPTIONAL_FIELDS

    def check(ctx: MatchContext) -> bool:
        values = ctx.get(name)
        if not values:
            return optional
        if op == "!=":
            return not any(matches(v) for v in values)
        return any(matches(v) for v in values)

    return check


def _in_list(name: str, values: list[str]) -> Predicate:
    checks = [_comparison(name, "=", value) for value in values]
    return lambda ctx: any(check(ctx) for check in checks)


# --------------------------------------------------------------------------- lexer/parser


def _lex(search: str) -> list[str]:
    """Words, parentheses and commas; double-quoted parts stay inside their word."""
    tokens: list[str] = []
    buf: list[str] = []
    in_quote = False
    i = 0
    while i < len(search):
        ch = search[i]
        if in_quote:
            buf.append(ch)
            if ch == "\\" and i + 1 < len(search):
                buf.append(search[i + 1])
                i += 1
            elif ch == '"':
                in_quote = False
        elif ch == '"':
            in_quote = True
            buf.append(ch)
        elif ch.isspace() or ch in "(),":
            if buf:
                tokens.append("".join(buf))
                buf = []
            if ch in "(),":
                tokens.append(ch)
        else:
            buf.append(ch)
        i += 1
    if in_quote:
        raise EventtypeSearchError(f"unterminated quote in {quoted(search)}")
    if buf:
        tokens.append("".join(buf))
    return tokens


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        return inner.replace('\\"', '"').replace("\\\\", "\\")
    return text


def _split_comparison(word: str) -> tuple[str, str, str] | None:
    in_quote = False
    for i, ch in enumerate(word):
        if ch == '"':
            in_quote = not in_quote
        if in_quote or i == 0:
            continue
        for op in _COMPARATORS:
            if word.startswith(op, i):
                return word[:i], op, word[i + len(op) :]
    return None


@dataclass(slots=True)
class _Parser:
    search: str
    tokens: list[str]
    pos: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, message: str) -> EventtypeSearchError:
        return EventtypeSearchError(f"{message} in eventtype search {self.search!r}")

    def parse(self) -> Predicate:
        if not self.tokens:
            raise self.fail("empty search")
        expr = self.parse_and()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")
        return expr

    def parse_and(self) -> Predicate:
        parts = [self.parse_or()]
        while (token := self.peek()) is not None and token != ")":
            if token == "|":
                raise self.fail("pipes are not allowed")
            if token == "AND":
                self.take()
            parts.append(self.parse_or())
        if len(parts) == 1:
            return parts[0]
        return lambda ctx: all(part(ctx) for part in parts)

    def parse_or(self) -> Predicate:
        parts = [self.parse_not()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]
        return lambda ctx: any(part(ctx) for part in parts)

    def parse_not(self) -> Predicate:
        if self.peek() == "NOT":
            self.take()
            inner = self.parse_not()
            return lambda ctx: not inner(ctx)
        return self.parse_atom()

    def parse_atom(self) -> Predicate:
        token = self.peek()
        if token is None or token in (")", "AND", "OR", ","):
            raise self.fail(f"expected a term, found {token or 'end of search'!r}")
        self.take()
        if token == "(":
            inner = self.parse_and()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.take()
            return inner
        if self.peek() == "IN" and self.tokens[self.pos + 1 : self.pos + 2] == ["("]:
            self.pos += 2
            return _in_list(token, self.parse_list())
        if self.peek() in _COMPARATORS:
            op = self.take()
            if self.peek() is None:
                raise self.fail(f"{token} {op} has no value")
            return _comparison(token, op, _unquote(self.take()))
        split = _split_comparison(token)
        if split is not None:
            name, op, value = split
            if value == "":
                if self.peek() is None or self.peek() in ("(", ")"):
                    raise self.fail(f"{token} has no value")
                value = self.take()
            return _comparison(_unquote(name), op, _unquote(value))
        return _term_matcher(_unquote(token))

    def parse_list(self) -> list[str]:
        values: list[str] = []
        while (token := self.peek()) is not None:
            self.take()
            if token == ")":
                return values
            if token != ",":
                values.append(_unquote(token))
        raise self.fail("missing ')' after IN list")


@lru_cache(maxsize=512)
def cached_search(search: str) -> Predicate | None:
    """:func:`compile_search` remembered per text; None for a search outside the subset."""
    try:
        return compile_search(search)
    except EventtypeSearchError:
        return None


def search_matches(
    predicate: Predicate,
    *,
    get: Callable[[str], list[str] | None],
    raw: str,
    field_tags: Collection[str] = (),
    eventtypes: Collection[str] = (),
) -> bool:
    """A compiled search on one event seen through ``get`` (a match limit hit propagates)."""
    context = MatchContext(
        get=get, raw=raw, field_tags=set(field_tags), resolve_eventtype=eventtypes.__contains__
    )
    return predicate(context)


def compile_search(search: str) -> Predicate:
    """Compile an eventtype search string into a predicate over a :class:`MatchContext`."""
    if "|" in _lex(search):
        raise EventtypeSearchError(f"pipes are not allowed in eventtype search {quoted(search)}")
    try:
        predicate = _Parser(search, _lex(search)).parse()
    except RegexError as exc:
        raise EventtypeSearchError(f"eventtype search {quoted(search)}: {exc}") from exc
    except RecursionError as exc:  # a hostile TA: thousands of nested parentheses or NOTs
        raise EventtypeSearchError(f"eventtype search nested too deeply: {quoted(search)}") from exc

    def bounded(context: MatchContext) -> bool:
        try:
            return predicate(context)
        except RecursionError:  # eventtypes that name each other thousands deep: no match
            return False

    return bounded


@dataclass(frozen=True, slots=True)
class _Eventtype:
    name: str
    predicate: Predicate
    template_fields: tuple[str, ...]


def _template_fields(name: str) -> tuple[str, ...]:
    parts = name.split("%")
    return tuple(parts[i] for i in range(1, len(parts) - 1, 2) if parts[i])


@dataclass(slots=True)
class EventtypeMatcher:
    """All enabled eventtypes of a TA, compiled once."""

    eventtypes: list[_Eventtype] = field(default_factory=list)
    by_name: dict[str, _Eventtype] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, stanzas: Mapping[str, Mapping[str, str]]) -> EventtypeMatcher:
        matcher = cls()
        for name, stanza in stanzas.items():
            if parse_bool(stanza.get("disabled"), default=False):
                continue
            search = stanza.get("search", "").strip()
            if not search:
                matcher.errors.append(f"eventtype {name}: no search")
                continue
            try:
                predicate = compile_search(search)
            except EventtypeSearchError as exc:
                matcher.errors.append(f"eventtype {name}: {exc}")
                continue
            compiled = _Eventtype(name, predicate, _template_fields(name))
            matcher.eventtypes.append(compiled)
            matcher.by_name[name] = compiled
        return matcher

    def match(
        self, *, get: Callable[[str], list[str] | None], raw: str, field_tags: set[str]
    ) -> list[str]:
        """Names of the eventtypes this event belongs to (templates resolved), sorted."""
        if not self.eventtypes:
            return []
        results: dict[str, bool] = {}
        active: set[str] = set()

        def resolve(pattern: str) -> bool:
            if "*" in pattern:
                wanted = _value_matcher(pattern)
                return any(evaluate(et) for et in self.eventtypes if wanted(et.name))
            et = self.by_name.get(pattern)
            return et is not None and evaluate(et)

        def evaluate(et: _Eventtype) -> bool:
            if et.name in results:
                return results[et.name]
            if et.name in active:
                return False
            active.add(et.name)
            outcome = et.predicate(ctx)
            active.discard(et.name)
            results[et.name] = outcome
            return outcome

        ctx = MatchContext(get=get, raw=raw, field_tags=field_tags, resolve_eventtype=resolve)
        names: set[str] = set()
        for et in self.eventtypes:
            if not evaluate(et):
                continue
            name = et.name
            for field_name in et.template_fields:
                values = get(field_name)
                if not values:
                    break
                name = name.replace(f"%{field_name}%", values[0])
            else:
                names.add(name)
        return sorted(names)

"""An SPL ``eval`` expression compiler, for props.conf EVAL- (calculated fields).

Expressions compile once to closures over a field getter, so 200k events pay no parsing.
Values are ``None`` (null), ``str``, ``int``/``float``, ``bool`` or ``list[str]`` (multivalue).
Semantics follow the Search Reference: a string that looks like a number is a number in
arithmetic and comparisons; ``+`` adds numbers and concatenates strings; ``.`` concatenates;
null propagates through operators and is false in conditions; comparisons with a multivalue
field are true when any value compares true; string functions apply to every value of a
multivalue field. Regexes (match, replace, mvfind) run on engine.regex (PCRE2, bounded); a
match limit hit raises :class:`EvalLimitError`.

Operator precedence, loosest first: OR, XOR, AND, NOT, (= == != LIKE IN), (< > <= >=),
(+ - .), (* / %), unary minus. Keywords are case-insensitive (Splunk's own TAs write ``or``);
``like(...)``/``in(...)`` right before a parenthesis are the functions.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from engine.regex import Regex, RegexError, RegexLimitError, compile_regex
from engine.sandbox.kvmode import json_leaves, load_json

Scalar = None | str | int | float | bool
Value = Scalar | list[str]
Getter = Callable[[str], "list[str] | None"]
Compiled = Callable[[Getter], Value]


class EvalSyntaxError(ValueError):
    """An eval expression that does not parse (or calls an unknown function)."""


class EvalLimitError(RuntimeError):
    """A regex inside an eval expression exceeded its match limit."""


class EvalTypeError(TypeError):
    """A result that cannot be stored in a field (Splunk refuses boolean fields)."""


# --------------------------------------------------------------------------- value helpers


def parse_number(text: str) -> int | float | None:
    """A number if the whole (trimmed) string is a decimal literal, else None."""
    t = text.strip()
    if not t or any(ch not in "0123456789+-.eE" for ch in t):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return None


def _first(value: Value) -> Scalar:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def to_number(value: Value) -> int | float | None:
    value = _first(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    return parse_number(value)


def format_number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return format(value, ".15g")


def to_text(value: Value) -> str | None:
    value = _first(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    return value


def to_values(value: Value) -> list[str] | None:
    """A result as field values; None removes the field, a boolean cannot be stored."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise EvalTypeError("fields cannot be assigned a boolean result")
    if isinstance(value, list):
        return list(value) or None
    text = to_text(value)
    return None if text is None else [text]


def _truth(value: Value) -> bool:
    return value is True


def _each(value: Value, fn: Callable[[str], str | None]) -> Value:
    if value is None:
        return None
    if isinstance(value, list):
        out = [r for r in (fn(v) for v in value) if r is not None]
        return out or None
    text = to_text(value)
    return None if text is None else fn(text)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def compare_values(
    op: str,
    left: str,
    right: str,
    *,
    left_number: int | float | None,
    right_number: int | float | None,
) -> bool:
    """SPL's comparison (eval and search alike): as numbers when both sides are numbers,
    otherwise as strings."""
    compare = _COMPARISONS[op]
    if left_number is not None and right_number is not None:
        return compare(left_number, right_number)
    return compare(left, right)


def _values(value: Value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    text = to_text(value)
    return [] if text is None else [text]


def _compare(op: str, left: Value, right: Value) -> bool | None:
    if left is None or right is None:
        return None
    if isinstance(left, list):
        return any(_compare(op, item, right) for item in left)
    if isinstance(right, list):
        return any(_compare(op, left, item) for item in right)
    return compare_values(
        op,
        to_text(left) or "",
        to_text(right) or "",
        left_number=to_number(left),
        right_number=to_number(right),
    )


def _arith(op: str, left: Value, right: Value) -> Value:
    if left is None or right is None:
        return None
    if op == ".":
        lt, rt = to_text(left), to_text(right)
        return None if lt is None or rt is None else lt + rt
    ln, rn = to_number(left), to_number(right)
    if ln is None or rn is None:
        lf, rf = _first(left), _first(right)
        if op == "+" and isinstance(lf, str) and isinstance(rf, str):
            return lf + rf
        return None
    if op == "+":
        return ln + rn
    if op == "-":
        return ln - rn
    if op == "*":
        return ln * rn
    if rn == 0:
        return None
    if op == "/":
        return ln / rn
    return math.fmod(ln, rn) if isinstance(ln, float) or isinstance(rn, float) else ln % rn


def _pcre_literal(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch == " " else "\\" + ch for ch in text)


def like_regex(pattern: str) -> Regex:
    """SQL LIKE (``%`` any run, ``_`` one character) as an anchored PCRE2 pattern."""
    parts = [".*" if ch == "%" else "." if ch == "_" else _pcre_literal(ch) for ch in pattern]
    return compile_regex("(?s)^" + "".join(parts) + "$")


def _regex(pattern: Value) -> Regex | None:
    text = to_text(pattern)
    if text is None:
        return None
    try:
        return compile_regex(text)
    except RegexError:
        return None


def _search(regex: Regex, text: str) -> bool:
    try:
        return regex.search(text) is not None
    except RegexLimitError as exc:
        raise EvalLimitError(str(exc)) from exc


def _substitute(regex: Regex, text: str, replacement: str) -> str:
    out: list[str] = []
    last = 0
    encoded = text.encode("utf-8")
    try:
        matches = list(regex.finditer_bytes(encoded))
    except RegexLimitError as exc:
        raise EvalLimitError(str(exc)) from exc
    for match in matches:
        out.append(encoded[last : match.start()].decode("utf-8", "replace"))
        i = 0
        while i < len(replacement):
            ch = replacement[i]
            if ch == "\\" and i + 1 < len(replacement) and replacement[i + 1].isdigit():
                group = int(replacement[i + 1])
                if group <= regex.groups:
                    value = match.group(group)
                    out.append("" if value is None else value.decode("utf-8", "replace"))
                i += 2
                continue
            out.append(ch)
            i += 1
        last = match.end()
    out.append(encoded[last:].decode("utf-8", "replace"))
    return "".join(out)


# --------------------------------------------------------------------------- functions

Func = Callable[[list[Value]], Value]


def _fn_len(args: list[Value]) -> Value:
    text = to_text(args[0])
    return None if text is None else len(text)


def _fn_substr(args: list[Value]) -> Value:
    text, start = to_text(args[0]), to_number(args[1])
    if text is None or start is None:
        return None
    begin = int(start)
    begin = len(text) + begin if begin < 0 else max(begin - 1, 0)
    begin = max(begin, 0)
    if len(args) > 2:
        length = to_number(args[2])
        if length is None:
            return None
        return text[begin : begin + max(int(length), 0)]
    return text[begin:]


def _fn_tonumber(args: list[Value]) -> Value:
    value = _first(args[0])
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    base = int(to_number(args[1]) or 10) if len(args) > 1 else 10
    if base == 10:
        return parse_number(value)
    try:
        return int(value.strip(), base)
    except ValueError:
        return None


def _commas(number: int | float) -> str:
    if isinstance(number, float) and not number.is_integer():
        return f"{number:,.2f}"
    return f"{int(number):,}"


def _duration(number: int | float) -> str:
    seconds = int(number)
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        text = f"{days}+{text}"
    return ("-" if seconds < 0 else "") + text


def _fn_tostring(args: list[Value]) -> Value:
    value = _first(args[0])
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if len(args) < 2:
        return to_text(value)
    fmt = (to_text(args[1]) or "").lower()
    number = to_number(value)
    if number is None:
        return to_text(value)
    if fmt == "hex":
        return hex(int(number)).upper().replace("0X", "0x")
    if fmt == "commas":
        return _commas(number)
    if fmt == "duration":
        return _duration(number)
    return to_text(value)


def _fn_split(args: list[Value]) -> Value:
    text, delim = to_text(args[0]), to_text(args[1])
    if text is None or delim is None:
        return None
    return list(text) if delim == "" else text.split(delim)


def _fn_mvindex(args: list[Value]) -> Value:
    values = _values(args[0])
    start = to_number(args[1])
    if not values or start is None:
        return None
    n = len(values)
    first = int(start) + n if start < 0 else int(start)
    if not 0 <= first < n:
        return None
    if len(args) < 3:
        return values[first]
    end = to_number(args[2])
    if end is None:
        return None
    last = min(int(end) + n if end < 0 else int(end), n - 1)
    if last < first:
        return None
    picked = values[first : last + 1]
    return picked[0] if len(picked) == 1 else picked


def _fn_mvcount(args: list[Value]) -> Value:
    return len(_values(args[0])) if args[0] is not None else None


def _fn_mvjoin(args: list[Value]) -> Value:
    values, delim = _values(args[0]), to_text(args[1])
    return None if not values or delim is None else delim.join(values)


def _fn_mvappend(args: list[Value]) -> Value:
    out = [v for arg in args for v in _values(arg)]
    if not out:
        return None
    return out[0] if len(out) == 1 else out


def _fn_mvdedup(args: list[Value]) -> Value:
    out = list(dict.fromkeys(_values(args[0])))
    if not out:
        return None
    return out[0] if len(out) == 1 else out


def _fn_mvfind(args: list[Value]) -> Value:
    regex = _regex(args[1])
    if regex is None:
        return None
    for index, value in enumerate(_values(args[0])):
        if _search(regex, value):
            return index
    return None


def _fn_mvzip(args: list[Value]) -> Value:
    delim = to_text(args[2]) if len(args) > 2 else ","
    left, right = _values(args[0]), _values(args[1])
    out = [f"{a}{delim}{b}" for a, b in zip(left, right, strict=False)]
    if not out:
        return None
    return out[0] if len(out) == 1 else out


def _fn_match(args: list[Value]) -> Value:
    text, regex = to_text(args[0]), _regex(args[1])
    if text is None or regex is None:
        return None
    return _search(regex, text)


def _fn_replace(args: list[Value]) -> Value:
    regex, replacement = _regex(args[1]), to_text(args[2])
    if regex is None or replacement is None:
        return None
    return _each(args[0], lambda text: _substitute(regex, text, replacement))


def _fn_like(args: list[Value]) -> Value:
    text, pattern = to_text(args[0]), to_text(args[1])
    if text is None or pattern is None:
        return None
    return _search(like_regex(pattern), text)


def _fn_in(args: list[Value]) -> Value:
    values = _values(args[0])
    if not values:
        return None
    wanted = {to_text(a) for a in args[1:]}
    return any(v in wanted for v in values)


def _fn_cidrmatch(args: list[Value]) -> Value:
    cidr, address = to_text(args[0]), to_text(args[1])
    if cidr is None or address is None:
        return None
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return ip.version == network.version and ip in network


def _trimmer(method: str) -> Func:
    def trim(args: list[Value]) -> Value:
        chars = to_text(args[1]) if len(args) > 1 else " \t"
        return _each(args[0], lambda text: getattr(text, method)(chars))

    return trim


def _numeric(fn: Callable[..., int | float]) -> Func:
    def apply(args: list[Value]) -> Value:
        numbers = [to_number(a) for a in args]
        if any(n is None for n in numbers):
            return None
        try:
            return fn(*numbers)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None

    return apply


def _round(number: float, digits: float = 0) -> int | float:
    scale = 10 ** int(digits)
    rounded = math.floor(abs(number) * scale + 0.5) / scale
    rounded = math.copysign(rounded, number)
    return int(rounded) if int(digits) == 0 else rounded


def _extreme(pick: Callable[..., Value]) -> Func:
    def apply(args: list[Value]) -> Value:
        values = [v for a in args for v in (_values(a) if isinstance(a, list) else [a])]
        values = [v for v in values if v is not None]
        if not values:
            return None
        numbers = [to_number(v) for v in values]
        if all(n is not None for n in numbers):
            return pick(numbers)
        return pick(to_text(v) or "" for v in values)

    return apply


def _fn_typeof(args: list[Value]) -> Value:
    value = args[0]
    if value is None:
        return "Invalid"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, list):
        return "Multivalue"
    return "Number" if to_number(value) is not None else "String"


def _fn_nullif(args: list[Value]) -> Value:
    return None if _compare("==", args[0], args[1]) else args[0]


def _hash(name: str) -> Func:
    def digest(args: list[Value]) -> Value:
        text = to_text(args[0])
        return None if text is None else hashlib.new(name, text.encode("utf-8")).hexdigest()

    return digest


def _fn_spath(args: list[Value]) -> Value:
    text, path = to_text(args[0]), to_text(args[1])
    if text is None or path is None:
        return None
    document = load_json(text)
    if document is None:
        return None
    found = [value for name, value in json_leaves(document) if name == path]
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def _is_int(value: Value) -> bool:
    number = to_number(value)
    return number is not None and float(number).is_integer()


_FUNCTIONS: dict[str, tuple[int, int, Func]] = {
    "abs": (1, 1, _numeric(abs)),
    "ceil": (1, 1, _numeric(math.ceil)),
    "ceiling": (1, 1, _numeric(math.ceil)),
    "cidrmatch": (2, 2, _fn_cidrmatch),
    "exp": (1, 1, _numeric(math.exp)),
    "false": (0, 0, lambda args: False),
    "floor": (1, 1, _numeric(math.floor)),
    "in": (2, 99, _fn_in),
    "isbool": (1, 1, lambda args: isinstance(args[0], bool)),
    "isint": (1, 1, lambda args: _is_int(args[0])),
    "isnotnull": (1, 1, lambda args: args[0] is not None),
    "isnull": (1, 1, lambda args: args[0] is None),
    "isnum": (1, 1, lambda args: to_number(args[0]) is not None),
    "isstr": (
        1,
        1,
        lambda args: isinstance(_first(args[0]), str) and to_number(args[0]) is None,
    ),
    "len": (1, 1, _fn_len),
    "like": (2, 2, _fn_like),
    "ln": (1, 1, _numeric(math.log)),
    "log": (1, 2, _numeric(lambda x, base=10: math.log(x, base))),
    "lower": (1, 1, lambda args: _each(args[0], str.lower)),
    "ltrim": (1, 2, _trimmer("lstrip")),
    "match": (2, 2, _fn_match),
    "max": (1, 99, _extreme(max)),
    "md5": (1, 1, _hash("md5")),
    "min": (1, 99, _extreme(min)),
    "mvappend": (1, 99, _fn_mvappend),
    "mvcount": (1, 1, _fn_mvcount),
    "mvdedup": (1, 1, _fn_mvdedup),
    "mvfind": (2, 2, _fn_mvfind),
    "mvindex": (2, 3, _fn_mvindex),
    "mvjoin": (2, 2, _fn_mvjoin),
    "mvzip": (2, 3, _fn_mvzip),
    "null": (0, 0, lambda args: None),
    "nullif": (2, 2, _fn_nullif),
    "pi": (0, 0, lambda args: math.pi),
    "pow": (2, 2, _numeric(math.pow)),
    "replace": (3, 3, _fn_replace),
    "round": (1, 2, _numeric(_round)),
    "rtrim": (1, 2, _trimmer("rstrip")),
    "sha1": (1, 1, _hash("sha1")),
    "sha256": (1, 1, _hash("sha256")),
    "sha512": (1, 1, _hash("sha512")),
    "spath": (2, 2, _fn_spath),
    "split": (2, 2, _fn_split),
    "sqrt": (1, 1, _numeric(math.sqrt)),
    "substr": (2, 3, _fn_substr),
    "tonumber": (1, 2, _fn_tonumber),
    "tostring": (1, 2, _fn_tostring),
    "trim": (1, 2, _trimmer("strip")),
    "true": (0, 0, lambda args: True),
    "typeof": (1, 1, _fn_typeof),
    "upper": (1, 1, lambda args: _each(args[0], str.upper)),
    "urldecode": (1, 1, lambda args: _each(args[0], unquote)),
}
_LAZY = frozenset({"if", "case", "coalesce", "validate"})


# --------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num str field name op eof
    text: str
    value: int | float | str | None = None


_KEYWORDS = frozenset({"AND", "OR", "NOT", "XOR", "LIKE", "IN"})
_OPERATORS = (
    "==",
    "!=",
    "<=",
    ">=",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    ".",
    "!",
    "(",
    ")",
    ",",
)


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch == '"' or ch == "'":
            j = i + 1
            buf: list[str] = []
            while j < n and source[j] != ch:
                if source[j] == "\\" and j + 1 < n and source[j + 1] in (ch, "\\"):
                    buf.append(source[j + 1])
                    j += 2
                    continue
                buf.append(source[j])
                j += 1
            if j >= n:
                raise EvalSyntaxError(f"unterminated quote at offset {i} in {source!r}")
            kind = "str" if ch == '"' else "field"
            tokens.append(_Token(kind, source[i : j + 1], "".join(buf)))
            i = j + 1
        elif ch.isdigit() or (ch == "." and i + 1 < n and source[i + 1].isdigit()):
            j = i
            while j < n and source[j].isdigit():
                j += 1
            if j < n and source[j] == "." and j + 1 < n and source[j + 1].isdigit():
                j += 1
                while j < n and source[j].isdigit():
                    j += 1
            if j < n and source[j] in "eE":
                k = j + 1
                if k < n and source[k] in "+-":
                    k += 1
                if k < n and source[k].isdigit():
                    j = k
                    while j < n and source[j].isdigit():
                        j += 1
            text = source[i:j]
            number = parse_number(text)
            tokens.append(_Token("num", text, number))
            i = j
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (source[j].isalnum() or source[j] == "_"):
                j += 1
            word = source[i:j]
            if word.upper() in _KEYWORDS:  # Splunk's own TAs write `or`/`and` in lower case
                tokens.append(_Token("op", word.upper(), word))
            else:
                tokens.append(_Token("name", word, word))
            i = j
        else:
            for op in _OPERATORS:
                if source.startswith(op, i):
                    tokens.append(_Token("op", op))
                    i += len(op)
                    break
            else:
                raise EvalSyntaxError(f"unexpected character {ch!r} at offset {i} in {source!r}")
    tokens.append(_Token("eof", ""))
    return tokens


# --------------------------------------------------------------------------- parser


def _const(value: Value) -> Compiled:
    return lambda get: value


def _field(name: str) -> Compiled:
    def read(get: Getter) -> Value:
        values = get(name)
        if not values:
            return None
        return values[0] if len(values) == 1 else list(values)

    return read


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.pos = 0
        self.refs: list[str] = []  # field names in parse order, for mvfilter

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept(self, *ops: str) -> str | None:
        token = self.peek()
        if token.kind == "op" and token.text in ops:
            self.pos += 1
            return token.text
        return None

    def expect(self, op: str) -> None:
        if self.accept(op) is None:
            found = self.peek().text or "end of expression"
            raise EvalSyntaxError(f"expected {op!r}, found {found!r} in {self.source!r}")

    def parse(self) -> Compiled:
        expr = self.parse_or()
        if self.peek().kind != "eof":
            raise EvalSyntaxError(f"unexpected {self.peek().text!r} in {self.source!r}")
        return expr

    def _binary_bool(self, op: str, sub: Callable[[], Compiled]) -> Compiled:
        left = sub()
        while self.accept(op):
            right = sub()
            left = _bool_op(op, left, right)
        return left

    def parse_or(self) -> Compiled:
        return self._binary_bool("OR", self.parse_xor)

    def parse_xor(self) -> Compiled:
        return self._binary_bool("XOR", self.parse_and)

    def parse_and(self) -> Compiled:
        return self._binary_bool("AND", self.parse_not)

    def parse_not(self) -> Compiled:
        if self.accept("NOT", "!"):
            inner = self.parse_not()

            def negate(get: Getter) -> Value:
                value = inner(get)
                return None if value is None else not _truth(value)

            return negate
        return self.parse_equality()

    def parse_equality(self) -> Compiled:
        left = self.parse_relational()
        while True:
            op = self.accept("=", "==", "!=", "LIKE", "IN")
            if op is None:
                return left
            if op == "IN":
                self.expect("(")
                items = self.parse_args()
                left = _call("in", [left, *items], self.source)
            elif op == "LIKE":
                left = _call("like", [left, self.parse_relational()], self.source)
            else:
                left = _comparison(op, left, self.parse_relational())

    def parse_relational(self) -> Compiled:
        left = self.parse_additive()
        while op := self.accept("<", ">", "<=", ">="):
            left = _comparison(op, left, self.parse_additive())
        return left

    def parse_additive(self) -> Compiled:
        left = self.parse_multiplicative()
        while op := self.accept("+", "-", "."):
            left = _arithmetic(op, left, self.parse_multiplicative())
        return left

    def parse_multiplicative(self) -> Compiled:
        left = self.parse_unary()
        while op := self.accept("*", "/", "%"):
            left = _arithmetic(op, left, self.parse_unary())
        return left

    def parse_unary(self) -> Compiled:
        if self.accept("-"):
            inner = self.parse_unary()
            return _arithmetic("*", _const(-1), inner)
        if self.accept("+"):
            return self.parse_unary()
        return self.parse_primary()

    def parse_args(self) -> list[Compiled]:
        args: list[Compiled] = []
        if self.accept(")"):
            return args
        while True:
            args.append(self.parse_or())
            if self.accept(")"):
                return args
            self.expect(",")

    def parse_primary(self) -> Compiled:
        token = self.take()
        if token.kind == "num" or token.kind == "str":
            return _const(token.value)
        if token.kind == "field":
            self.refs.append(str(token.value))
            return _field(str(token.value))
        function_keyword = token.kind == "op" and token.text in ("LIKE", "IN")
        if token.kind == "name" or (function_keyword and self.peek().text == "("):
            if self.accept("("):
                mark = len(self.refs)
                args = self.parse_args()
                if token.text.lower() == "mvfilter":
                    return _mvfilter(args, self.refs[mark:], self.source)
                return _call(token.text.lower(), args, self.source)
            self.refs.append(str(token.value))
            return _field(str(token.value))
        if token.kind == "op" and token.text == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        found = token.text or "end of expression"
        raise EvalSyntaxError(f"unexpected {found!r} in {self.source!r}")


def _bool_op(op: str, left: Compiled, right: Compiled) -> Compiled:
    if op == "AND":
        return lambda get: _truth(left(get)) and _truth(right(get))
    if op == "OR":
        return lambda get: _truth(left(get)) or _truth(right(get))
    return lambda get: _truth(left(get)) != _truth(right(get))


def _comparison(op: str, left: Compiled, right: Compiled) -> Compiled:
    return lambda get: _compare(op, left(get), right(get))


def _arithmetic(op: str, left: Compiled, right: Compiled) -> Compiled:
    return lambda get: _arith(op, left(get), right(get))


def _lazy(name: str, args: Sequence[Compiled], source: str) -> Compiled:
    if name == "if":
        if len(args) != 3:
            raise EvalSyntaxError(f"if() takes 3 arguments in {source!r}")
        cond, then, other = args
        return lambda get: then(get) if _truth(cond(get)) else other(get)
    if name in ("case", "validate"):
        if not args or len(args) % 2:
            raise EvalSyntaxError(f"{name}() takes condition/value pairs in {source!r}")
        pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
        want = name == "case"

        def choose(get: Getter) -> Value:
            for cond, value in pairs:
                if _truth(cond(get)) is want:
                    return value(get)
            return None

        return choose

    if not args:
        raise EvalSyntaxError(f"coalesce() needs an argument in {source!r}")

    def coalesce(get: Getter) -> Value:
        for arg in args:
            value = arg(get)
            if value is not None:
                return value
        return None

    return coalesce


def _mvfilter(args: list[Compiled], refs: list[str], source: str) -> Compiled:
    """mvfilter(<predicate>): keeps the values of the one field the predicate names."""
    if len(args) != 1 or len(set(refs)) != 1:
        raise EvalSyntaxError(f"mvfilter() takes a predicate over exactly one field in {source!r}")
    predicate, name = args[0], refs[0]

    def keep(get: Getter) -> Value:
        kept: list[str] = []
        for value in get(name) or []:

            def bound(field: str, value: str = value) -> list[str] | None:
                return [value] if field == name else get(field)

            if _truth(predicate(bound)):
                kept.append(value)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else kept

    return keep


def _call(name: str, args: list[Compiled], source: str) -> Compiled:
    if name in _LAZY:
        return _lazy(name, args, source)
    spec = _FUNCTIONS.get(name)
    if spec is None:
        raise EvalSyntaxError(f"unsupported eval function {name}() in {source!r}")
    low, high, fn = spec
    if not low <= len(args) <= high:
        raise EvalSyntaxError(f"{name}() takes {low}..{high} arguments, got {len(args)}")

    def call(get: Getter) -> Value:
        try:
            return fn([arg(get) for arg in args])
        except (ArithmeticError, ValueError):
            return None  # Splunk's functions return null on values they cannot handle

    return call


def compile_eval(source: str) -> Compiled:
    """Compile an eval expression into a function of a field getter."""
    if not source.strip():
        raise EvalSyntaxError("empty eval expression")
    return _Parser(source).parse()


def evaluate(source: str, fields: dict[str, list[str]]) -> Value:
    """Convenience for tests and one-offs: compile and run against a field dict."""
    return compile_eval(source)(fields.get)

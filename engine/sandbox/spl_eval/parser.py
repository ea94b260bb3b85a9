"""The eval parser: precedence climbing over tokens into closures, and :func:`compile_eval`.

Operator precedence, loosest first: OR, XOR, AND, NOT, (= == != LIKE IN), (< > <= >=),
(+ - .), (* / %), unary minus. ``like(...)``/``in(...)`` right before a parenthesis are the
functions. Functions that evaluate their arguments lazily (if, case, validate, coalesce,
mvfilter) are built here, searchmatch() from :mod:`~engine.sandbox.spl_eval.searchmatch`, the
clock's functions from :mod:`~engine.sandbox.spl_eval.times`; the rest come from
:mod:`engine.sandbox.spl_eval.functions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.messages import quoted
from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.spl_eval.functions import FUNCTIONS
from engine.sandbox.spl_eval.searchmatch import searchmatch
from engine.sandbox.spl_eval.times import CLOCKED, clocked
from engine.sandbox.spl_eval.tokens import Token, tokenize
from engine.sandbox.spl_eval.values import (
    Compiled,
    EvalLimitError,
    EvalSyntaxError,
    Getter,
    Value,
    arith,
    compare,
    truth,
)

_LAZY = frozenset({"if", "case", "coalesce", "validate"})


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
    def __init__(self, source: str, clock: EvalClock) -> None:
        self.source = source
        self.clock = clock
        self.tokens = tokenize(source)
        self.pos = 0
        self.refs: list[str] = []  # field names in parse order, for mvfilter

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
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

    def call(self, name: str, args: list[Compiled]) -> Compiled:
        return _call(name, args, self.source, self.clock)

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
                return None if value is None else not truth(value)

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
                left = self.call("in", [left, *items])
            elif op == "LIKE":
                left = self.call("like", [left, self.parse_relational()])
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
                return self.call(token.text.lower(), args)
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
        return lambda get: truth(left(get)) and truth(right(get))
    if op == "OR":
        return lambda get: truth(left(get)) or truth(right(get))
    return lambda get: truth(left(get)) != truth(right(get))


def _comparison(op: str, left: Compiled, right: Compiled) -> Compiled:
    return lambda get: compare(op, left(get), right(get))


def _arithmetic(op: str, left: Compiled, right: Compiled) -> Compiled:
    return lambda get: arith(op, left(get), right(get))


def _lazy(name: str, args: Sequence[Compiled], source: str) -> Compiled:
    if name == "if":
        if len(args) != 3:
            raise EvalSyntaxError(f"if() takes 3 arguments in {source!r}")
        cond, then, other = args
        return lambda get: then(get) if truth(cond(get)) else other(get)
    if name in ("case", "validate"):
        if not args or len(args) % 2:
            raise EvalSyntaxError(f"{name}() takes condition/value pairs in {source!r}")
        pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
        want = name == "case"

        def choose(get: Getter) -> Value:
            for cond, value in pairs:
                if truth(cond(get)) is want:
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

            if truth(predicate(bound)):
                kept.append(value)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else kept

    return keep


def _call(name: str, args: list[Compiled], source: str, clock: EvalClock) -> Compiled:
    if name in _LAZY:
        return _lazy(name, args, source)
    if name == "searchmatch":
        return searchmatch(args, source)
    if name in CLOCKED:
        low, high = CLOCKED[name]
        fn = clocked(name, clock)
    elif name in FUNCTIONS:
        low, high, fn = FUNCTIONS[name]
    else:
        raise EvalSyntaxError(f"unsupported eval function {name}() in {source!r}")
    if not low <= len(args) <= high:
        raise EvalSyntaxError(f"{name}() takes {low}..{high} arguments, got {len(args)}")

    def call(get: Getter) -> Value:
        try:
            return fn([arg(get) for arg in args])
        except (ArithmeticError, ValueError):
            return None  # Splunk's functions return null on values they cannot handle

    return call


def compile_eval(source: str, *, clock: EvalClock | None = None) -> Compiled:
    """Compile an eval expression into a function of a field getter; time functions read
    ``clock`` (the machine's, in UTC, when none is given)."""
    if not source.strip():
        raise EvalSyntaxError("empty eval expression")
    try:
        compiled = _Parser(source, clock or EvalClock.wall()).parse()
    except RecursionError as exc:  # a hostile TA: thousands of nested parentheses or calls
        raise EvalSyntaxError(f"eval expression nested too deeply: {quoted(source)}") from exc

    def bounded(get: Getter) -> Value:
        try:
            return compiled(get)
        except RecursionError as exc:  # e.g. 1+1+...+1 a few thousand times
            raise EvalLimitError("eval expression nested too deeply to evaluate") from exc

    return bounded


def evaluate(source: str, fields: dict[str, list[str]]) -> Value:
    """Convenience for tests and one-offs: compile and run against a field dict."""
    return compile_eval(source)(fields.get)

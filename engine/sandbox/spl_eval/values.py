"""Eval values: the value model, coercions between text and numbers, comparison, arithmetic.

Values are ``None`` (null), ``str``, ``int``/``float``, ``bool`` or ``list[str]`` (multivalue).
A string that looks like a number is a number in arithmetic and comparisons; ``+`` adds numbers
and concatenates strings; null propagates; a comparison with a multivalue is true when any
value compares true.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

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


def first(value: Value) -> Scalar:
    """A multivalue's first value (null when empty); any other value as it is."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def to_number(value: Value) -> int | float | None:
    value = first(value)
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
    value = first(value)
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


def truth(value: Value) -> bool:
    """A condition's outcome: only a true boolean is true (null and text are false)."""
    return value is True


def each(value: Value, fn: Callable[[str], str | None]) -> Value:
    """``fn`` applied to a value, or to every value of a multivalue."""
    if value is None:
        return None
    if isinstance(value, list):
        out = [r for r in (fn(v) for v in value) if r is not None]
        return out or None
    text = to_text(value)
    return None if text is None else fn(text)


def values_of(value: Value) -> list[str]:
    """A value as the list of texts a multivalue function reads."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    text = to_text(value)
    return [] if text is None else [text]


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


def compare(op: str, left: Value, right: Value) -> bool | None:
    """An eval comparison: null with a null side, any-value semantics for multivalues."""
    if left is None or right is None:
        return None
    if isinstance(left, list):
        return any(compare(op, item, right) for item in left)
    if isinstance(right, list):
        return any(compare(op, left, item) for item in right)
    return compare_values(
        op,
        to_text(left) or "",
        to_text(right) or "",
        left_number=to_number(left),
        right_number=to_number(right),
    )


def arith(op: str, left: Value, right: Value) -> Value:
    """An arithmetic or concatenation operator (``+ - * / % .``) on two values."""
    if left is None or right is None:
        return None
    if op == ".":
        lt, rt = to_text(left), to_text(right)
        return None if lt is None or rt is None else lt + rt
    ln, rn = to_number(left), to_number(right)
    if ln is None or rn is None:
        lf, rf = first(left), first(right)
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

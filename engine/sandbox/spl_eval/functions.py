"""Eval functions that take evaluated arguments, as one table: name -> (min args, max args, fn).

Each function follows the Search Reference's "Evaluation functions" page; a value a function
cannot handle gives null. Functions whose arguments are evaluated lazily (if, case, coalesce,
validate, mvfilter) are built by the parser.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Callable
from urllib.parse import unquote

from engine.json_leaves import json_leaves
from engine.sandbox.kvmode import load_json
from engine.sandbox.spl_eval.regexes import like_regex, regex_of, search, substitute
from engine.sandbox.spl_eval.values import (
    Value,
    compare,
    each,
    first,
    parse_number,
    to_number,
    to_text,
    values_of,
)

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
    value = first(args[0])
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
    value = first(args[0])
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
    values = values_of(args[0])
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
    return len(values_of(args[0])) if args[0] is not None else None


def _fn_mvjoin(args: list[Value]) -> Value:
    values, delim = values_of(args[0]), to_text(args[1])
    return None if not values or delim is None else delim.join(values)


def _fn_mvappend(args: list[Value]) -> Value:
    out = [v for arg in args for v in values_of(arg)]
    if not out:
        return None
    return out[0] if len(out) == 1 else out


def _fn_mvdedup(args: list[Value]) -> Value:
    out = list(dict.fromkeys(values_of(args[0])))
    if not out:
        return None
    return out[0] if len(out) == 1 else out


def _fn_mvfind(args: list[Value]) -> Value:
    regex = regex_of(args[1])
    if regex is None:
        return None
    for index, value in enumerate(values_of(args[0])):
        if search(regex, value):
            return index
    return None


def _fn_mvzip(args: list[Value]) -> Value:
    delim = to_text(args[2]) if len(args) > 2 else ","
    left, right = values_of(args[0]), values_of(args[1])
    out = [f"{a}{delim}{b}" for a, b in zip(left, right, strict=False)]
    if not out:
        return None
    return out[0] if len(out) == 1 else out


def _fn_match(args: list[Value]) -> Value:
    text, regex = to_text(args[0]), regex_of(args[1])
    if text is None or regex is None:
        return None
    return search(regex, text)


def _fn_replace(args: list[Value]) -> Value:
    regex, replacement = regex_of(args[1]), to_text(args[2])
    if regex is None or replacement is None:
        return None
    return each(args[0], lambda text: substitute(regex, text, replacement))


def _fn_like(args: list[Value]) -> Value:
    text, pattern = to_text(args[0]), to_text(args[1])
    if text is None or pattern is None:
        return None
    return search(like_regex(pattern), text)


def _fn_in(args: list[Value]) -> Value:
    values = values_of(args[0])
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
        return each(args[0], lambda text: getattr(text, method)(chars))

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
        values = [v for a in args for v in (values_of(a) if isinstance(a, list) else [a])]
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
    return None if compare("==", args[0], args[1]) else args[0]


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
    try:
        found = [value for name, value in json_leaves(document) if name == path]
    except RecursionError:  # nested too deep to walk: as if it were not JSON
        return None
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def _is_int(value: Value) -> bool:
    number = to_number(value)
    return number is not None and float(number).is_integer()


FUNCTIONS: dict[str, tuple[int, int, Func]] = {
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
        lambda args: isinstance(first(args[0]), str) and to_number(args[0]) is None,
    ),
    "len": (1, 1, _fn_len),
    "like": (2, 2, _fn_like),
    "ln": (1, 1, _numeric(math.log)),
    "log": (1, 2, _numeric(lambda x, base=10: math.log(x, base))),
    "lower": (1, 1, lambda args: each(args[0], str.lower)),
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
    "upper": (1, 1, lambda args: each(args[0], str.upper)),
    "urldecode": (1, 1, lambda args: each(args[0], unquote)),
}

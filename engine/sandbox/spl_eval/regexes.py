"""PCRE2 helpers behind match, replace, like and mvfind (engine.regex: bounded, byte mode).

A match limit hit becomes :class:`EvalLimitError`; a pattern PCRE2 refuses is a null result.
"""

from __future__ import annotations

from engine.regex import Regex, RegexError, RegexLimitError, compile_regex
from engine.sandbox.spl_eval.values import EvalLimitError, Value, to_text


def _pcre_literal(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch == " " else "\\" + ch for ch in text)


def like_regex(pattern: str) -> Regex:
    """SQL LIKE (``%`` any run, ``_`` one character) as an anchored PCRE2 pattern."""
    parts = [".*" if ch == "%" else "." if ch == "_" else _pcre_literal(ch) for ch in pattern]
    return compile_regex("(?s)^" + "".join(parts) + "$")


def regex_of(pattern: Value) -> Regex | None:
    """A regex argument compiled (None for null or a pattern PCRE2 refuses)."""
    text = to_text(pattern)
    if text is None:
        return None
    try:
        return compile_regex(text)
    except RegexError:
        return None


def search(regex: Regex, text: str) -> bool:
    try:
        return regex.search(text) is not None
    except RegexLimitError as exc:
        raise EvalLimitError(str(exc)) from exc


def substitute(regex: Regex, text: str, replacement: str) -> str:
    """replace(): every match replaced, ``\\N`` in the replacement being group N."""
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

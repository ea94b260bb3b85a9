"""The eval tokenizer: numbers, double-quoted strings, single-quoted field names, ``$name$``
variables (INGEST_EVAL), names, keywords (case-insensitive: Splunk's own TAs write ``or``) and
operators."""

from __future__ import annotations

from dataclasses import dataclass

from engine.sandbox.spl_eval.values import EvalSyntaxError, parse_number


@dataclass(frozen=True, slots=True)
class Token:
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


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch == "$":
            # INGEST_EVAL's $pd:_raw$ / $field:name$ / $mv:name$ variables.
            end = source.find("$", i + 1)
            if end < 0 or end == i + 1:
                raise EvalSyntaxError(f"unterminated $variable$ at offset {i} in {source!r}")
            tokens.append(Token("field", source[i : end + 1], source[i + 1 : end]))
            i = end + 1
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
            tokens.append(Token(kind, source[i : j + 1], "".join(buf)))
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
            tokens.append(Token("num", text, number))
            i = j
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (source[j].isalnum() or source[j] == "_"):
                j += 1
            word = source[i:j]
            if word.upper() in _KEYWORDS:  # Splunk's own TAs write `or`/`and` in lower case
                tokens.append(Token("op", word.upper(), word))
            else:
                tokens.append(Token("name", word, word))
            i = j
        else:
            for op in _OPERATORS:
                if source.startswith(op, i):
                    tokens.append(Token("op", op))
                    i += len(op)
                    break
            else:
                raise EvalSyntaxError(f"unexpected character {ch!r} at offset {i} in {source!r}")
    tokens.append(Token("eof", ""))
    return tokens

"""searchmatch(X): "returns TRUE if the event matches the search string" (Search Reference).

The search string is the search language eventtypes use (engine.sandbox.eventtypes), matched
against the event's fields and _raw. Eval runs before eventtypes and tags are assigned, so
``eventtype=`` and ``tag=`` terms see none. A constant search string is compiled with the
expression (a bad one is a syntax error); a computed one is compiled per distinct value.
"""

from __future__ import annotations

from engine.regex import RegexLimitError
from engine.sandbox.eventtypes import (
    EventtypeSearchError,
    cached_search,
    compile_search,
    search_matches,
)
from engine.sandbox.spl_eval.values import (
    Compiled,
    EvalLimitError,
    EvalSyntaxError,
    Getter,
    Value,
    to_text,
)


def _no_fields(name: str) -> list[str] | None:
    return None


def searchmatch(args: list[Compiled], source: str) -> Compiled:
    if len(args) != 1:
        raise EvalSyntaxError(f"searchmatch() takes one search string in {source!r}")
    (search,) = args
    constant = search(_no_fields)
    if isinstance(constant, str):
        try:
            compile_search(constant)
        except EventtypeSearchError as exc:
            raise EvalSyntaxError(f"searchmatch(): {exc} in {source!r}") from exc

    def match(get: Getter) -> Value:
        text = to_text(search(get))
        predicate = None if text is None else cached_search(text)
        if predicate is None:
            return None
        try:
            return search_matches(predicate, get=get, raw=(get("_raw") or [""])[0])
        except RegexLimitError as exc:
            raise EvalLimitError(str(exc)) from exc

    return match

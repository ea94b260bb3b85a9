"""searchmatch(X): "returns TRUE if the event matches the search string" (Search Reference).

The search string is the search language eventtypes use (engine.sandbox.eventtypes), matched
against the event's fields and _raw. Eval runs before eventtypes and tags are assigned, so
``eventtype=`` and ``tag=`` terms see none. A constant search string is compiled with the
expression (a bad one is a syntax error); a computed one is compiled per distinct value.
"""

from __future__ import annotations

from functools import lru_cache

from engine.regex import RegexLimitError
from engine.sandbox.eventtypes import (
    EventtypeSearchError,
    MatchContext,
    Predicate,
    compile_search,
)
from engine.sandbox.spl_eval.values import (
    Compiled,
    EvalLimitError,
    EvalSyntaxError,
    Getter,
    Value,
    to_text,
)


@lru_cache(maxsize=256)
def _predicate(search: str) -> Predicate | None:
    try:
        return compile_search(search)
    except EventtypeSearchError:
        return None


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
        predicate = None if text is None else _predicate(text)
        if predicate is None:
            return None
        raw = get("_raw") or [""]
        context = MatchContext(
            get=get, raw=raw[0], field_tags=set(), resolve_eventtype=lambda name: False
        )
        try:
            return predicate(context)
        except RegexLimitError as exc:
            raise EvalLimitError(str(exc)) from exc

    return match

"""The search-time half of the sandbox: Splunk's "sequence of search-time operations".

Per event, in order: EXTRACT- (class names in ASCII order) -> REPORT- (classes in ASCII order,
transforms in list order) -> KV_MODE -> FIELDALIAS- -> EVAL- -> LOOKUP- -> eventtypes -> tags.
Everything a props stanza asks for is compiled once into a plan (cached per props mapping), so
applying it to 200k events does no parsing. Configuration problems (a regex PCRE2 refuses, a
missing transform, an eval that does not parse) and per-event failures (a regex over its match
limit) come back from :meth:`SearchTimeProcessor.apply` as error strings naming the setting;
the rest of the event is still processed.

FIELDALIAS: all aliases read the pre-alias values; ``AS`` overwrites the alias (and removes it
when the original field is missing), ``ASNEW`` keeps an existing alias. EVAL: all expressions
read the pre-EVAL values; a null result removes the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from engine.messages import quoted
from engine.regex import RegexLimitError
from engine.sandbox.events import Event
from engine.sandbox.eventtypes import EventtypeMatcher
from engine.sandbox.extractions import (
    DEPTH_LIMIT,
    MATCH_LIMIT,
    EventView,
    FieldSink,
    InlineExtraction,
    SearchTimeConfigError,
    Transform,
    parse_int,
    parse_transform_list,
)
from engine.sandbox.kvmode import KvMode, KvModeError
from engine.sandbox.lookups import (
    AutomaticLookup,
    LookupConfigError,
    LookupSpec,
    LookupTable,
    is_lookup_key,
)
from engine.sandbox.multikv import table_rows
from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.spl_eval.parser import compile_eval
from engine.sandbox.spl_eval.values import (
    Compiled,
    EvalLimitError,
    EvalSyntaxError,
    EvalTypeError,
    to_values,
)
from engine.sandbox.tags import TagIndex

_Built = TypeVar("_Built")


class FieldAliasError(SearchTimeConfigError):
    """A FIELDALIAS- value that is not ``<field> AS|ASNEW <alias> ...``."""


@dataclass(frozen=True, slots=True)
class FieldAlias:
    source: str
    alias: str
    only_new: bool


def _alias_words(value: str) -> list[str]:
    words: list[str] = []
    buf: list[str] = []
    in_quote = False
    for ch in value:
        if ch == '"':
            in_quote = not in_quote
            continue
        if not in_quote and (ch.isspace() or ch == ","):
            if buf:
                words.append("".join(buf))
                buf = []
            continue
        buf.append(ch)
    if buf:
        words.append("".join(buf))
    return words


def parse_field_aliases(name: str, value: str) -> list[FieldAlias]:
    words = _alias_words(value)
    if not words or len(words) % 3:
        raise FieldAliasError(f"{name} = {quoted(value)}: expected <field> AS|ASNEW <alias> ...")
    aliases: list[FieldAlias] = []
    for i in range(0, len(words), 3):
        source, keyword, alias = words[i : i + 3]
        if keyword.upper() not in ("AS", "ASNEW"):
            raise FieldAliasError(f"{name}: expected AS or ASNEW after {source!r}, got {keyword!r}")
        aliases.append(FieldAlias(source, alias, keyword.upper() == "ASNEW"))
    return aliases


@dataclass(frozen=True, slots=True)
class SearchTimePlan:
    """One props stanza's search-time operations, compiled."""

    extracts: tuple[InlineExtraction, ...]
    reports: tuple[tuple[str, Transform], ...]
    kv_mode: KvMode | None
    aliases: tuple[FieldAlias, ...]
    evals: tuple[tuple[str, Compiled], ...]
    lookups: tuple[AutomaticLookup, ...]
    errors: tuple[str, ...]
    idle: bool = field(init=False)
    """Nothing to run per event before eventtypes and tags (a stanza of index-time settings)."""

    def __post_init__(self) -> None:
        busy = (self.extracts, self.reports, self.kv_mode, self.aliases, self.evals, self.lookups)
        object.__setattr__(self, "idle", not any(busy))


def _classes(props: Mapping[str, str], prefix: str) -> list[tuple[str, str, str]]:
    """(setting name, class, value) for ``<prefix><class>`` settings, classes in ASCII order."""
    found = [
        (key, key[len(prefix) :], value) for key, value in props.items() if key.startswith(prefix)
    ]
    return sorted(found, key=lambda item: item[1])


class SearchTimeProcessor:
    """Applies a TA's search-time knowledge (props, transforms, eventtypes, tags, lookups)."""

    def __init__(
        self,
        *,
        transforms: Mapping[str, Mapping[str, str]],
        eventtypes: Mapping[str, Mapping[str, str]],
        tags: Mapping[str, Mapping[str, str]],
        lookup_files: Mapping[str, bytes],
        clock: EvalClock | None = None,
    ) -> None:
        self._clock = clock or EvalClock.wall()
        self._transforms = transforms
        self._lookup_files = lookup_files
        self._transform_cache: dict[str, Transform | str] = {}
        self._table_cache: dict[str, LookupTable | str] = {}
        self._eventtypes = EventtypeMatcher.build(eventtypes)
        self._tags = TagIndex.build(tags)
        # Without eventtypes or field tags no event gets any (events start with none).
        self._has_knowledge = bool(self._eventtypes.eventtypes or self._tags.by_field)
        self._plans_by_id: dict[int, tuple[Mapping[str, str], SearchTimePlan]] = {}
        self._plans_by_items: dict[frozenset[tuple[str, str]], SearchTimePlan] = {}

    @property
    def config_errors(self) -> list[str]:
        """Problems in eventtypes.conf and tags.conf (they concern every event alike)."""
        return [*self._eventtypes.errors, *self._tags.errors]

    # ------------------------------------------------------------------ compilation

    def plan(self, props: Mapping[str, str]) -> SearchTimePlan:
        cached = self._plans_by_id.get(id(props))
        if cached is not None and cached[0] is props:
            return cached[1]
        key = frozenset(props.items())
        plan = self._plans_by_items.get(key)
        if plan is None:
            plan = self._compile(props)
            self._plans_by_items[key] = plan
        self._plans_by_id[id(props)] = (props, plan)
        return plan

    def _transform(self, name: str) -> Transform | str:
        return self._from_transforms(self._transform_cache, name, "transform", Transform.parse)

    def _table(self, name: str) -> LookupTable | str:
        return self._from_transforms(
            self._table_cache,
            name,
            "lookup",
            lambda name, stanza: LookupTable.load(name, stanza, self._lookup_files),
        )

    def _from_transforms(
        self,
        cache: dict[str, _Built | str],
        name: str,
        kind: str,
        build: Callable[[str, Mapping[str, str]], _Built],
    ) -> _Built | str:
        """The transforms.conf stanza ``name`` built once; a problem with it is kept as its
        message, so every event that uses it reports the same config error without rebuilding."""
        cached = cache.get(name)
        if cached is None:
            stanza = self._transforms.get(name)
            if stanza is None:
                cached = f"{kind} {name!r} is not defined in transforms.conf"
            else:
                try:
                    cached = build(name, stanza)
                except SearchTimeConfigError as exc:
                    cached = str(exc)
            cache[name] = cached
        return cached

    def _compile(self, props: Mapping[str, str]) -> SearchTimePlan:
        errors: list[str] = []
        try:
            match_limit = parse_int(props.get("MATCH_LIMIT"), default=MATCH_LIMIT)
            depth_limit = parse_int(props.get("DEPTH_LIMIT"), default=DEPTH_LIMIT)
        except SearchTimeConfigError as exc:
            errors.append(f"MATCH_LIMIT/DEPTH_LIMIT: {exc}; using the defaults")
            match_limit, depth_limit = MATCH_LIMIT, DEPTH_LIMIT
        extracts: list[InlineExtraction] = []
        for key, _, value in _classes(props, "EXTRACT-"):
            try:
                extracts.append(
                    InlineExtraction.parse(
                        key, value, match_limit=match_limit, depth_limit=depth_limit
                    )
                )
            except SearchTimeConfigError as exc:
                errors.append(f"{key}: {exc}")
        reports: list[tuple[str, Transform]] = []
        for key, _, value in _classes(props, "REPORT-"):
            for name in parse_transform_list(value):
                transform = self._transform(name)
                if isinstance(transform, str):
                    errors.append(f"{key}: {transform}")
                else:
                    reports.append((key, transform))
        kv_mode: KvMode | None = None
        try:
            kv_mode = KvMode.from_props(props)
        except KvModeError as exc:
            errors.append(str(exc))
        if kv_mode is not None and kv_mode.mode == "none":
            kv_mode = None  # nothing to run per event
        aliases: list[FieldAlias] = []
        for key, _, value in _classes(props, "FIELDALIAS-"):
            try:
                aliases.extend(parse_field_aliases(key, value))
            except FieldAliasError as exc:
                errors.append(str(exc))
        evals: list[tuple[str, Compiled]] = []
        for key, field_name, value in _classes(props, "EVAL-"):
            try:
                evals.append((field_name, compile_eval(value, clock=self._clock)))
            except EvalSyntaxError as exc:
                errors.append(f"{key}: {exc}")
        return SearchTimePlan(
            extracts=tuple(extracts),
            reports=tuple(reports),
            kv_mode=kv_mode,
            aliases=tuple(aliases),
            evals=tuple(evals),
            lookups=tuple(self._compile_lookups(props, errors)),
            errors=tuple(errors),
        )

    def _compile_lookups(
        self, props: Mapping[str, str], errors: list[str]
    ) -> list[AutomaticLookup]:
        found = [
            (cls, key, value)
            for key, value in props.items()
            if (cls := is_lookup_key(key)) is not None
        ]
        lookups: list[AutomaticLookup] = []
        for _, key, value in sorted(found):
            try:
                spec = LookupSpec.parse(value)
                table = self._table(spec.table)
                if isinstance(table, str):
                    raise LookupConfigError(table)
                lookups.append(AutomaticLookup.build(key, spec, table))
            except SearchTimeConfigError as exc:
                errors.append(f"{key}: {exc}")
        return lookups

    # ------------------------------------------------------------------ per event

    def apply(self, event: Event, props: Mapping[str, str]) -> list[str]:
        """:meth:`run` for callers that look at the event itself; returns the errors."""
        return self.run(event, props)[1]

    def run(self, event: Event, props: Mapping[str, str]) -> tuple[list[Event], list[str]]:
        """Run the search-time sequence on ``event`` (mutating it): the results, and errors.

        The results are the event itself, or with KV_MODE = multi one result per table row.
        """
        plan = self.plan(props)
        errors = list(plan.errors)
        if plan.idle and not self._has_knowledge:
            return [event], errors
        view = EventView(event)
        touched: set[str] = set()
        if plan.extracts:
            inline_sink = FieldSink(event, touched)  # first EXTRACT (ASCII order) to set wins
            for extract in plan.extracts:
                try:
                    extract.apply(view, inline_sink)
                except RegexLimitError as exc:
                    errors.append(f"{extract.name}: {exc}")
        for key, transform in plan.reports:
            sink = FieldSink(
                event,
                touched,
                accumulate=transform.mv_add,
                append_existing=transform.mv_add,
                keep_empty=transform.keep_empty,
            )
            try:
                transform.apply(view, sink)
            except RegexLimitError as exc:
                errors.append(f"{key} ({transform.name}): {exc}")
        if plan.kv_mode is None:
            self._after_kv(plan, event, view, errors)
            return [event], errors
        if plan.kv_mode.mode != "multi":
            plan.kv_mode.apply(event.raw, FieldSink(event, touched, accumulate=True))
            self._after_kv(plan, event, view, errors)
            return [event], errors
        results = table_rows(event)
        if not results:
            self._after_kv(plan, event, view, errors)
            return [event], errors
        for result in results:
            self._after_kv(plan, result, EventView(result), errors)
        return results, errors

    def _after_kv(
        self, plan: SearchTimePlan, event: Event, view: EventView, errors: list[str]
    ) -> None:
        """FIELDALIAS, EVAL, LOOKUP, eventtypes and tags on one result."""
        if plan.aliases:
            self._apply_aliases(plan.aliases, event, view)
        if plan.evals:
            self._apply_evals(plan.evals, event, view, errors)
        for lookup in plan.lookups:
            try:
                lookup.apply(event, view)
            except RegexLimitError as exc:
                errors.append(f"{lookup.name}: {exc}")
        if self._has_knowledge:
            self._apply_knowledge(event, view)

    @staticmethod
    def _apply_aliases(aliases: tuple[FieldAlias, ...], event: Event, view: EventView) -> None:
        before = {alias.source: view.get(alias.source) for alias in aliases}
        fields = event.fields
        for alias in aliases:
            values = before[alias.source]
            if alias.only_new:
                if values and not view.get(alias.alias):
                    fields[alias.alias] = list(values)
            elif values:
                fields[alias.alias] = list(values)
            else:
                fields.pop(alias.alias, None)

    @staticmethod
    def _apply_evals(
        evals: tuple[tuple[str, Compiled], ...], event: Event, view: EventView, errors: list[str]
    ) -> None:
        results: list[tuple[str, list[str] | None]] = []
        for name, expression in evals:
            try:
                results.append((name, to_values(expression(view.get))))
            except (EvalLimitError, EvalTypeError) as exc:
                errors.append(f"EVAL-{name}: {exc}")
        for name, values in results:
            if values is None:
                event.fields.pop(name, None)
            else:
                event.fields[name] = values

    def _apply_knowledge(self, event: Event, view: EventView) -> None:
        """Field tags (``tag::<field>``, set first so eventtype searches can use them), then
        eventtypes, their tags (``tag::eventtype``) and ``tag``, the union of all."""
        by_field = self._tags.for_fields(view.get)
        for name, found in by_field.items():
            event.fields[f"tag::{name}"] = sorted(found)
        field_tags = set().union(*by_field.values())
        names = self._eventtypes.match(get=view.get, raw=event.raw, field_tags=field_tags)
        eventtype_tags = self._tags.for_eventtypes(names)
        tags = sorted(field_tags | eventtype_tags)
        event.eventtypes = names
        event.tags = tags
        if names:
            event.fields["eventtype"] = list(names)
        if eventtype_tags:
            event.fields["tag::eventtype"] = sorted(eventtype_tags)
        if tags:
            event.fields["tag"] = list(tags)

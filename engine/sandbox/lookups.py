"""Automatic lookups: props.conf LOOKUP-<class> over CSV lookup tables from transforms.conf.

``LOOKUP-<class> = <transform> <match_field> [AS <event_field>]... [OUTPUT|OUTPUTNEW
<out_field> [AS <event_field>]...]`` (the LOOKUP prefix is case-insensitive and may be written
LOOKUP_, LOOKUP or lookup). Without an output list every column except the match fields is
output. OUTPUT overwrites; an event that has all match fields but no matching row loses its
output fields; OUTPUTNEW writes only fields the event does not have. The transform gives
``filename``, ``case_sensitive_match`` (default true), ``match_type = WILDCARD(f), CIDR(f)``,
``max_matches`` (default 1000; several matching rows give multivalued outputs in file order),
``min_matches`` (default 0) and ``default_match`` (used to pad up to min_matches).
A multivalued event field matches when any of its values matches. CSV cells are trimmed of
surrounding spaces (lookup files written by hand often pad them).
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product

from engine.messages import quoted
from engine.regex import Regex, compile_regex
from engine.sandbox.events import Event
from engine.sandbox.extractions import EventView, SearchTimeConfigError, parse_bool, parse_int

DEFAULT_MAX_MATCHES = 1000


class LookupConfigError(SearchTimeConfigError):
    """A LOOKUP- setting or lookup definition that cannot be used."""


def is_lookup_key(key: str) -> str | None:
    """The class name if ``key`` is an automatic lookup setting, else None."""
    if key[:6].lower() != "lookup":
        return None
    rest = key[6:]
    return rest[1:] if rest[:1] in ("-", "_") else rest


@dataclass(frozen=True, slots=True)
class LookupSpec:
    """A parsed LOOKUP- value."""

    table: str
    inputs: tuple[tuple[str, str], ...]  # (lookup column, event field)
    outputs: tuple[tuple[str, str], ...]  # (lookup column, event field); empty = all others
    output_new: bool

    @classmethod
    def parse(cls, value: str) -> LookupSpec:
        words = [w for w in value.replace(",", " ").split() if w]
        if len(words) < 2:
            raise LookupConfigError(f"lookup {quoted(value)} needs a table and a match field")
        table, rest = words[0], words[1:]
        mode_at = next(
            (i for i, w in enumerate(rest) if w.upper() in ("OUTPUT", "OUTPUTNEW")), len(rest)
        )
        inputs = _pairs(rest[:mode_at], value)
        if not inputs:
            raise LookupConfigError(f"lookup {quoted(value)} has no match field")
        outputs = _pairs(rest[mode_at + 1 :], value) if mode_at < len(rest) else []
        output_new = mode_at < len(rest) and rest[mode_at].upper() == "OUTPUTNEW"
        return cls(table, tuple(inputs), tuple(outputs), output_new)


def _pairs(words: list[str], source: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        name = words[i]
        if i + 1 < len(words) and words[i + 1].upper() == "AS":
            if i + 2 >= len(words):
                raise LookupConfigError(f"lookup {source!r}: AS without a field name")
            pairs.append((name, words[i + 2]))
            i += 3
        else:
            pairs.append((name, name))
            i += 1
    return pairs


def _match_types(value: str) -> dict[str, str]:
    """``WILDCARD(a), CIDR(b)`` -> {"a": "WILDCARD", "b": "CIDR"}."""
    types: dict[str, str] = {}
    for item in value.split(")"):
        kind, sep, field = item.strip(" ,").partition("(")
        if not sep:
            continue
        kind = kind.strip().upper()
        if kind not in ("WILDCARD", "CIDR", "EXACT"):
            raise LookupConfigError(f"unknown match_type {kind!r}")
        types[field.strip()] = kind
    return types


def _wildcard_regex(pattern: str, *, case_sensitive: bool) -> Regex:
    parts = [
        ".*" if ch == "*" else ch if ch.isalnum() or ch == " " else "\\" + ch for ch in pattern
    ]
    return compile_regex(("" if case_sensitive else "(?i)") + "(?s)^" + "".join(parts) + "$")


Matcher = Callable[[str], bool]


def _matcher(kind: str, cell: str, *, case_sensitive: bool) -> Matcher:
    if kind == "WILDCARD" and "*" in cell:
        regex = _wildcard_regex(cell, case_sensitive=case_sensitive)
        return lambda value: regex.search(value) is not None
    if kind == "CIDR":
        try:
            network = ipaddress.ip_network(cell.strip(), strict=False)
        except ValueError:
            return lambda value: False

        def in_network(value: str) -> bool:
            try:
                ip = ipaddress.ip_address(value.strip())
            except ValueError:
                return False
            return ip.version == network.version and ip in network

        return in_network
    if case_sensitive:
        return lambda value: value == cell
    folded = cell.casefold()
    return lambda value: value.casefold() == folded


@dataclass(frozen=True, slots=True)
class LookupTable:
    """A CSV lookup table with its transforms.conf matching rules."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    case_sensitive: bool
    match_types: Mapping[str, str]
    max_matches: int
    min_matches: int
    default_match: str

    def normalize(self, value: str) -> str:
        return value if self.case_sensitive else value.casefold()

    @classmethod
    def load(cls, name: str, stanza: Mapping[str, str], files: Mapping[str, bytes]) -> LookupTable:
        filename = stanza.get("filename", "").strip()
        if not filename:
            kind = stanza.get("external_type") or ("kvstore" if stanza.get("collection") else "")
            detail = f" ({kind} lookups are not supported)" if kind else ""
            raise LookupConfigError(f"lookup {name}: no filename{detail}")
        data = files.get(filename)
        if data is None:
            data = files.get(filename.rsplit("/", 1)[-1])
        if data is None:
            raise LookupConfigError(f"lookup {name}: file {filename!r} not found")
        text = data.decode("utf-8-sig", "replace")
        reader = csv.reader(io.StringIO(text), skipinitialspace=True)
        header = next(reader, None)
        if not header:
            raise LookupConfigError(f"lookup {name}: {filename} has no header row")
        columns = tuple(col.strip() for col in header)
        rows = tuple(
            tuple(row[i].strip() if i < len(row) else "" for i in range(len(columns)))
            for row in reader
            if row
        )
        max_matches = parse_int(stanza.get("max_matches"), default=DEFAULT_MAX_MATCHES)
        return cls(
            name=name,
            columns=columns,
            rows=rows,
            case_sensitive=parse_bool(stanza.get("case_sensitive_match"), default=True),
            match_types=_match_types(stanza.get("match_type", "")),
            max_matches=max(1, min(max_matches, DEFAULT_MAX_MATCHES)),
            min_matches=max(0, parse_int(stanza.get("min_matches"), default=0)),
            default_match=stanza.get("default_match", ""),
        )


@dataclass(frozen=True, slots=True)
class AutomaticLookup:
    """One LOOKUP-<class> bound to its table.

    Exact-match columns are indexed once (a dict from their values to row numbers), so a large
    table costs a dict probe per event; WILDCARD and CIDR columns are checked row by row on the
    candidates.
    """

    name: str
    spec: LookupSpec
    table: LookupTable
    outputs: tuple[tuple[int, str], ...]
    exact: tuple[int, ...]  # positions in spec.inputs matched exactly
    fuzzy: tuple[int, ...]  # positions matched by WILDCARD/CIDR
    row_index: Mapping[tuple[str, ...], list[int]]
    row_matchers: tuple[tuple[Matcher, ...], ...]  # per row, one matcher per fuzzy position

    @classmethod
    def build(cls, name: str, spec: LookupSpec, table: LookupTable) -> AutomaticLookup:
        index = {col: i for i, col in enumerate(table.columns)}
        missing = [col for col, _ in spec.inputs if col not in index]
        if missing:
            raise LookupConfigError(f"{name}: lookup {table.name} has no column {missing[0]!r}")
        inputs = tuple(index[col] for col, _ in spec.inputs)
        if spec.outputs:
            outputs = tuple((index[col], dest) for col, dest in spec.outputs if col in index)
        else:
            used = set(inputs)
            outputs = tuple((i, col) for i, col in enumerate(table.columns) if i not in used)
        kinds = [table.match_types.get(table.columns[col], "EXACT") for col in inputs]
        exact = tuple(k for k, kind in enumerate(kinds) if kind == "EXACT")
        fuzzy = tuple(k for k, kind in enumerate(kinds) if kind != "EXACT")
        norm = table.normalize
        row_index: dict[tuple[str, ...], list[int]] = {}
        for number, row in enumerate(table.rows):
            key = tuple(norm(row[inputs[k]]) for k in exact)
            row_index.setdefault(key, []).append(number)
        matchers = tuple(
            tuple(
                _matcher(kinds[k], row[inputs[k]], case_sensitive=table.case_sensitive)
                for k in fuzzy
            )
            for row in table.rows
        )
        return cls(name, spec, table, outputs, exact, fuzzy, row_index, matchers)

    def _candidates(self, event_values: list[list[str]]) -> Iterable[int]:
        if not self.exact:
            return range(len(self.table.rows))
        norm = self.table.normalize
        found: set[int] = set()
        for combo in product(*(event_values[k] for k in self.exact)):
            found.update(self.row_index.get(tuple(norm(v) for v in combo), ()))
        return sorted(found)

    def apply(self, event: Event, view: EventView) -> None:
        event_values: list[list[str]] = []
        for _, field in self.spec.inputs:
            values = view.get(field)
            if not values:
                return
            event_values.append(values)
        matched: list[tuple[str, ...]] = []
        for number in self._candidates(event_values):
            matchers = self.row_matchers[number]
            if all(
                any(match(v) for v in event_values[k])
                for match, k in zip(matchers, self.fuzzy, strict=True)
            ):
                matched.append(self.table.rows[number])
                if len(matched) >= self.table.max_matches:
                    break
        fields = event.fields
        for col, dest in self.outputs:
            if self.spec.output_new and view.get(dest):
                continue
            values = [row[col] for row in matched if row[col] != ""]
            if len(matched) < self.table.min_matches:
                values += [self.table.default_match] * (self.table.min_matches - len(matched))
                values = [v for v in values if v != ""]
            if values:
                fields[dest] = values
            elif not self.spec.output_new:
                fields.pop(dest, None)

"""Delimited data with a header (CSV/TSV/PSV, W3C extended, Zeek TSV) at search time.

One anchored REPORT transform reads the columns in order (``name::$n``), so the same TA works
whether the data arrives through a forwarder or a HEC and no header line has to be present at
index time. Header names come from the format guess, or from ``#fields``/``#Fields:`` lines.
Zeek marks unset cells with ``-`` and empty sets with ``(empty)``; those are left as written
and reported as a caveat.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from engine.generator.fields.builder import PlanBuilder
from engine.generator.fields.naming import clean_header, unique_name
from engine.generator.fields.tokens import HTTP_METHODS, TRANSPORTS, is_port, kinds

_QUOTED = {",", ";", "|"}
SEPARATORS = (",", "\t", ";", "|")
MIN_COLUMNS = 4
MIN_ROW_SHARE = 0.9
_HEADER_CELL = re.compile(r"#?[A-Za-z_@][\w.\- ()\[\]/]{0,63}")
_ADDRESS_KINDS = frozenset({"ipv4", "ipv6"})


@dataclass(frozen=True)
class Table:
    """Delimited rows found in events that no format guess called delimited."""

    separator: str
    width: int
    header: tuple[str, ...]
    """Column names from a header row (``#`` or not); empty when the rows have none."""


def split_row(line: str, separator: str) -> list[str]:
    """One row's cells (double quotes group a cell that holds the separator)."""
    try:
        return next(csv.reader([line], delimiter=separator))
    except (csv.Error, StopIteration):
        return []


def _header_cells(cells: Sequence[str]) -> bool:
    names = [cell.strip() for cell in cells]
    return (
        all(_HEADER_CELL.fullmatch(name) for name in names)
        and len(set(names)) == len(names)
        and not kinds(n.lstrip("#") for n in names) & {"ipv4", "ipv6", "int", "float", "host"}
    )


def _structured(line: str) -> bool:
    """A lone line is a table row when nothing but separators stands outside its quoted cells
    (``"a","b c",7``) or when it has many separators: free text has neither."""
    outside = re.sub(r'"[^"]*"', "", line)
    if outside and not re.search(r"[\s\w]", outside.replace("\t", "")):
        return True
    return any(line.count(separator) >= 2 * MIN_COLUMNS for separator in SEPARATORS)


def _whole_cells(rows: Sequence[str], separator: str) -> bool:
    """Cells of a real table close what they open (brackets): text cut at a separator that
    also occurs inside ``{a, b}`` or ``f(x, y)`` does not."""
    cells = [cell for row in rows for cell in split_row(row, separator)]
    broken = sum(
        1 for cell in cells if any(cell.count(o) != cell.count(c) for o, c in ("()", "[]", "{}"))
    )
    return broken <= 0.1 * len(cells)


def sniff_table(lines: Sequence[str]) -> Table | None:
    """The separator and width shared by most lines (at least MIN_COLUMNS cells), and the
    header row if the first line is one; None for lines that are not a table."""
    rows = [line for line in lines if line.strip()]
    if not rows or (len(rows) < 2 and not _structured(rows[0])):
        return None
    best: Table | None = None
    best_score = 0
    for separator in SEPARATORS:
        first = split_row(rows[0], separator)
        header = tuple(c.strip().lstrip("#").strip() for c in first) if _header_cells(first) else ()
        body = rows[1:] if header else rows
        counts = Counter(len(split_row(row, separator)) for row in body)
        if not counts:
            continue
        width, same = counts.most_common(1)[0]
        if width < MIN_COLUMNS or same < MIN_ROW_SHARE * len(body):
            continue
        if not _whole_cells(body, separator):
            continue
        if header and len(header) != width:
            header = ()
        if width * same > best_score:
            best, best_score = Table(separator, width, header), width * same
    return best


def column_names(rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """Names for header-less columns: a role where the values show one, else ``column_<n>``.

    Addresses take the sides in order (the source comes first in the records of every
    connection log), a port column right after an address is that side's port.
    """
    used: set[str] = set()
    names: list[str] = []
    sides = iter(("src", "dest"))
    previous_side: str | None = None
    for index in range(width):
        values = [r[index].strip() for r in rows if index < len(r)]
        values = [v for v in values if v not in ("", "-")]
        found = kinds(values)
        name: str | None = None
        side, previous_side = previous_side, None
        if values and found <= _ADDRESS_KINDS:
            name = previous_side = next(sides, None)
        elif values and side and found == {"int"} and all(is_port(v) for v in values):
            name = f"{side}_port"
        elif values and all(v.lower() in TRANSPORTS for v in values):
            name = "transport"
        elif values and all(v in HTTP_METHODS for v in values):
            name = "http_method"
        elif values and found == {"url"}:
            name = "url"
        names.append(unique_name(name or f"column_{index + 1}", used))
    return names


def header_from_lines(lines: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """Column names and separator declared by ``#fields`` (Zeek) or ``#Fields:`` (W3C) lines."""
    separator: str | None = None
    for line in lines:
        if line.startswith("#separator "):
            raw = line.split(" ", 1)[1].strip()
            separator = raw.encode().decode("unicode_escape") if raw.startswith("\\x") else raw
        elif line.startswith("#fields"):
            sep = separator or "\t"
            return tuple(line.split(sep)[1:]), sep
        elif line.startswith("#Fields:"):
            return tuple(line.split()[1:]), " "
    return (), separator


def _column(delimiter: str, quoted: bool) -> str:
    escaped = "\\t" if delimiter == "\t" else f"\\{delimiter}"
    if delimiter == " ":
        return r'(?:"([^"]*)"|(\S*))' if quoted else r"(\S*)"
    if quoted:
        return rf'(?:"((?:[^"]|"")*)"|([^{escaped}"]*))'
    return rf"([^{escaped}\n]*)"


def plan_delimited(
    builder: PlanBuilder,
    header: Sequence[str],
    delimiter: str,
    *,
    zeek: bool,
    w3c: bool,
    prefix: str = "^",
    rows: Sequence[Sequence[str]] = (),
) -> None:
    """A REPORT transform that names each column; KV_MODE=none so nothing else guesses.

    ``prefix``: what comes before the first column (a syslog header), anchored; ``rows``: the
    cells of some sampled rows (default: the events split at the delimiter), for examples.
    """
    quoted = delimiter in _QUOTED or w3c
    names = [name if zeek else clean_header(name) for name in header]
    sep = "\\t" if delimiter == "\t" else r"\s+" if delimiter == " " else f"\\{delimiter}"
    column = _column(delimiter, quoted)
    header_row = "".join(f"\\{c}" if not c.isalnum() else c for c in delimiter.join(header))
    regex = f"{prefix}(?!#|{header_row}$)" + sep.join([column] * len(names))
    per_column = 2 if quoted else 1
    fmt = " ".join(
        f"{name}::${i * per_column + k + 1}"
        for i, name in enumerate(names)
        for k in range(per_column)
    )
    stanza = "delimited_columns"
    builder.set("KV_MODE", "none")
    examples: dict[str, list[str]] = {name: [] for name in names}
    if not builder.matches(regex):
        builder.caveats.append("The column pattern matched none of the sampled events.")
    if not rows:
        lines = [line for line in builder.events if line and not line.startswith("#")]
        rows = [split_row(line, delimiter) if delimiter != " " else line.split() for line in lines]
    titles = [name.strip().lstrip("#").strip() for name in header]
    rows = [cells for cells in rows if [c.strip().lstrip("#").strip() for c in cells] != titles]
    for cells in rows[:20]:
        for name, cell in zip(names, cells, strict=False):
            value = cell.strip('"') if quoted else cell
            if value not in ("", "-", "(empty)"):
                examples[name].append(value)
    builder.report("columns", stanza, {"REGEX": regex, "FORMAT": fmt}, examples)
    if zeek:
        builder.caveats.append("Zeek unset (-) and empty ((empty)) cells are extracted as written.")


def plan_table(builder: PlanBuilder, table: Table, lines: Sequence[str], prefix: str = "^") -> None:
    """Columns of a sniffed table (``lines``: the rows, after ``prefix`` when there is one)."""
    rows = [split_row(line, table.separator) for line in lines if line.strip()]
    rows = [row for row in rows if len(row) == table.width]
    if table.header:
        rows = [row for row in rows if tuple(c.strip() for c in row) != table.header]
    names = list(table.header) or column_names(rows, table.width)
    plan_delimited(builder, names, table.separator, zeek=False, w3c=False, prefix=prefix, rows=rows)

"""Delimited data with a header (CSV/TSV/PSV, W3C extended, Zeek TSV) at search time.

One anchored REPORT transform reads the columns in order (``name::$n``), so the same TA works
whether the data arrives through a forwarder or a HEC and no header line has to be present at
index time. Header names come from the format guess, or from ``#fields``/``#Fields:`` lines.
Zeek marks unset cells with ``-`` and empty sets with ``(empty)``; those are left as written
and reported as a caveat.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.generator.fields.builder import PlanBuilder
from engine.generator.fields.naming import clean_header

_QUOTED = {",", ";", "|"}


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
    builder: PlanBuilder, header: Sequence[str], delimiter: str, *, zeek: bool, w3c: bool
) -> None:
    """A REPORT transform that names each column; KV_MODE=none so nothing else guesses."""
    quoted = delimiter in _QUOTED or w3c
    names = [name if zeek else clean_header(name) for name in header]
    sep = "\\t" if delimiter == "\t" else r"\s+" if delimiter == " " else f"\\{delimiter}"
    column = _column(delimiter, quoted)
    header_row = "".join(f"\\{c}" if not c.isalnum() else c for c in delimiter.join(header))
    regex = f"^(?!#|{header_row}$)" + sep.join([column] * len(names))
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
    rows = [line for line in builder.events if line and not line.startswith("#")]
    for row in rows[:20]:
        cells = row.split(delimiter) if delimiter != " " else row.split()
        for name, cell in zip(names, cells, strict=False):
            value = cell.strip('"') if quoted else cell
            if value not in ("", "-", "(empty)"):
                examples[name].append(value)
    builder.report("columns", stanza, {"REGEX": regex, "FORMAT": fmt}, examples)
    if zeek:
        builder.caveats.append("Zeek unset (-) and empty ((empty)) cells are extracted as written.")

"""Parse and render Splunk ``.conf`` files with the semantics splunkd applies.

Why not ``addonfactory-splunk-conf-parser-lib`` (``TABConfigParser``)? It is a configparser
subclass and inherits behaviour Splunk does not have: ``;`` after a space starts an inline
comment (it cuts regexes such as ``(?<a>x) ;``), ``key: value`` is accepted as an assignment,
an indented line continues the previous value, lines starting with ``*``, ``;`` or ``rem`` are
comments, ``[DEFAULT]`` is inherited by every stanza, a continued line is re-joined with its
leading whitespace stripped, and it keeps no line numbers (the linter reports ``file:line``).
``tests/unit/engine/conf/test_parse.py`` checks that both parsers agree on files that use none
of these differences.

Splunk's rules as implemented here:

- ``[name]`` starts a stanza; a stanza that appears again is merged into the first one.
- ``key = value``: key and value are trimmed; keys and stanza names are case-sensitive; the
  last assignment of a key wins (the key keeps the position of its first assignment).
- ``#`` starts a comment only at the beginning of a line (leading whitespace allowed); a ``#``
  inside a value is part of the value.
- A line ending in a backslash continues on the next line: the backslash is dropped and the
  line break is kept in the value (how multi-line searches and regexes are stored).
- Settings before the first stanza header belong to ``[default]``.
- Lines that are none of the above are ignored by Splunk; they are kept in
  :attr:`ConfFile.invalid_lines` so the linter can report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.messages import quoted

DEFAULT_STANZA = "default"


class ConfRenderError(ValueError):
    """A value or stanza name that cannot be written to a ``.conf`` file faithfully."""


@dataclass
class Stanza:
    """One ``[name]`` block; ``line``/``key_lines``: 1-based source lines (0: not from a file).

    After layering (``local/`` over ``default/``), ``path``/``key_paths`` name the file a
    stanza or key came from when it is not the :class:`ConfFile`'s own path.
    """

    name: str
    settings: dict[str, str] = field(default_factory=dict)
    line: int = 0
    key_lines: dict[str, int] = field(default_factory=dict)
    path: str = ""
    key_paths: dict[str, str] = field(default_factory=dict)


@dataclass
class ConfFile:
    """A parsed ``.conf`` file: stanzas in file order."""

    path: str = "<conf>"
    stanzas: dict[str, Stanza] = field(default_factory=dict)
    invalid_lines: list[tuple[int, str]] = field(default_factory=list)

    def get(self, stanza: str) -> dict[str, str]:
        """The settings of ``stanza`` (empty if the stanza is absent)."""
        found = self.stanzas.get(stanza)
        return dict(found.settings) if found else {}

    def names(self) -> list[str]:
        return list(self.stanzas)

    def set(self, stanza: str, key: str, value: str) -> None:
        """Set ``key`` in ``stanza``, creating the stanza at the end if needed."""
        self.stanzas.setdefault(stanza, Stanza(stanza)).settings[key] = value

    def __contains__(self, stanza: object) -> bool:
        return stanza in self.stanzas

    def line_of(self, stanza: str, key: str | None = None) -> int:
        """Source line of a stanza header or of one of its keys (0 when unknown)."""
        return self.location(stanza, key)[1]

    def location(self, stanza: str, key: str | None = None) -> tuple[str, int]:
        """(file, line) of a stanza header or of one of its keys (line 0 when unknown)."""
        found = self.stanzas.get(stanza)
        if found is None:
            return self.path, 0
        stanza_path = found.path or self.path
        if key is None or key not in found.key_lines:
            return stanza_path, found.line
        return found.key_paths.get(key, stanza_path), found.key_lines[key]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash-continued physical lines; each logical line keeps its first line number."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, physical in enumerate(text.split("\n"), start=1):
        line = physical.removesuffix("\r")
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        out.append((start, "\n".join(pending)))
        pending = []
    if pending:
        out.append((start, "\n".join(pending)))
    return out


def parse_conf(text: str, *, path: str = "<conf>") -> ConfFile:
    """Parse ``text`` as splunkd reads a ``.conf`` file."""
    conf = ConfFile(path=path)
    current: Stanza | None = None
    for number, line in _logical_lines(text.removeprefix("\ufeff")):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]") and "\n" not in stripped:
            name = stripped[1:-1]
            current = conf.stanzas.get(name)
            if current is None:
                current = conf.stanzas[name] = Stanza(name, line=number)
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            conf.invalid_lines.append((number, line))
            continue
        if current is None:
            current = conf.stanzas.get(DEFAULT_STANZA)
            if current is None:
                current = conf.stanzas[DEFAULT_STANZA] = Stanza(DEFAULT_STANZA, line=number)
        current.settings[key] = value.strip()  # the last assignment wins, first position kept
        current.key_lines[key] = number
    return conf


def _render_value(stanza: str, key: str, value: str) -> str:
    if value != value.strip():
        raise ConfRenderError(
            f"[{stanza}] {key}: leading or trailing whitespace in {quoted(value)} would be trimmed"
        )
    if value.endswith("\\"):
        # A trailing space stops the backslash from reading as a continuation; parsing trims it.
        value += " "
    return value.replace("\n", "\\\n")


def _check_name(stanza: str, key: str | None = None) -> None:
    if key is None:
        if any(c in stanza for c in "\r\n"):
            raise ConfRenderError(f"stanza name {stanza!r} cannot be written to a .conf file")
        return
    bad = not key or key != key.strip() or key.startswith(("#", "[")) or "=" in key
    if bad or any(c in key for c in "\r\n"):
        raise ConfRenderError(f"[{stanza}] key {key!r} cannot be written to a .conf file")


def render_conf(conf: ConfFile) -> str:
    """Write ``conf`` so that :func:`parse_conf` reads back the same stanzas and settings."""
    blocks: list[str] = []
    for stanza in conf.stanzas.values():
        _check_name(stanza.name)
        lines = [f"[{stanza.name}]"]
        for key, value in stanza.settings.items():
            _check_name(stanza.name, key)
            rendered = _render_value(stanza.name, key, value)
            lines.append(f"{key} = {rendered}" if rendered else f"{key} =")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)

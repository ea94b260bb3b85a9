"""Index-time rewrites: TRANSFORMS-<class> (transforms.conf) and SEDCMD-<class> (props.conf).

transforms.conf.spec, index time: REGEX (required) runs over the first LOOKAHEAD (4096)
characters of SOURCE_KEY (default _raw); FORMAT (default ``$1``) with ``$n`` group references
goes to DEST_KEY: ``queue`` (nullQueue drops, indexQueue keeps), ``MetaData:Sourcetype`` /
``MetaData:Host`` / ``MetaData:Source`` (``sourcetype::x``...), ``_raw``, ``_meta``; with
WRITE_META = true and no other DEST_KEY, FORMAT's ``name::value`` pairs become indexed fields
(REPEAT_MATCH repeats after each match). DEFAULT_VALUE is written when REGEX does not match.
Classes apply in ASCII order of their names, transforms of one class in list order; then
SEDCMD-<class> (ASCII order) edits _raw with space-separated ``s/regex/replacement/flags``
(flags: g, or N for the N-th match) and ``y/abc/xyz/`` commands. A stanza with INGEST_EVAL is
evaluator-based instead ("this setting overrides all but one of other index-time settings
(such as REGEX, DEST_KEY, etc)"): see :mod:`engine.sandbox.ingest_eval`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.regex import (
    DEPTH_LIMIT,
    MATCH_LIMIT,
    ByteMatch,
    Regex,
    RegexError,
    RegexLimitError,
    compile_regex,
)
from engine.sandbox.events import Event
from engine.sandbox.ingest_eval import IngestEval
from engine.sandbox.spl_eval.clock import EvalClock
from engine.sandbox.spl_eval.values import EvalLimitError
from engine.sandbox.stanzas import SettingError, setting_bool, setting_int

DEFAULT_LOOKAHEAD = 4096
_META_PREFIXES = {
    "MetaData:Sourcetype": "sourcetype::",
    "MetaData:Host": "host::",
    "MetaData:Source": "source::",
}


def ordered_classes(settings: Mapping[str, str], prefix: str) -> list[tuple[str, str]]:
    """(class, value) pairs of ``<prefix><class>`` keys in ASCII order of the class name."""
    found = [
        (key[len(prefix) :], value) for key, value in settings.items() if key.startswith(prefix)
    ]
    return sorted(found, key=lambda item: item[0].encode("utf-8"))


def _expand(template: str, match: ByteMatch | None) -> str:
    """FORMAT with ``$n`` replaced by group n (empty when it did not take part)."""
    out: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "$" and i + 1 < len(template) and template[i + 1].isdigit():
            j = i + 1
            while j < len(template) and template[j].isdigit():
                j += 1
            out.append(_group_text(match, int(template[i + 1 : j])))
            i = j
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _group_text(match: ByteMatch | None, group: int) -> str:
    if match is None or group > match.group_count:
        return ""
    value = match.group(group)
    return "" if value is None else value.decode("utf-8", "replace")


def parse_meta(text: str) -> list[tuple[str, str]]:
    """``name::value`` pairs of a _meta FORMAT (values may be double-quoted)."""
    pairs: list[tuple[str, str]] = []
    token: list[str] = []
    quoted = False
    for char in [*text, " "]:
        if char == '"':
            quoted = not quoted
            continue
        if char.isspace() and not quoted:
            if token:
                name, sep, value = "".join(token).partition("::")
                if sep and name:
                    pairs.append((name, value))
                token = []
            continue
        token.append(char)
    return pairs


@dataclass(frozen=True, slots=True)
class IndexTransform:
    """One transforms.conf stanza used at index time."""

    name: str
    regex: Regex
    source_key: str
    dest_key: str | None
    write_meta: bool
    template: str
    default_value: str | None
    repeat_match: bool
    lookahead: int

    @classmethod
    def from_stanza(cls, name: str, stanza: Mapping[str, str]) -> IndexTransform:
        pattern = stanza.get("REGEX")
        if pattern is None or not pattern.strip():
            raise SettingError(f"transforms.conf [{name}]: index-time transform has no REGEX")
        try:
            regex = compile_regex(
                pattern,
                match_limit=setting_int(stanza, "MATCH_LIMIT", MATCH_LIMIT, minimum=1),
                depth_limit=setting_int(stanza, "DEPTH_LIMIT", DEPTH_LIMIT, minimum=1),
            )
        except (RegexError, SettingError) as exc:
            raise SettingError(f"transforms.conf [{name}]: {exc}") from exc
        dest = (stanza.get("DEST_KEY") or "").strip() or None
        write_meta = setting_bool(stanza, "WRITE_META", False)
        template = stanza.get("FORMAT")
        if template is None and (write_meta or dest == "_meta"):
            raise SettingError(f"transforms.conf [{name}]: WRITE_META needs FORMAT name::$1")
        return cls(
            name=name,
            regex=regex,
            source_key=(stanza.get("SOURCE_KEY") or "_raw").strip(),
            dest_key=dest,
            write_meta=write_meta or dest == "_meta",
            template="$1" if template is None else template,
            default_value=stanza.get("DEFAULT_VALUE"),
            repeat_match=setting_bool(stanza, "REPEAT_MATCH", False),
            lookahead=setting_int(stanza, "LOOKAHEAD", DEFAULT_LOOKAHEAD, minimum=1),
        )

    def _source(self, event: Event) -> str:
        key = self.source_key
        if key == "_raw":
            return event.raw
        if key in _META_PREFIXES:
            value = {"MetaData:Sourcetype": event.sourcetype, "MetaData:Host": event.host}.get(
                key, event.source
            )
            return _META_PREFIXES[key] + value
        if key == "_meta":
            return " ".join(f"{n}::{v}" for n in sorted(event.indexed) for v in event.fields[n])
        name = key.removeprefix("field:")
        return event.first(name) or ""

    def apply(self, event: Event) -> str | None:
        """Rewrite ``event`` in place; return the queue name when the transform routes it."""
        subject = self._source(event)[: self.lookahead].encode("utf-8")
        match = self.regex.search_bytes(subject)
        if self.dest_key is None or self.dest_key == "_meta":
            if self.write_meta:
                self._write_meta(event, subject, match)
            return None
        if match is None:
            if self.default_value is None:
                return None
            value = self.default_value
        else:
            value = _expand(self.template, match)
        return _write_dest(event, self.dest_key, value)

    def _write_meta(self, event: Event, subject: bytes, match: ByteMatch | None) -> None:
        if match is None and self.default_value is not None:
            _add_meta(event, parse_meta(self.default_value))
        while match is not None:
            _add_meta(event, parse_meta(_expand(self.template, match)))
            if not self.repeat_match:
                return
            end = match.end()
            next_pos = end + 1 if end == match.start() else end
            match = self.regex.search_bytes(subject, next_pos) if next_pos <= len(subject) else None


def _add_meta(event: Event, pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        if name not in event.indexed:
            event.fields.pop(name, None)
            event.indexed.add(name)
        event.fields.setdefault(name, []).append(value)


def _write_dest(event: Event, dest: str, value: str) -> str | None:
    if dest == "queue":
        return value.strip()
    if dest == "_raw":
        event.raw = value
    elif dest in _META_PREFIXES:
        text = value.strip().removeprefix(_META_PREFIXES[dest])
        if dest == "MetaData:Sourcetype":
            event.sourcetype = text
        elif dest == "MetaData:Host":
            event.host = text
        else:
            event.source = text
    elif dest in ("_MetaData:Index", "MetaData:Index"):
        event.set_field("index", value.strip())
    return None


@dataclass(frozen=True, slots=True)
class SedCommand:
    """One sed command: substitution (``s``) or transliteration (``y``)."""

    regex: Regex | None
    replacement: str
    occurrence: int  # 0 = every match (g)
    table: dict[int, str]

    def apply(self, raw: str) -> str:
        if self.regex is None:
            return raw.translate(self.table)
        subject = raw.encode("utf-8")
        out: list[bytes] = []
        last = 0
        for count, match in enumerate(self.regex.finditer_bytes(subject), start=1):
            if self.occurrence and count < self.occurrence:
                continue
            out.append(subject[last : match.start()])
            out.append(_sed_replacement(self.replacement, match))
            last = match.end()
            if self.occurrence:
                break
        if not out:
            return raw
        out.append(subject[last:])
        return b"".join(out).decode("utf-8", "replace")


def parse_sed_script(key: str, text: str) -> list[SedCommand]:
    """A SEDCMD value: space-separated ``s/regex/replacement/flags`` and ``y/abc/xyz/``."""
    commands: list[SedCommand] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        command = text[i]
        if command not in "sy" or i + 1 >= len(text):
            raise SettingError(f"{key} = {text!r}: expected s/regex/replacement/flags or y/a/b/")
        first, second, i = _sed_parts(key, text, i + 1)
        end = i
        while end < len(text) and not text[end].isspace():
            end += 1
        commands.append(_sed_command(key, text, command, first, second, text[i:end]))
        i = end
    if not commands:
        raise SettingError(f"{key} is empty")
    return commands


def _sed_parts(key: str, text: str, at: int) -> tuple[str, str, int]:
    """The two delimited parts after the delimiter at ``at``, and where the flags start."""
    delimiter = text[at]
    parts: list[str] = []
    current: list[str] = []
    i = at + 1
    while i < len(text) and len(parts) < 2:
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            current.append(nxt if nxt == delimiter else text[i : i + 2])
            i += 2
            continue
        if char == delimiter:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if len(parts) < 2:
        raise SettingError(f"{key} = {text!r}: expected three {delimiter!r} delimiters")
    return parts[0], parts[1], i


def _sed_command(
    key: str, text: str, command: str, first: str, second: str, flags: str
) -> SedCommand:
    if command == "y":
        if len(first) != len(second) or flags:
            raise SettingError(f"{key} = {text!r}: y/// needs equal-length character lists")
        return SedCommand(None, "", 0, {ord(a): b for a, b in zip(first, second, strict=True)})
    if flags == "g":
        occurrence = 0
    elif flags == "":
        occurrence = 1
    elif flags.isdigit() and int(flags) > 0:
        occurrence = int(flags)
    else:
        raise SettingError(f"{key} = {text!r}: flags must be g or a positive number")
    try:
        regex = compile_regex(first)
    except RegexError as exc:
        raise SettingError(f"{key}: {exc}") from exc
    return SedCommand(regex, second, occurrence, {})


def _sed_replacement(template: str, match: ByteMatch) -> bytes:
    out: list[bytes] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "\\" and i + 1 < len(template):
            nxt = template[i + 1]
            if nxt.isdigit():
                group = int(nxt)
                value = match.group(group) if group <= match.group_count else None
                out.append(value or b"")
            else:
                out.append(nxt.encode("utf-8"))
            i += 2
            continue
        out.append(char.encode("utf-8"))
        i += 1
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class IndexTimeRewrites:
    """All TRANSFORMS- and SEDCMD- settings of one resolved props stanza set."""

    transforms: tuple[IndexTransform | IngestEval, ...]
    sedcmds: tuple[SedCommand, ...]

    @classmethod
    def from_props(
        cls,
        settings: Mapping[str, str],
        transforms: Mapping[str, Mapping[str, str]],
        *,
        clock: EvalClock,
    ) -> IndexTimeRewrites:
        chain: list[IndexTransform | IngestEval] = []
        for cls_name, value in ordered_classes(settings, "TRANSFORMS-"):
            for name in (part.strip() for part in value.split(",")):
                if not name:
                    continue
                stanza = transforms.get(name)
                if stanza is None:
                    raise SettingError(
                        f"TRANSFORMS-{cls_name} names [{name}], which transforms.conf lacks"
                    )
                if (stanza.get("INGEST_EVAL") or "").strip():
                    chain.append(IngestEval.from_stanza(name, stanza, clock=clock))
                else:
                    chain.append(IndexTransform.from_stanza(name, stanza))
        seds = tuple(
            command
            for name, value in ordered_classes(settings, "SEDCMD-")
            for command in parse_sed_script(f"SEDCMD-{name}", value)
        )
        return cls(tuple(chain), seds)

    def apply(self, event: Event, *, on_error: Callable[[str], None]) -> bool:
        """Rewrite the event; False when the queue routing sends it to nullQueue.

        A transform or sed command whose regex exceeds the PCRE limits is skipped for this
        event (Splunk treats it as not matching) and reported through ``on_error``.
        """
        queue = "indexQueue"
        for transform in self.transforms:
            try:
                routed = transform.apply(event)
            except (RegexLimitError, EvalLimitError) as exc:
                on_error(f"transforms.conf [{transform.name}]: {exc}")
                continue
            if routed is not None:
                queue = routed
        if queue == "nullQueue":
            return False
        for sed in self.sedcmds:
            try:
                event.raw = sed.apply(event.raw)
            except RegexLimitError as exc:
                on_error(f"SEDCMD: {exc}")
        return True

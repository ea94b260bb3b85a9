"""Which props.conf stanzas apply to an event, and in what order their settings win.

props.conf.spec: [source::<pattern>] settings override [host::<pattern>] settings, which
override [<sourcetype>] settings; [default] is the lowest layer. Within one type, a higher
``priority`` wins; literal stanzas default to priority 100 and pattern stanzas to 0; with equal
priority the stanza that comes first in ASCII order wins. Patterns match the whole value; ``...``
matches anything (``/`` included), ``*`` anything but ``/``, ``.`` is a literal dot, and the
rest is PCRE (``|``, ``(...)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from engine.regex import Regex, RegexError, compile_regex

LITERAL_PRIORITY = 100
PATTERN_PRIORITY = 0
_WILDCARD_MARKS = ("...", "*", "|", "(", "[", "?", "+", "\\")


class StanzaError(ValueError):
    """A props.conf stanza whose pattern or priority cannot be used."""


def _is_pattern(spec: str) -> bool:
    return any(mark in spec for mark in _WILDCARD_MARKS)


def _translate(spec: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(spec):
        if spec.startswith("...", i):
            out.append(".*")
            i += 3
            continue
        char = spec[i]
        if char == "\\" and i + 1 < len(spec):
            out.append(spec[i : i + 2])
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == ".":
            out.append("\\.")
        else:
            out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_spec(spec: str) -> Regex:
    """The anchored PCRE2 regex for a source::/host:: pattern (cached)."""
    try:
        return compile_regex(f"^(?:{_translate(spec)})$")
    except RegexError as exc:
        raise StanzaError(f"props.conf stanza pattern {spec!r} is not valid: {exc}") from exc


def spec_matches(spec: str, value: str) -> bool:
    """Whether a stanza pattern (without its ``source::``/``host::`` prefix) matches ``value``."""
    if not _is_pattern(spec):
        return spec == value
    return compile_spec(spec).search(value) is not None


def _priority(stanza: str, settings: Mapping[str, str], spec: str) -> int:
    raw = settings.get("priority")
    if raw is None or not raw.strip():
        return PATTERN_PRIORITY if _is_pattern(spec) else LITERAL_PRIORITY
    try:
        return int(raw.strip())
    except ValueError as exc:
        raise StanzaError(f"props.conf [{stanza}]: priority {raw!r} is not an integer") from exc


def _matching_layers(
    props: Mapping[str, Mapping[str, str]], prefix: str, value: str
) -> list[Mapping[str, str]]:
    """Matching stanzas of one type, ordered from lowest to highest precedence."""
    found: list[tuple[int, str, Mapping[str, str]]] = []
    for stanza, settings in props.items():
        if not stanza.startswith(prefix):
            continue
        spec = stanza[len(prefix) :]
        if spec_matches(spec, value):
            found.append((_priority(stanza, settings, spec), stanza, settings))
    # Higher priority wins; for equal priority the ASCII-first stanza wins, so it goes last.
    found.sort(key=lambda item: (item[0], _descending(item[1])))
    return [settings for _, _, settings in found]


def _descending(text: str) -> tuple[int, ...]:
    return (*(-ord(char) for char in text), 1)


def resolve_props(
    props: Mapping[str, Mapping[str, str]], *, sourcetype: str, source: str, host: str
) -> dict[str, str]:
    """The effective props settings for one (sourcetype, source, host) triple."""
    layers: list[Mapping[str, str]] = []
    if "default" in props:
        layers.append(props["default"])
    if sourcetype and sourcetype in props and "::" not in sourcetype:
        layers.append(props[sourcetype])
    layers.extend(_matching_layers(props, "host::", host))
    layers.extend(_matching_layers(props, "source::", source))
    merged: dict[str, str] = {}
    for settings in layers:
        merged.update(settings)
    merged.pop("priority", None)
    return merged


class SettingError(ValueError):
    """A props.conf/transforms.conf setting whose value the sandbox cannot use."""


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def setting_bool(settings: Mapping[str, str], key: str, default: bool) -> bool:
    """A boolean setting as Splunk reads it (true/false, 1/0, yes/no, t/f)."""
    raw = settings.get(key)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{key} = {raw!r} is not a boolean (use true or false)")


def setting_int(settings: Mapping[str, str], key: str, default: int, *, minimum: int = 0) -> int:
    """A non-negative integer setting; a clear error names the key when it is not one."""
    raw = settings.get(key)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise SettingError(f"{key} = {raw!r} is not an integer") from exc
    if value < minimum:
        raise SettingError(f"{key} = {raw!r} must be at least {minimum}")
    return value


def setting_regex(settings: Mapping[str, str], key: str) -> Regex | None:
    """A regex setting compiled with PCRE2 (None when unset or empty)."""
    raw = settings.get(key)
    if raw is None or not raw.strip():
        return None
    try:
        return compile_regex(raw)
    except RegexError as exc:
        raise SettingError(f"{key}: {exc}") from exc

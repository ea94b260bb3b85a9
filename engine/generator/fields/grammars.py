"""Known log grammars: syslog (RFC 3164/5424), Apache/nginx access and error logs, CEF, LEEF.

A grammar is recognised by matching its anchored pattern against the sampled events, never by
the file's name: the first one that matches most events wins. Header grammars (syslog, error
logs) end where the free-text message starts, so the message can still be mined for templates;
full grammars (access logs, CEF, LEEF) describe the whole event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree

from engine.generator.fields.builder import PlanBuilder
from engine.generator.fields.context import plan_context
from engine.generator.fields.headers import LEVELS
from engine.generator.fields.naming import field_name
from engine.regex import Regex, RegexLimitError, compile_regex

MIN_SHARE = 0.6

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,9})?"
_ZONE = r"(?:\s*(?:Z|[+-]\d{2}:?\d{2})|\s+(?:UTC|GMT|[A-Z][SD]T|CES?T|EES?T|WES?T))?"
_TIME_SHAPES = (
    rf"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?{_MONTH}\s+\d{{1,2}},?(?:\s+\d{{4}})?"
    rf"\s+{_CLOCK}Z?(?:\s+\d{{4}})?",
    rf"\d{{4}}[-/.:]\d{{1,2}}[-/.:]\d{{1,2}}(?:[T\s:_-]{_CLOCK})?",
    rf"\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{4}}(?:[T\s:,]{_CLOCK})?",
    rf"\d{{1,2}}[-/]{_MONTH}[-/]\d{{4}}[:\s]{_CLOCK}",
)
_SYSLOG_TIME = f"(?:{'|'.join(_TIME_SHAPES)}){_ZONE}"
"""The timestamps syslog senders put before the host: ``Jul 14 10:00:00.001``, ``May 01 2026
09:24:32Z``, ``2021-11-16T05:14:15-07:00``, ``2023:04:28-00:00:04``, ``27/06/2026:22:38:17``."""
_LEVEL_WORD = "|".join(sorted(LEVELS | {lv.upper() for lv in LEVELS}, key=len, reverse=True))
_NOT_A_LEVEL = rf"(?!(?:{_LEVEL_WORD})\b)"
_TAG = r"(?<process>(?![%\[])[^\s\[:]+(?:\s[^\s\[:]+){0,3}?)(?:\[(?<pid>\d+)\])?\s?:(?:\s+|$)"
_IP = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)"


@dataclass(frozen=True)
class Grammar:
    """A named, anchored pattern; ``header`` grammars leave the message to template mining."""

    name: str
    pattern: str
    header: bool


SYSLOG_5424 = Grammar(
    "syslog5424",
    r"^<(?<syslog_pri>\d{1,3})>(?<syslog_version>1)\s+\S+\s+(?<syslog_host>\S+)\s+(?<app_name>\S+)"
    r"\s+(?<procid>\S+)\s+(?<msgid>\S+)\s+(?:-|(?:\[(?:[^\]\\\"]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+)"
    r"\s*",
    header=True,
)
SYSLOG_3164 = Grammar(
    "syslog3164",
    rf"^(?:<(?<syslog_pri>\d{{1,3}})>\s*)?{_SYSLOG_TIME}:?\s+"
    rf"{_NOT_A_LEVEL}(?<syslog_host>(?![%\[+])(?!\d+(?=[\s:]|$))(?=[^\s:]*[A-Za-z0-9])[^\s\[:=\"]+(?=[\s:]|$))"
    rf"(?:\s+(?::\s+|{_TAG})|\s+|$)",
    header=True,
)
"""``<pri>time host tag[pid]: message``; the tag may be absent or a bare ``:``, the host may not
be a level word (``2020-01-01 10:00:00 INFO x`` is an application log, not syslog) nor a bare
number (``... 2023 1 10.0.0.1 1024``: a transfer log's columns) nor an offset (``+0200``)."""
SYSLOG_NO_HOST = Grammar(
    "syslog_no_host",
    rf"^(?:<(?<syslog_pri>\d{{1,3}})>\s*)?{_SYSLOG_TIME}:?\s+(?:(?=%[A-Z])|{_TAG})",
    header=True,
)
"""``<pri>time tag: message`` or ``<pri>time %FAC-SEV-ID: message``: a sender without a host."""
SYSLOG_TIME_LAST = Grammar(
    "syslog_time_last",
    r"^(?:<(?<syslog_pri>\d{1,3})>\s*)?(?:\d+:\s+)?(?<syslog_host>[A-Za-z0-9][\w.\-]*):\s+"
    rf"(?:\*?(?<process>[^\s:*]+):\s+)?[*.]?{_SYSLOG_TIME}:\s*",
    header=True,
)
"""``<pri>[seq: ]host: [*task: ]*time: message``: senders that put the host and task before
the timestamp (``<132>ap-1.example.lan: *dot1xTask: Jul 14 10:00:00.001: %LOG-4-X: ...``)."""
APACHE_ERROR = Grammar(
    "apache_error",
    r"^\[[^\]]+\]\s+\[(?:(?<module>[^:\]\s]+):)?(?<level>[A-Za-z]+\d?)\]"
    r"(?:\s+\[pid\s+(?<pid>\d+)(?::tid\s+(?<tid>\d+))?\])?"
    r"(?:\s+(?<source_file>[^\s\[]+\(\d+\)):)?"
    r"(?:\s+\[client\s+(?<client>(?:\d{1,3}\.){3}\d{1,3}|[^\]\s]+?)(?::(?<client_port>\d+))?\])?"
    r"\s*",
    header=True,
)
NGINX_ERROR = Grammar(
    "nginx_error",
    r"^\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}:\d{2}\s+\[(?<level>[a-z]+)\]\s+(?<pid>\d+)#(?<tid>\d+):"
    r"(?:\s+\*(?<connection_id>\d+))?\s*",
    header=True,
)
ACCESS = Grammar(
    "access_combined",
    rf"^(?:(?<site>[^\s,]+)\s+(?=(?:{_IP},\s+)*{_IP}\s+\S+\s+\S+\s+\[))?"
    rf"(?<clientip_list>(?:{_IP},\s+)*(?<clientip>{_IP}|\S+))\s+(?<ident>\S+)\s+(?<user>\S+)"
    r"\s+\[[^\]]+\]\s+\"",
    header=False,
)
SSL_REQUEST = Grammar(
    "access_ssl_request",
    rf"^\[[^\]]+\]\s+(?<clientip>{_IP})\s+(?<ssl_protocol>[A-Za-z]+v[\d.]+|-)"
    r"\s+(?<ssl_cipher>[\w\-]+)\s+\"",
    header=False,
)
REQUEST = (
    r"^[^\"]*\"(?:(?<method>[A-Z]+)\s+(?<uri>(?<uri_path>[^\s?\"]*?(?:\.(?<uri_extension>\w{1,8}))?)"
    r"(?=[\s?\"])(?:\?(?<uri_query>[^\s\"]*))?)"
    r"(?:\s+(?<protocol>[A-Z]+/(?<http_version>[\d.]+)))?|-|[^\"]*)\""
    r"\s+(?:(?<status>\d{3})\s+)?(?<bytes>\d+|-)"
    r"(?:\s+\"(?<http_referrer>[^\"]*)\"\s+\"(?<http_user_agent>[^\"]*)\")?"
)
"""The request, status, size, referrer and user agent of any access-log line."""
USER_AGENT = (
    r"(?<ua_os_full>(?<ua_os>(?<ua_os_family>Windows(?= NT)|Mac(?= OS X)|iPhone(?= OS)|CPU(?= OS)"
    r"|Android|Linux)(?: NT| OS X| OS)?)[ _]?(?<ua_os_version>\d[\d._]*)?)"
)
BROWSER = (
    r"(?<ua_browser>Edge|Edg|OPR|Firefox|Chrome|CriOS|Safari|MSIE|Wget|curl|Googlebot|bingbot)"
    r"[/ ](?<ua_browser_version>[\w.]+)"
)
CEF = Grammar(
    "cef",
    r"^(?:[^|]*?\s)?CEF:(?<cef_version>\d+)\|(?<vendor>(?:[^|\\]|\\.)*)\|(?<product>(?:[^|\\]|\\.)*)"
    r"\|(?<version>(?:[^|\\]|\\.)*)\|(?<signature_id>(?:[^|\\]|\\.)*)\|(?<signature>(?:[^|\\]|\\.)*)"
    r"\|(?<severity>(?:[^|\\]|\\.)*)\|",
    header=False,
)
LEEF = Grammar(
    "leef",
    r"^(?:[^|]*?\s)?LEEF:(?<leef_version>[\d.]+)\|(?<vendor>[^|]*)\|(?<product>[^|]*)"
    r"\|(?<version>[^|]*)\|(?<event_id>[^|]*)\|",
    header=False,
)

HEADERS = (SYSLOG_5424, SYSLOG_3164, SYSLOG_NO_HOST, SYSLOG_TIME_LAST, APACHE_ERROR, NGINX_ERROR)
FULL = (CEF, LEEF, SSL_REQUEST, ACCESS)


_HEADER_SPAN = 80
"""How far into a line its header's timestamp may start."""


def lighter(pattern: str, lines: Sequence[str]) -> str:
    """``pattern`` for lines whose header it already matched: only the timestamp shapes these
    lines use, and no guard against level words. Message templates repeat the header before
    the message; the full one would cost every event a search of every shape per template."""
    seen = [
        shape
        for shape in _TIME_SHAPES
        if any(re.search(shape, line[:_HEADER_SPAN]) for line in lines[:200])
    ]
    if not seen or _SYSLOG_TIME not in pattern:
        return pattern
    light = pattern.replace(_SYSLOG_TIME, f"(?:{'|'.join(seen)}){_ZONE}")
    return light.replace(_NOT_A_LEVEL, "")


def share(pattern: str, events: Sequence[str]) -> float:
    """The fraction of ``events`` that ``pattern`` matches."""
    if not events:
        return 0.0
    regex = compile_regex(pattern)
    hits = 0
    for event in events:
        try:
            hits += regex.search(event) is not None
        except RegexLimitError:
            continue
    return hits / len(events)


def recognise(events: Sequence[str], candidates: Sequence[Grammar]) -> Grammar | None:
    """The first grammar of ``candidates`` that matches at least MIN_SHARE of the events."""
    for grammar in candidates:
        if share(grammar.pattern, events) >= MIN_SHARE:
            return grammar
    return None


_CEF_EXTENSION = r"(?:^|[\s|])([A-Za-z][\w.\[\]]*)=((?:[^\s=\\]|\\.|\s(?!\s*[A-Za-z][\w.\[\]]*=))*)"
_CEF_LABEL = re.compile(
    r"(?:^|[\s|])((?:c[sn]\d|cfp\d|deviceCustomDate\d|flexString\d)Label)=(\S+)"
)


def plan_access(builder: PlanBuilder, grammar: Grammar) -> None:
    """Access logs: the client part, the request line, and the user agent's browser and OS."""
    builder.set("KV_MODE", "none")
    builder.extract("access_client", grammar.pattern)
    builder.extract("access_request", REQUEST)
    builder.extract("access_user_agent_os", USER_AGENT)
    builder.extract("access_user_agent_browser", BROWSER)
    plan_context(builder)


def plan_cef(builder: PlanBuilder) -> None:
    """CEF: the pipe-separated header, the extensions, and labelled custom fields aliased."""
    builder.set("KV_MODE", "none")
    builder.extract("cef_header", CEF.pattern)
    builder.report(
        "cef_extensions",
        "cef_extensions",
        {"REGEX": _CEF_EXTENSION, "FORMAT": "$1::$2", "CLEAN_KEYS": "false"},
        {},
    )
    labels: dict[str, set[str]] = {}
    for event in builder.events:
        for key, label in _CEF_LABEL.findall(event):
            labels.setdefault(key[: -len("Label")], set()).add(label)
    aliases = [
        f"{field} AS {field_name(next(iter(values)))}"
        for field, values in sorted(labels.items())
        if len(values) == 1
    ]
    if aliases:
        builder.set("FIELDALIAS-cef_labels", " ".join(aliases))
    _note_pairs(builder, compile_regex(_CEF_EXTENSION), "REPORT-cef_extensions")


def plan_leef(builder: PlanBuilder) -> None:
    """LEEF: the header, then attributes split by tab (1.0) or the declared delimiter (2.0)."""
    builder.set("KV_MODE", "none")
    builder.extract("leef_header", LEEF.pattern)
    delimiter = "\\t"
    for event in builder.events:
        declared_match = re.match(r"^.*?LEEF:2\.0\|(?:[^|]*\|){4}(\S{1,4})\|", event)
        if declared_match:
            declared = declared_match.group(1)
            hexa = declared.lower().startswith(("0x", "x"))
            delimiter = "\\x" + declared[-2:] if hexa else re.escape(declared)
            break
    regex = rf"(?:\||{delimiter})([^=|\t]+?)=([^{delimiter}]*)"
    builder.report("leef_attributes", "leef_attributes", {"REGEX": regex, "FORMAT": "$1::$2"}, {})
    _note_pairs(builder, compile_regex(regex), "REPORT-leef_attributes")


def _note_pairs(builder: PlanBuilder, regex: Regex, source: str) -> None:
    """Note each non-empty name (group 1) and value (group 2) ``regex`` finds in the events,
    as the REPORT transform ``source`` would extract them."""
    for event in builder.events:
        for match in regex.finditer(event):
            key, value = match.group(1), match.group(2)
            if key and value:
                builder.note(key, [value], source)


_XML_DATA = r"<Data Name=['\"]([^'\"]+)['\"]>([^<]*)</Data>"


def plan_xml(builder: PlanBuilder) -> None:
    """XML events: KV_MODE=xml, plus Windows-style ``<Data Name='x'>v</Data>`` pairs."""
    builder.set("KV_MODE", "xml")
    data = compile_regex(_XML_DATA)
    if any(data.search(event) for event in builder.events):
        examples: dict[str, list[str]] = {}
        for event in builder.events:
            for match in data.finditer(event):
                examples.setdefault(match.group(1) or "", []).append(match.group(2) or "")
        builder.report(
            "xml_data", "xml_data_pairs", {"REGEX": _XML_DATA, "FORMAT": "$1::$2"}, examples
        )
    for event in builder.events:
        for name, value in xml_leaves(event):
            builder.note(name, [value], "KV_MODE=xml")


def xml_leaves(event: str) -> list[tuple[str, str]]:
    """(name, value) pairs as KV_MODE=xml names them: ``a.b.c`` paths, ``a.b{@attr}``."""
    try:
        root = ElementTree.fromstring(event.strip())
    except ElementTree.ParseError:
        return []
    out: list[tuple[str, str]] = []

    def walk(element: ElementTree.Element, path: str) -> None:
        for attr, value in element.attrib.items():
            out.append((f"{path}{{@{_local(attr)}}}", value))
        text = (element.text or "").strip()
        if text:
            out.append((path, text))
        for child in element:
            walk(child, f"{path}.{_local(child.tag)}")

    walk(root, _local(root.tag))
    return out


def _local(tag: str) -> str:
    """A tag or attribute name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]

"""Typed tokens: what a value in a log line is (an address, a port, a MAC, a path, a size...).

Two uses share these definitions: the PCRE2 pieces (``IPV4``, ``ENDPOINT``...) are built into
the regexes a TA ships, and :func:`kind` classifies sampled values so a name is only given to
values that can carry it (a ``src`` is an address or a host, a ``src_port`` a number below
65536). The pieces use no nested quantifiers over the same characters, so they stay linear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
IPV6 = r"(?=[\d:]*[a-fA-F]|[\w:]*::)[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}"
"""An IPv6 address (a run of hex groups with at least one letter or a ``::``)."""
MAC = r"[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2}"
EMAIL = r"[^\s@<>\"'(),;:\[\]=]+@[\w\-]+(?:\.[\w\-]+)+"
"""The local part is any run of non-separators: Splunk's PCRE reads bytes, so ``\\w`` would stop
at the first accented letter of ``andrés@x.org``."""
TOP_LABELS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|arpa|local|localdomain|lan|internal|intra"
    "|corp|home|test|example|invalid|localhost|cloud|app|dev"
)
"""Last labels that make a two-label name a host (``example.com``, ``db-01.corp``): any
two-letter country label does too; ``ann.smith`` is a user, not a host."""
_LABEL = r"[A-Za-z0-9][\w\-]*"
HOSTNAME = (
    rf"(?=[\w\-]*[A-Za-z]){_LABEL}"
    rf"(?:(?:\.{_LABEL}){{2,}}|\.(?:{TOP_LABELS}|[A-Za-z]{{2}})(?![\w\-]))"
)
"""A dotted host name: three labels or more, or two with a top label (``mail.example.com``,
``db-01.corp``, ``x.de``)."""
URL = r"[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s\"'<>]+[^\s\"'<>.,;:)\]]"
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE")
RECORD_TYPES = (
    "A",
    "AAAA",
    "ANY",
    "CAA",
    "CNAME",
    "DNSKEY",
    "DS",
    "HTTPS",
    "MX",
    "NAPTR",
    "NS",
    "PTR",
    "SOA",
    "SRV",
    "SVCB",
    "TXT",
)
TRANSPORTS = ("tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp", "ah", "igmp")
PORT = r"\d{1,5}"
ENDPOINT = (
    rf"(?:(?<iface>[A-Za-z][\w\-]*(?:/\d+)*)[:/](?=\[|\d{{1,3}}\.|[0-9a-fA-F]*:))?"
    rf"/?\[?(?<ip>{IPV4}|{IPV6})\]?(?:(?:[:/#.]|\((?=\d+\)))(?<port>{PORT})\)?(?![\d.]))?"
)
"""``ip``, ``ip:port``, ``ip/port``, ``ip#port``, ``ip(port)``, ``[v6]:port``,
``iface:ip/port``, ``iface/ip(port)``: named groups iface, ip and port, only ip required."""

MESSAGE_ID = (
    r"(?:^|(?<=\s))%(?<facility>[A-Z][A-Z0-9_]*)(?:-(?<facility_detail>[A-Z0-9_]+))?"
    r"-(?<severity_id>[0-7])-(?:(?<signature_id>\d+)|(?<signature>[A-Z][A-Z0-9_]*))(?=:)"
)
"""A vendor message id, ``%FACILITY[-SUB]-SEVERITY-MNEMONIC:`` (``%ASA-6-302013:``,
``%LINK-3-UPDOWN:``): the severity, and the mnemonic as the signature (its id when numeric)."""


def python_regex(pattern: str) -> re.Pattern[str]:
    """A PCRE2 piece of this module compiled by Python (``(?<name>`` becomes ``(?P<name>``)."""
    return re.compile(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern))


_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ipv4", re.compile(IPV4)),
    ("mac", re.compile(MAC)),
    ("ipv6", re.compile(IPV6)),
    ("email", re.compile(EMAIL)),
    ("url", re.compile(URL)),
    ("uuid", re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")),
    ("path", re.compile(r"/[^\s]*|[A-Za-z]:\\[^\t\n]*|\\\\[^\t\n]+")),
    ("int", re.compile(r"-?\d+")),
    ("float", re.compile(r"-?\d+[.,]\d+")),
    ("duration", re.compile(r"\d+(?:\.\d+)?(?:ms|us|µs|ns|s|sec|secs|m|min|h)|(?:\d+[hm])+\d+s?")),
    ("size", re.compile(r"\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|[kKMGT]|B|bytes)")),
    ("hex", re.compile(r"0x[0-9a-fA-F]+|(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{6,}")),
    ("host", re.compile(HOSTNAME)),
    ("word", re.compile(r"[\w\-.@$]+")),
)


def kind(value: str) -> str:
    """The first token kind ``value`` is wholly made of, ``text`` when none (it has spaces...)."""
    for name, pattern in _KINDS:
        if pattern.fullmatch(value):
            return name
    return "text"


def kinds(values: Iterable[str]) -> set[str]:
    """The kinds of the non-empty ``values``."""
    return {kind(v) for v in values if v.strip()}


def is_port(value: str) -> bool:
    return value.isdigit() and int(value) <= 65535

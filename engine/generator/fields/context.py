"""Extractions that do not depend on a learned template: typed tokens and words that name roles.

Templates only cover the message shapes seen in the samples. These rules run on every event, so
lines of an unseen shape still yield their addresses, paths, numbers and quoted strings, and
the values the words before them give a role: ``from 10.0.0.1:5353`` (src, src_port),
``to inside:10.0.0.5/80`` (dest_interface, dest, dest_port), ``user alice``, ``to=<a@b>``
(recipient), ``GET /x`` (http_method, url), ``query: x IN AAAA`` (query, record_type). Each is
a REPORT transform, multi-valued for typed tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.generator.fields.builder import MAX_EXAMPLES, PlanBuilder
from engine.generator.fields.tokens import (
    EMAIL,
    HOSTNAME,
    HTTP_METHODS,
    IPV4,
    IPV6,
    MAC,
    RECORD_TYPES,
    TRANSPORTS,
    URL,
)
from engine.regex import Regex, RegexLimitError, compile_regex

_BEFORE = r"(?:^|(?<=[\s(\[{=,<\"'/]))"
_BEFORE_IP = r"(?:^|(?<=[\s(\[{=,<\"'/:@]))"
_AFTER = r"(?=$|[\s)\]},;>\"'!?]|[.:](?!\d))"
_AFTER_IP = r"(?=$|[\s)\]},;:>\"'!?/#(\[]|\.(?!\d))"
"""An address may be followed by ``:port``, ``/port``, ``#port``, ``(port)`` or a bracketed
note (``198.51.100.12[...]``); a plain number may not (times)."""
_KEY = r"(?:\s*[:=]\s*|\s+)"
"""Between a role word and its value: ``from x``, ``src=x``, ``account: x``."""
_IFACE = r"[A-Za-z][\w\-]*(?:/\d+)*"
_IFACE_END = r"[:/](?=\[|\d{1,3}\.|[0-9a-fA-F]*:)"
_ENDPOINT = (
    rf"(?=(?:{_IFACE}{_IFACE_END})?(?:[\w.\-]+(?=\[))?[<\[\"']?({IPV4}|{IPV6}))"
    rf"(?:({_IFACE}){_IFACE_END})?(?:[\w.\-]+(?=\[))?[<\[\"']?(?:{IPV4}|{IPV6})\]?"
    rf"(?:(?:[:/#.]|\((?=\d+\)))(\d{{1,5}})\)?(?![\d.]))?(?:\s+port\s+(\d{{1,5}})\b)?"
)
"""Groups: the address (read ahead, so it is group 1), interface, port, port after ``port``."""
_HOST_NAME = rf"({HOSTNAME}|[A-Za-z][\w\-]*\d[\w\-]*)(?=[\s,;)\]>]|$)"
"""A dotted host name, or one label holding a digit (``proxy-29``), after a role word."""
_SRC_WORDS = r"from|src|source|client|sender|rhost|remote"
_DEST_WORDS = r"to|dst|dest|destination|server|->"
_USER_WORDS = r"user(?:name)?|account|usr"
_NOT_NAMES = (
    r"not|no|is|was|has|had|in|on|of|for|from|to|by|with|the|a|an|and|or|name|id"
    r"|authentication|session|account|logged|login|unknown|list"
)
"""Words after ``user`` that are not a user's name (``user NOT in sudoers``)."""
_QUANTITY = r"\d+(?:\.\d+)?(?:ms|us|µs|ns|s|sec|min|h|[KMGTP]i?B|B)|(?:\d+[dhm])+\d+(?:\.\d+)?s"
"""A size or a duration, compound ones too (``3m1s``, ``1h2m3.5s``)."""


FEW_EVENTS = 50
"""Below this many sampled events a phrase's absence says nothing: every rule is kept."""
MIN_SUPPORT = 0.002
"""Share of the sampled events a rule must match to be kept (two in 1,000)."""
MULTI_VALUED = frozenset({"port", "outcome", "exception", "auth_method"})
"""Context words whose every occurrence is kept (not CIM roles). Typed tokens are named by
their type, never by a CIM role (a URL anywhere in an event is not the requested ``url``)."""


@dataclass(frozen=True)
class TokenRule:
    """``always``: typed tokens are cheap and general, so they stay even if samples lack them;
    ``fields``: the field of each group (several: a role and its parts)."""

    stanza: str
    fields: tuple[str, ...]
    regex: str
    always: bool = False
    hints: tuple[str, ...] = ()
    """Lower-case strings one of which any matching event holds: a cheap test first."""

    @property
    def role(self) -> bool:
        """A CIM role (``context_*``) takes one value: what a template or an earlier rule
        found stays, and the field stays single-valued as CIM wants it."""
        return self.stanza.startswith("context_") and self.fields[0] not in MULTI_VALUED


def _endpoint_rule(stanza: str, words: str, side: str) -> TokenRule:
    return TokenRule(
        stanza,
        (side, f"{side}_interface", f"{side}_port", f"{side}_port"),
        rf"(?i)(?<![\w.\-])(?:{words}){_KEY}{_ENDPOINT}",
        hints=_hints(words),
    )


def _hints(words: str) -> tuple[str, ...]:
    """The literal words of an alternation such as ``from|src|...``."""
    return tuple(word.lower() for word in words.split("|"))


RULES = (
    TokenRule("token_ip", ("ip",), rf"{_BEFORE_IP}({IPV4}){_AFTER_IP}", True),
    TokenRule(
        "token_ipv6",
        ("ip",),
        rf"{_BEFORE}(?!(?:{MAC})(?![\w:]))({IPV6})(?=$|[\s)\]}},;>\"'!?/]|\.(?!\d))",
        True,
    ),
    TokenRule(
        "token_address",
        ("address",),
        rf"{_BEFORE}((?:\d{{1,3}}(?:\.\d{{1,3}}){{3}}|(?!\d{{4}}-\d\d-\d\dT)(?=[\w.\-]*[A-Za-z])"
        rf"[A-Za-z0-9][\w\-]*[.\-][\w.\-]*):\d{{1,5}}){_AFTER}",
        True,
    ),
    TokenRule(
        "token_bracketed", ("bracketed",), r"(?:^|(?<=\s))\[([^\s\[\]]+)\](?=[\s:,]|$)", True
    ),
    TokenRule(
        "token_parenthesized",
        ("parenthesized",),
        r"(?:^|(?<=\s))\(([^\s()]+)\)(?=[\s:,;.]|$)",
        hints=("(",),
    ),
    TokenRule(
        "token_qualified",
        ("qualified",),
        r"(?:^|(?<=[\s\[]))([A-Za-z][\w.\-]*)(?=\([^\s()]+\)(?:\[[^\s\[\]]+\])*(?:[\s:,;.]|$))",
        hints=("(",),
    ),
    TokenRule(
        "token_qualifier",
        ("qualifier",),
        r"(?<=[\w)])[(\[]([^\s()\[\]=]+)[)\]](?=[(\[]|[\s:,;.]|$)",
        hints=("(", "["),
    ),
    TokenRule(
        "token_source_line",
        ("source_file", "source_line"),
        r"(?<![\w./\-])([A-Za-z_][\w\-]*\.(?:c|cc|cpp|h|go|java|py|rb|js|ts|rs|cs|php|scala|kt))"
        r"[:(](\d+)\b",
        hints=(".",),
    ),
    TokenRule(
        "token_flag",
        ("flag",),
        r"(?<=\s)([A-Z]{2,5})(?=\s+[A-Z][A-Z0-9_]*=)",
        hints=("=",),
    ),
    TokenRule("token_url", ("link",), rf"\b({URL})", True),
    TokenRule("token_path", ("path",), r"(?:^|(?<=[\s(\[=,<\"']))(/[\w.\-/$@~+%:]+[\w/])", True),
    TokenRule(
        "token_hex",
        ("hex",),
        rf"{_BEFORE}(0x[0-9a-fA-F]+|(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{{6,}}){_AFTER}",
        True,
    ),
    TokenRule(
        "token_number",
        ("number",),
        rf"(?:{_BEFORE}|(?<=\.\.))(-?\d+(?:\.\d+)?){_AFTER}",
        True,
    ),
    TokenRule("token_port", ("port",), rf"(?:{IPV4})[#(](\d{{1,5}})(?![\d.])", hints=("#", "(")),
    TokenRule("token_mac", ("mac",), rf"(?<![\w:\-.])({MAC})(?![\w:\-])", hints=(":", "-", ".")),
    TokenRule("token_email", ("email",), rf"(?:^|(?<=[\s<:=,;(\[\"']))({EMAIL})", hints=("@",)),
    TokenRule(
        "token_uuid",
        ("uuid",),
        r"(?<![\w\-])([0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})(?![\w\-])",
        hints=("-",),
    ),
    TokenRule(
        "token_quoted", ("quoted",), r"(?:^|(?<=[\s=:(\[,]))\"([^\"\r\n]{1,256})\"", hints=('"',)
    ),
    TokenRule(
        "token_quoted_single",
        ("quoted",),
        r"(?:^|(?<=[\s=:(\[,]))'([^'\r\n]{1,256})'",
        hints=("'",),
    ),
    TokenRule(
        "token_domain",
        ("domain_name",),
        rf"(?<![\w.\-@/:])({HOSTNAME})(?![\w\-@:/]|\.[\w\-])",
        hints=(".",),
    ),
    TokenRule("token_quantity", ("quantity",), rf"{_BEFORE}({_QUANTITY})(?=$|[\s),;\]])"),
    TokenRule(
        "token_windows_path", ("path",), r"(?<![\w\\])([A-Za-z]:\\[^\s\"'<>|,;]+)", hints=(":\\",)
    ),
    _endpoint_rule("context_src", _SRC_WORDS, "src"),
    _endpoint_rule("context_dest", _DEST_WORDS, "dest"),
    _endpoint_rule("context_src_for", "for", "src"),
    TokenRule(
        "context_src_host",
        ("src",),
        rf"(?i)(?<![\w.\-])(?:{_SRC_WORDS}){_KEY}{_HOST_NAME}",
        hints=_hints(_SRC_WORDS),
    ),
    TokenRule(
        "context_dest_host",
        ("dest",),
        rf"(?i)(?<![\w.\-])(?:{_DEST_WORDS}){_KEY}{_HOST_NAME}",
        hints=_hints(_DEST_WORDS),
    ),
    TokenRule("context_port", ("port",), r"\bport\s+(\d{1,5})\b", hints=("port",)),
    TokenRule(
        "context_user",
        ("user",),
        rf"(?i)(?<![\w.\-])(?:{_USER_WORDS}){_KEY}['\"<]?(?!(?:{IPV4}|{_NOT_NAMES})\b)"
        r"([^\s:;,()\[\]'\"<>=]+)(?!=)",
        hints=("user", "account", "usr"),
    ),
    TokenRule(
        "context_user_for",
        ("user", "user"),
        r"\bfor\s+(?:(?:invalid|illegal)\s+user\s+([^\s:;,()\[\]]+)"
        r"|(?!(?:the|a|an|user|invalid|illegal)\b)([^\s\d:;,()\[\]'\"<>=/][^\s:;,()\[\]'\"<>=]*)"
        r"(?=\s*(?:[,;(]|-\s|$)|\s+from\b))",
        hints=("for",),
    ),
    TokenRule(
        "context_src_user",
        ("src_user",),
        rf"(?i)(?<![\w.\-])(?:from|sender|mail from){_KEY}<?({EMAIL})>?",
        hints=("from", "sender"),
    ),
    TokenRule(
        "context_recipient",
        ("recipient",),
        rf"(?i)(?<![\w.\-])(?:to|rcpt|recipient|rcpt to){_KEY}<?({EMAIL})>?",
        hints=("to", "rcpt", "recipient"),
    ),
    TokenRule(
        "context_http",
        ("http_method", "url"),
        rf"\b({'|'.join(HTTP_METHODS)})\s+({URL}|/[^\s\"']*)",
        hints=tuple(method.lower() for method in HTTP_METHODS),
    ),
    TokenRule(
        "context_status",
        ("status",),
        r"(?i)\b(?:status(?:[ _]code)?|returned|response(?:[ _]code)?)\s*[:=]?\s*([1-5]\d\d)\b",
        hints=("status", "returned", "response"),
    ),
    TokenRule(
        "context_bytes",
        ("bytes", "bytes"),
        r"(?i)(?<![\w.])(\d+)\s+bytes\b|\bbytes\s*[:=]?\s*(\d+)\b",
        hints=("bytes",),
    ),
    TokenRule(
        "context_flow",
        ("src", "src_port", "dest", "dest_port"),
        rf"(?<![\w.:])({IPV4})(?:[:/.](\d{{1,5}}))?\s*(?:->|=>|>|→)\s*({IPV4})(?:[:/.](\d{{1,5}}))?"
        r"(?![\d.]*\d)",
        hints=(">",),
    ),
    TokenRule(
        "context_transport",
        ("transport",),
        rf"(?i)\bproto(?:col)?\s*[:=]?\s*({'|'.join(TRANSPORTS)})\b",
        hints=("proto",),
    ),
    TokenRule("context_mac", ("src_mac",), rf"(?i)\bmac{_KEY}({MAC})(?![\w:\-])", hints=("mac",)),
    TokenRule(
        "context_dns",
        ("query", "record_type"),
        rf"(?<![\w.\-])({HOSTNAME})\.?\s+IN\s+({'|'.join(RECORD_TYPES)})\b",
        hints=(" in ",),
    ),
    TokenRule(
        "context_action", ("action",), r"(?i)\baction\s*[:=]\s*\"?([A-Za-z_]+)", hints=("action",)
    ),
    TokenRule(
        "context_severity",
        ("severity",),
        r"(?i)\b(?:severity|sev)\s*[:=]\s*\"?(critical|high|medium|low|informational)\b",
        hints=("sev",),
    ),
    TokenRule(
        "context_agent",
        ("http_user_agent",),
        r"(?i)\b(?:user[-_ ]?agent|agent|ua)\s*[:=]?\s*\"([^\"]+)\"",
        hints=("agent", "ua"),
    ),
    TokenRule(
        "context_auth_method",
        ("auth_method",),
        r"\b(password|publickey|keyboard-interactive(?:/pam)?|hostbased|gssapi-with-mic|none)"
        r"\s+for\b",
        hints=("for",),
    ),
    TokenRule(
        "context_exception",
        ("exception",),
        r"(?<![\w$.])((?:[a-z_$][\w$]*+\.)++[A-Z][\w$]*(?:Exception|Error|Throwable))\b",
        hints=("exception", "error", "throwable"),
    ),
    TokenRule(
        "context_outcome",
        ("outcome",),
        r"(?i)\b(accepted|failed|failure|invalid|denied|rejected|refused|succeeded|successful)\b",
    ),
)


def _first(regex: Regex, event: str) -> dict[int, str]:
    """The non-empty groups of the first match (none when the PCRE limits stop the search:
    Splunk then skips the transform for that event)."""
    try:
        match = regex.search(event)
    except RegexLimitError:
        return {}
    if match is None:
        return {}
    return {i: value for i in range(1, len(match.groups()) + 1) if (value := match.group(i))}


def plan_context(builder: PlanBuilder) -> None:
    """Add the always-on typed-token rules, and each other rule that matches enough sampled
    events (MIN_SUPPORT of them; one will do below 500); every rule for a small sample, where
    absence says nothing. Each rule costs every event a search in Splunk."""
    stanzas: list[str] = []
    lowered = [event.lower() for event in builder.events]
    support = max(1, math.ceil(MIN_SUPPORT * len(builder.events)))
    few = len(builder.events) < FEW_EVENTS
    for rule in RULES:
        regex = compile_regex(rule.regex)
        found: list[dict[int, str]] = []
        for event, lower in zip(builder.events, lowered, strict=True):
            if rule.hints and not any(hint in lower for hint in rule.hints):
                continue
            if groups := _first(regex, event):
                found.append(groups)
                if len(found) >= max(support, MAX_EXAMPLES):
                    break  # enough to know it matches and to show examples
        if not (rule.always or few or len(found) >= support):
            continue
        settings = {
            "REGEX": rule.regex,
            "FORMAT": " ".join(f"{name}::${i}" for i, name in enumerate(rule.fields, start=1)),
        }
        if not rule.role:
            settings["MV_ADD"] = "true"
        builder.transforms[rule.stanza] = settings
        for i, name in enumerate(rule.fields, start=1):
            builder.note(name, [groups[i] for groups in found if i in groups], "REPORT-context")
        stanzas.append(rule.stanza)
    if stanzas:
        builder.set("REPORT-context", ", ".join(stanzas))

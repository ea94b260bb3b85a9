"""Extractions that do not depend on a learned template: context words and typed tokens.

Templates only cover the message shapes seen in the samples. These rules run on every event, so
lines of an unseen shape still yield their addresses, paths, numbers and the values named by
context words ("from <ip>", "port <n>", "user <x>"). Each is a multi-valued REPORT transform
and is only emitted when it matches some sampled events.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.generator.fields.builder import PlanBuilder
from engine.regex import Regex, RegexLimitError, compile_regex

MIN_SHARE = 0.05
_BEFORE = r"(?:^|(?<=[\s(\[{=,<\"'/]))"
_AFTER = r"(?=$|[\s)\]},;>\"'!?]|[.:](?!\d))"
_AFTER_IP = r"(?=$|[\s)\]},;:>\"'!?/]|\.(?!\d))"
"""An address may be followed by ``:port`` or ``/prefix``; a plain number may not (times)."""


@dataclass(frozen=True)
class TokenRule:
    """``always``: typed tokens are cheap and general, so they stay even if samples lack them."""

    stanza: str
    field: str
    regex: str
    always: bool = False


RULES = (
    TokenRule("token_ip", "ip", rf"{_BEFORE}(\d{{1,3}}(?:\.\d{{1,3}}){{3}}){_AFTER_IP}", True),
    TokenRule(
        "token_ipv6",
        "ip",
        rf"{_BEFORE}((?=[\d:]*[a-fA-F]|[\w:]*::)[0-9a-fA-F]{{0,4}}(?::[0-9a-fA-F]{{0,4}}){{2,7}})"
        r"(?=$|[\s)\]},;>\"'!?/]|\.(?!\d))",
        True,
    ),
    TokenRule(
        "token_address",
        "address",
        rf"{_BEFORE}((?:\d{{1,3}}(?:\.\d{{1,3}}){{3}}|(?!\d{{4}}-\d\d-\d\dT)(?=[\w.\-]*[A-Za-z])[A-Za-z0-9][\w\-]*[.\-][\w.\-]*)"
        rf":\d{{1,5}}){_AFTER}",
        True,
    ),
    TokenRule("token_bracketed", "bracketed", r"(?:^|(?<=\s))\[([^\s\[\]]+)\](?=[\s:,]|$)", True),
    TokenRule(
        "token_url", "url", r"\b([a-z][a-z0-9+.\-]{1,15}://[^\s\"'<>]+[^\s\"'<>.,;:)\]])", True
    ),
    TokenRule("token_path", "path", r"(?:^|(?<=[\s(\[=,<\"']))(/[\w.\-/$@~+%:]+[\w/])", True),
    TokenRule(
        "token_hex",
        "hex",
        rf"{_BEFORE}(0x[0-9a-fA-F]+|(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{{6,}}){_AFTER}",
        True,
    ),
    TokenRule("token_number", "number", rf"(?:{_BEFORE}|(?<=\.\.))(-?\d+(?:\.\d+)?){_AFTER}", True),
    TokenRule("context_src", "src", r"\bfrom\s+/?([\w.\-:]*\w)"),
    TokenRule("context_dest", "dest", r"\bto\s+/?(\d{1,3}(?:\.\d{1,3}){3})"),
    TokenRule("context_port", "port", r"\bport\s+(\d{1,5})\b"),
    TokenRule("context_user", "user", r"\buser\s+([^\s:;,()\[\]]+)"),
    TokenRule(
        "context_user_for",
        "user",
        r"\bfor\s+(?:invalid\s+user\s+|illegal\s+user\s+|user\s+)?([^\s:;,()\[\]]+)\s+from\b",
    ),
    TokenRule(
        "context_auth_method",
        "auth_method",
        r"\b(password|publickey|keyboard-interactive(?:/pam)?|hostbased|gssapi-with-mic|none)"
        r"\s+for\b",
    ),
    TokenRule(
        "context_exception",
        "exception",
        r"(?<![\w$.])((?:[a-z_$][\w$]*+\.)++[A-Z][\w$]*(?:Exception|Error|Throwable))\b",
    ),
    TokenRule(
        "context_outcome",
        "outcome",
        r"(?i)\b(accepted|failed|failure|invalid|denied|rejected|refused|succeeded|successful)\b",
    ),
)


def _first(regex: Regex, event: str) -> str:
    """Group 1 of the first match, or "" (also when the PCRE limits stop the search: Splunk
    then skips the transform for that event)."""
    try:
        match = regex.search(event)
    except RegexLimitError:
        return ""
    return (match.group(1) or "") if match is not None else ""


def plan_context(builder: PlanBuilder) -> None:
    """Add the typed-token rules, and each context rule matching MIN_SHARE of the events."""
    stanzas: list[str] = []
    for rule in RULES:
        regex = compile_regex(rule.regex)
        examples = [value for event in builder.events if (value := _first(regex, event))]
        if not rule.always and len(examples) < max(1, MIN_SHARE * len(builder.events)):
            continue
        settings = {"REGEX": rule.regex, "FORMAT": f"{rule.field}::$1", "MV_ADD": "true"}
        builder.transforms[rule.stanza] = settings
        builder.note(rule.field, examples, "REPORT-context")
        stanzas.append(rule.stanza)
    if stanzas:
        builder.set("REPORT-context", ", ".join(stanzas))

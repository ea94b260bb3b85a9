"""CIM mapping: pick the data model the events fit and alias/compute its required fields.

The model is chosen from evidence in the events themselves: field names that are (or alias
to) the model's required fields, and keywords typical of its events (``Accepted password`` for
Authentication, ``GET /x HTTP/1.1`` for Web). Required fields are then produced from existing
fields through FIELDALIAS (known synonyms, nested JSON names), ``action`` through an EVAL over
result words, and the rest is reported as unmapped. Eventtypes and tags make the events visible
to the data model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from engine.cim.models import NEGATIVE_VALUES, CimDatasetInfo, cim_models
from engine.generator.fields.roles import role, words_of
from engine.generator.model import CimPlan, FieldInfo, FieldPlan, Settings

MIN_SCORE = 0.3
WHOLE_SOURCETYPE = 0.5
"""Keyword share above which the whole sourcetype belongs to the model's eventtype."""
MAX_TERMS = 12
UNMAPPED_CAVEAT = "required fields without a source"
"""The caveat naming a model's required fields that could not be mapped (LLM mappings fix it)."""

FALLBACK_ROLES: dict[str, str] = {"dest": "dvc", "app": "process"}
"""A role that provides a model's field when no field has its own role: the host that reports
an event is its ``dest`` in host-based models (Authentication, Change), the process its ``app``."""

KEYWORDS: dict[str, str] = {
    "Authentication": r"(?i)\b(?:log(?:ged)?[ _-]?(?:in|on|off|out)|authenticat\w*|password"
    r"|accepted \w+ for|session (?:opened|closed)|sudo|pam_unix|invalid user|kerberos)\b",
    "Web": r"\b(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH) \S+ HTTP/\d",
    "Network_Traffic": r"(?i)\b(?:allowed|accepted|denied|deny|dropped|blocked|rejected|teardown"
    r"|built (?:in|out)bound|session_(?:create|close|deny)|firewall)\b",
    "Change": r"(?i)\b(?:creat(?:e|ed)|modif(?:y|ied)|delet(?:e|ed)|updat(?:e|ed)|chang(?:e|ed)"
    r"|add(?:ed)?|remov(?:e|ed))\b",
    "Intrusion_Detection": r"(?i)\b(?:attack|exploit|intrusion|ids|ips|signature|malicious)\b",
    "Network_Resolution": r"(?i)\b(?:dns|query|nxdomain|a record|aaaa|cname)\b",
    "Email": r"(?i)\b(?:smtp|mail from|rcpt to|recipient|sender|message-id)\b",
    "Alerts": r"(?i)\balert\b",
}
"""Evidence in the raw text for each candidate model (PCRE-compatible, used for scoring)."""

ACTION_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Authentication": (
        ("success", r"accepted|success|succeeded|logged in|session opened"),
        ("failure", r"fail|unsuccess|invalid|denied|incorrect|error|refused"),
    ),
    "Network_Traffic": (
        ("allowed", r"allow|accept|permit|pass(?:ed|es)?(?![a-z])|built|create"),
        ("blocked", r"block|den(?:y|ied)|drop|reject"),
        ("teardown", r"teardown|close"),
    ),
    "Intrusion_Detection": (
        ("allowed", r"allow|accept|permit|pass(?:ed|es)?(?![a-z])|alert|detect"),
        ("blocked", r"block|den(?:y|ied)|drop|reject|prevent"),
    ),
    "Change": (
        ("created", r"creat|add(?:ed|s|ing)?(?![a-z])"),
        ("deleted", r"delet|remov"),
        ("modified", r"modif|updat|chang"),
    ),
}
"""``action`` values a model expects and the word starts (in a result field or the raw) that
mean them: :func:`action_pattern` makes them match at a word's start only."""


def action_pattern(words: str) -> str:
    """A case-blind PCRE matching one of ``words`` where a word starts, unless that word is a
    key (``errors=0``, ``failed_logins=3`` count things: they do not say the event failed).
    No backslash: the pattern sits in an eval string literal."""
    return f"(?i)(?<![a-z])(?:{words})(?![a-z0-9_.-]*=)"


SEVERITY_WORDS: tuple[tuple[str, str], ...] = (
    ("critical", r"^(?:emerg|alert|crit|fatal|panic)"),
    ("high", r"^(?:err|high|severe)"),
    ("medium", r"^(?:warn|medium)"),
    ("low", r"^(?:notice|low)"),
    ("informational", r"^(?:info|debug|trace|verbose|fine|config|note)"),
)
"""CIM's severity scale and the level words (syslog, log4j, java.util.logging...) meaning it."""

_RESULT_FIELDS = ("action", "act", "result", "status", "outcome", "event_outcome", "disposition")


@dataclass(frozen=True)
class _Fit:
    info: CimDatasetInfo
    score: float
    mapped: dict[str, str]


def _roots() -> dict[str, CimDatasetInfo]:
    """The root dataset of each model (the one its required fields are defined on)."""
    roots: dict[str, CimDatasetInfo] = {}
    for info in cim_models():
        if "." not in info.path and info.model not in roots:
            roots[info.model] = info
    return roots


def _by_role(available: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """CIM field -> the produced field whose role it is (the first in ``available``'s order)."""
    out: dict[str, str] = {}
    for name in available:
        cim_field = role(name, available[name])
        if cim_field is not None and cim_field not in out and _usable(available[name]):
            out[cim_field] = name
    return out


def _source_for(
    cim_field: str,
    available: dict[str, tuple[str, ...]],
    known: frozenset[str],
    roles: dict[str, str],
    ranks: dict[str, int] | None = None,
) -> str | None:
    """The produced field that best provides ``cim_field``, or None. A field whose role it is
    comes before the name itself when it is more reliable (``ranks``, see :func:`_rank`)."""
    ranks = ranks or {}
    source = roles.get(cim_field, cim_field)
    if cim_field in available and ranks.get(source, 0) >= ranks.get(cim_field, 0):
        return cim_field
    underscored = {name.replace(".", "_"): name for name in available if "." in name}
    if cim_field in underscored:
        return underscored[cim_field]
    for candidate in (f"{cim_field}.email", f"{cim_field}.name", f"{cim_field}.id"):
        if candidate in available and candidate.replace(".", "_") not in known:
            return candidate
    if cim_field in roles:
        return roles[cim_field]
    fallback = FALLBACK_ROLES.get(cim_field)
    return roles.get(fallback) if fallback is not None else None


def _usable(values: Sequence[str]) -> bool:
    return any(v.strip().lower() not in NEGATIVE_VALUES for v in values)


def _keyword_share(model: str, events: Sequence[str]) -> float:
    pattern = KEYWORDS.get(model)
    if pattern is None or not events:
        return 0.0
    regex = re.compile(pattern)
    return sum(1 for e in events if regex.search(e)) / len(events)


def _fit(
    info: CimDatasetInfo,
    available: dict[str, tuple[str, ...]],
    events: Sequence[str],
    ranks: dict[str, int] | None = None,
) -> _Fit:
    known = frozenset(info.required + info.conditional + info.optional)
    roles = _by_role(available)
    nested = {k: v for k, v in available.items() if "." in k}
    mapped: dict[str, str] = {}
    for name in info.required + info.conditional:
        source = _source_for(name, available, known, roles, ranks)
        if source is not None and _usable(available[source]):
            mapped[name] = source
    for name in info.optional:
        source = _source_for(name, nested, known, _by_role(nested))
        if source is not None and _usable(available[source]):
            mapped[name] = source
    ranks = ranks or {}
    hits = [n for n in info.required if n in mapped and ranks.get(mapped[n], 0) < 2]
    coverage = len(hits) / max(1, len(info.required)) * min(1.0, len(hits) / 3)
    keywords = _keyword_share(info.model, events)
    score = 0.5 * coverage + 0.5 * keywords if keywords or len(hits) >= 3 else 0.0
    return _Fit(info, score, mapped)


def _rank(info: FieldInfo) -> int:
    """0: a grammar, header, key or column; 1: a message template; 2: a rule run anywhere."""
    if info.source.startswith("REPORT-context"):
        return 2
    return 1 if info.source.startswith("EXTRACT-t") else 0


COLLECTOR_PREFIXES = frozenset(
    {"agent", "collector", "shipper", "forwarder", "beat", "input", "ecs", "metadata", "@metadata"}
)
"""First path segments under which a collector describes itself, not the event's source: its
host is not the event's host."""


def _reliability(info: FieldInfo) -> tuple[int, bool, int, str]:
    """Sort key: the most reliable fields first (:func:`_rank`), a collector's own fields last,
    then the most direct name."""
    collector = "." in info.name and info.name.split(".", 1)[0].lower() in COLLECTOR_PREFIXES
    return _rank(info), collector, len(words_of(info.name)), info.name


def _common_aliases(
    available: dict[str, tuple[str, ...]], ranks: dict[str, int] | None = None
) -> dict[str, str]:
    """CIM field -> source for every produced field with a CIM role (src, dest, user, ports...).

    Whatever model the events fit, a CIM user expects these names; nested JSON names whose
    underscored form is a CIM field (``object.path`` -> ``object_path``) are aliased too. A
    CIM name only some events get from a less reliable rule (``ranks``, see
    :func:`_reliability`) still gets the alias: ASNEW keeps it where it was found.
    """
    out: dict[str, str] = {}
    names = _all_cim_fields()
    for name, values in available.items():
        underscored = name.replace(".", "_")
        fresh = underscored in names and underscored not in available
        if "." in name and fresh and _usable(values):
            out[underscored] = name
    ranks = ranks or {}
    for cim_field, source in _by_role(available).items():
        if cim_field == "action" and not _cim_actions(available[source]):
            continue  # vendor words: the model's EVAL maps them
        weaker = ranks.get(cim_field, 0) > ranks.get(source, 0)
        if (weaker or not _usable(available.get(cim_field, ()))) and cim_field not in out:
            out[cim_field] = source
    return out


@lru_cache(maxsize=1)
def _action_vocabulary() -> frozenset[str]:
    return frozenset(
        value for info in cim_models() for value in info.expected_values.get("action", ())
    )


def _cim_actions(values: Sequence[str]) -> bool:
    """True when every value is already a CIM ``action`` word (any model's)."""
    present = [v for v in values if v.strip()]
    return bool(present) and set(present) <= _action_vocabulary()


@lru_cache(maxsize=1)
def _all_cim_fields() -> frozenset[str]:
    return frozenset(
        name for info in cim_models() for name in info.required + info.conditional + info.optional
    )


def _alias_key(name: str) -> str:
    return f"FIELDALIAS-cim_{name}"


def _alias(source: str, name: str) -> str:
    return f"{_quote(source)} ASNEW {name}"


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_]\w*", name) else f'"{name}"'


def _action_eval(model: str, source: str | None, *, keep: bool = False) -> str | None:
    """An eval expression mapping result words (or the raw text) to the model's actions.

    ``keep``: values that match no word stay as they are (normalising an existing field).
    """
    table = ACTION_WORDS.get(model)
    if not table:
        return None
    subject = f"'{source}'" if source else "_raw"
    branches = [f'match({subject}, "{action_pattern(words)}"), "{value}"' for value, words in table]
    if keep:
        branches.append(f"true(), {subject}")
    return f"case({', '.join(branches)})"


def _severity_eval(available: dict[str, tuple[str, ...]], common: dict[str, str]) -> str | None:
    """``severity`` on CIM's scale from a level field whose words are not CIM's, or None."""
    if available.get("severity") and role("severity", available["severity"]) == "severity":
        return None
    if "severity" in common:
        return None  # a field already says it in CIM's words
    source = "severity" if "severity" in available else common.get("severity_id")
    values = available.get(source or "", ())
    if source is None or not values or any(v.strip().isdigit() for v in values):
        return None
    subject = f"lower('{source}')"
    branches = [f'match({subject}, "{pattern}"), "{value}"' for value, pattern in SEVERITY_WORDS]
    return f"case({', '.join(branches)})"


_SCHEME = "^[A-Za-z][A-Za-z0-9+.-]*://"
URL_PARTS: dict[str, tuple[str, str]] = {
    "url_domain": (_SCHEME, _SCHEME + "(?:[^@/?#]*@)?([^:/?#]*).*$"),
    "dest_port": (_SCHEME + "[^/?#@]*:[0-9]+", _SCHEME + "[^/?#@]*:([0-9]+).*$"),
    "uri_path": (
        "^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?/",
        "^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?(/[^?#]*).*$",
    ),
    "uri_query": ("[?].", "^[^?]*[?]([^#]*).*$"),
}
"""CIM fields a URL holds: (when the URL has the part, how to cut it out)."""


def _url_evals(
    available: dict[str, tuple[str, ...]], common: dict[str, str], first: dict[str, str]
) -> Settings:
    """EVALs cutting ``url`` (extracted or aliased) into its CIM parts; ``coalesce`` keeps a
    part some field already provides (``first``: a field preferred to the part's own name)."""
    source = "url" if _usable(available.get("url", ())) else common.get("url")
    values = available.get(source or "", ())
    if not any("/" in v or "?" in v for v in values):
        return {}
    return {
        f"EVAL-{part}": f'coalesce({_keep(part, first)}, if(match(url, "{present}"), '
        f'replace(url, "{cut}", "\\1"), null()))'
        for part, (present, cut) in URL_PARTS.items()
    }


def _keep(name: str, first: dict[str, str]) -> str:
    """The eval arguments that keep ``name``'s value, a preferred field's first."""
    return f"{_ref(first[name])}, {name}" if name in first else name


def _ref(name: str) -> str:
    """A field in an eval expression (quoted when not a plain name)."""
    return name if re.fullmatch(r"[A-Za-z_]\w*", name) else f"'{name}'"


def _links(
    pairs: dict[str, str], available: dict[str, tuple[str, ...]], ranks: dict[str, int]
) -> tuple[Settings, dict[str, str]]:
    """Settings giving each CIM name its source's value, and the names a source must win.

    Mostly a FIELDALIAS (ASNEW: a value found under the CIM name stays). Where the CIM name is
    also a less reliable rule's guess (a word before a value), the source's own value wins:
    ``EVAL-user = coalesce(USER, user)``.
    """
    settings: Settings = {}
    first: dict[str, str] = {}
    for name, source in sorted(pairs.items()):
        if source == name:
            continue
        if name in available and ranks.get(name, 0) > ranks.get(source, 0):
            first[name] = source
        else:
            settings[_alias_key(name)] = _alias(source, name)
    return settings, first


def _preferred(first: dict[str, str], taken: Settings) -> Settings:
    """The ``coalesce`` EVALs of :func:`_links` not already folded into another EVAL."""
    return {
        f"EVAL-{name}": f"coalesce({_keep(name, first)})"
        for name in first
        if f"EVAL-{name}" not in taken
    }


def _vendor_product(available: dict[str, tuple[str, ...]], given: str) -> str | None:
    """The request's vendor/product name, else the events' own (CEF/LEEF header) fields."""
    if given:
        return '"' + given.replace('"', "'") + '"'
    if "vendor" in available and "product" in available:
        return 'vendor." ".product'
    return None


def _expected(values: Sequence[str], info: CimDatasetInfo, name: str) -> bool:
    """True when the model lists no expected values for ``name`` or all examples are among them."""
    allowed = info.expected_values.get(name)
    return not allowed or all(v in allowed for v in values)


def _eventtype_search(sourcetype: str, model: str, events: Sequence[str]) -> str:
    """The sourcetype, narrowed to the model's keywords when only some events carry them."""
    search = f'sourcetype="{sourcetype}"'
    pattern = KEYWORDS.get(model)
    if pattern is None or _keyword_share(model, events) >= WHOLE_SOURCETYPE:
        return search
    regex = re.compile(pattern)
    terms = Counter(match.group(0).lower() for event in events for match in regex.finditer(event))
    phrases = sorted(term for term, _ in terms.most_common(MAX_TERMS) if '"' not in term)
    if not phrases:
        return search
    return search + " (" + " OR ".join(f'"{p}"' for p in phrases) + ")"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "events"


def map_cim(
    field_plan: FieldPlan,
    events: Sequence[str],
    *,
    wanted: bool,
    sourcetype: str,
    vendor_product: str = "",
) -> CimPlan:
    """The CIM plan for one sourcetype: model, aliases, evals, eventtypes, tags, unmapped."""
    if not wanted:
        return CimPlan()
    # fields no sampled event showed (rules kept for lines to come) are no evidence yet
    shown = [f for f in sorted(field_plan.fields, key=_reliability) if f.examples]
    available = {f.name: f.examples for f in shown}
    ranks = {f.name: _rank(f) for f in shown}
    roots = _roots()
    fits = sorted(
        (_fit(info, available, events, ranks) for info in roots.values() if info.model in KEYWORDS),
        key=lambda fit: (-fit.score, fit.info.model),
    )
    common = _common_aliases(available, ranks)
    severity_eval = _severity_eval(available, common)
    if not fits or fits[0].score < MIN_SCORE:
        aliases, first = _links(common, available, ranks)
        aliases.update(_url_evals(available, common, first))
        aliases.update(_preferred(first, aliases))
        if severity_eval is not None:
            aliases["EVAL-severity"] = severity_eval
            common = {**common, "severity": severity_eval}
        return CimPlan(
            props=aliases,
            mapped=common,
            caveats=("No CIM data model fits these events well enough to map them.",),
        )
    best = fits[0]
    model = best.info.model
    mapped = {
        name: source
        for name, source in {**common, **best.mapped}.items()
        if name != "action" or source == "action" or _cim_actions(available[source])
    }
    props, first = _links(mapped, available, ranks)
    props.update(_url_evals(available, common, first))
    required = best.info.required + best.info.conditional
    aliased = mapped.get("action")
    if aliased is not None and _cim_actions(available[aliased]):
        pass  # the vendor already writes CIM's words
    elif "action" in required and "action" not in available:
        result = next((f for f in _RESULT_FIELDS if f in available), None)
        expression = _action_eval(model, result)
        if expression is not None:
            props["EVAL-action"] = expression
            mapped["action"] = expression
    elif "action" in required and not _expected(available["action"], best.info, "action"):
        expression = _action_eval(model, "action", keep=True)
        if expression is not None:
            props["EVAL-action"] = expression
            mapped["action"] = expression
    severity = available.get("severity", ())
    if "severity" in required and severity and all(v.isdigit() for v in severity):
        props["EVAL-severity"] = (
            'case(severity>=9, "critical", severity>=7, "high", severity>=4, "medium", '
            'severity>=1, "low", true(), "informational")'
        )
        mapped["severity"] = props["EVAL-severity"]
    elif severity_eval is not None:
        props["EVAL-severity"] = severity_eval
        mapped["severity"] = severity_eval
    if "vendor_product" in required and "vendor_product" not in available:
        expression = _vendor_product(available, vendor_product)
        if expression is not None:
            props["EVAL-vendor_product"] = expression
            mapped["vendor_product"] = expression
    props.update(_preferred(first, props))
    unmapped = tuple(name for name in best.info.required if name not in mapped)
    eventtype = f"{_slug(sourcetype)}_{_slug(model)}"
    eventtypes = {eventtype: {"search": _eventtype_search(sourcetype, model, events)}}
    tag_group = best.info.tags[0] if best.info.tags else ()
    tags = {f"eventtype={eventtype}": {tag: "enabled" for tag in tag_group}}
    caveats = []
    if unmapped:
        caveats.append(f"{model}: {UNMAPPED_CAVEAT}: {', '.join(unmapped)}.")
    return CimPlan(
        models=(model,),
        props=props,
        eventtypes=eventtypes,
        tags=tags,
        mapped=mapped,
        unmapped={model: unmapped} if unmapped else {},
        caveats=tuple(caveats),
    )

"""Lint a TA for the mistakes AppInspect does not catch (and the few it does, caught earlier).

Each finding carries ``file:line``, a severity from :data:`RULES` (``error``: Splunk would
misbehave or reject the app; ``warning``: works but is fragile or against conventions) and a
stable code. Every regex Splunk would run is compiled with the PCRE2 wrapper, never Python's
``re``; ``re`` here only splits conf syntax (``<regex> in <field>``, ``$n``, ``a AS b`` lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from engine.conf.parse import DEFAULT_STANZA, ConfFile
from engine.conf.ta import TA, InvalidTAError, validate_app_id, validate_version
from engine.messages import quoted
from engine.regex import Regex, RegexError, RegexLimitError, compile_regex

Severity = Literal["error", "warning"]

RULES: dict[str, Severity] = {
    # Identity problems AppInspect fails; write_ta and build_package refuse them outright, so
    # here they only warn (Splunk itself runs such an app).
    "app-conf-missing": "warning",  # no default/app.conf
    "app-id": "warning",  # package id Splunk or AppInspect refuses
    "app-version": "warning",  # version not SemVer
    "props-default-stanza": "error",  # [default] in props.conf changes every sourcetype
    "kv-mode-double-json": "error",  # KV_MODE=json with INDEXED_EXTRACTIONS=json
    "sourcetype-name": "warning",  # '::' or <>?&#[]/ in a sourcetype name
    "sourcetype-builtin": "warning",  # redefines a sourcetype Splunk ships
    "regex-invalid": "error",  # does not compile under PCRE2
    "regex-no-group": "error",  # LINE_BREAKER / EVENT_BREAKER / REPORT REGEX without a group
    "line-breaker-empty": "error",  # LINE_BREAKER / EVENT_BREAKER breaking on empty text
    "regex-no-named-group": "error",  # EXTRACT without (?<field>...)
    "format-group-out-of-range": "error",  # FORMAT $n beyond the REGEX's groups
    "missing-transform": "error",  # REPORT-/TRANSFORMS- naming an absent stanza
    "transform-no-regex": "error",  # search-time transform with neither REGEX nor DELIMS
    "transform-no-destination": "error",  # index-time transform without DEST_KEY/WRITE_META
    "transform-no-format": "warning",  # index-time FORMAT left to its default <stanza>::$1
    "lookup-syntax": "error",  # empty LOOKUP- value
    "lookup-missing-definition": "error",  # LOOKUP- naming an absent transforms stanza
    "lookup-not-a-definition": "error",  # LOOKUP- naming a stanza that is not a lookup
    "lookup-file-missing": "error",  # filename not shipped in lookups/
    "fieldalias-syntax": "error",  # not '<field> AS|ASNEW <alias>' pairs
    "sedcmd-syntax": "error",  # not s/regex/replacement/flags or y/a/b/
    "field-name-invalid": "error",  # whitespace, quotes, '=' ... in a field name
    "field-name-unusual": "warning",  # leading digit/underscore, '-', '{}', '@'
    "eventtype-no-search": "error",
    "eventtype-pipe": "error",  # eventtype searches cannot hold pipes
    "eventtype-subsearch": "error",  # ... nor subsearches
    "tag-stanza": "error",  # tags.conf stanza not [<field>=<value>]
    "tag-value": "error",  # tag state not enabled|disabled
    "tag-unknown-eventtype": "warning",  # tags an eventtype this TA does not define
    "conf-invalid-line": "warning",  # a line Splunk ignores
}

# Field names (Knowledge Manager Manual, "Proper field name syntax"): letters, digits, '.', ':'
# and '_', not starting with a digit or '_'. Splunk tolerates more (JSON paths with '{}' and
# '-', internal '_' fields): warning.
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:]*$")
FIELD_NAME_TOLERATED = re.compile(r"^[A-Za-z0-9_.:{}@-]+$")
SOURCETYPE_BAD_CHARS = frozenset("<>?&#[]/")
IN_FIELD = re.compile(r"^(?P<regex>.*?)\s+in\s+(?P<field>[A-Za-z0-9_.{}:@-]+)$", re.DOTALL)
FORMAT_GROUP = re.compile(r"\$(\d+)")
FORMAT_FIELD = re.compile(r"(?:^|\s)([^\s:$]+)::")
SPECIAL_STANZA = ("source::", "host::", "rule::", "delayedrule::")
KV_GROUP = ("_KEY_", "_VAL_")
# Pretrained source types (Getting Data In, "List of pretrained source types") and Splunk's own
# logs: an add-on that redefines them changes every app's data (AppInspect warns).
BUILTIN_SOURCETYPES = frozenset(
    """access_combined access_combined_wcookie access_common apache_error asterisk_cdr
    asterisk_event asterisk_messages asterisk_queue catalina cisco_syslog csv db2_diag dmesg
    exim_main exim_reject ftp iis json _json linux_audit linux_bootlog linux_messages_syslog
    linux_secure log4j log4php mysqld mysqld_bin mysqld_error novell_groupwise osx_asl
    osx_crash_log osx_crashreporter osx_daily osx_install osx_monthly osx_secure osx_weekly
    osx_window_server postfix_syslog psv ruby_on_rails sendmail_syslog snort splunk_web_access
    splunkd splunkd_access splunkd_ui_access ssl_error sugarcrm_log4php syslog tsv w3c
    weblogic_stdout websphere_activity websphere_core websphere_trlog
    windows_snare_syslog""".split()  # noqa: SIM905
)
# props.conf settings whose value is a regex splunkd compiles, and whether it needs a group.
PROPS_REGEXES: dict[str, bool] = {
    "LINE_BREAKER": True,
    "EVENT_BREAKER": True,
    "TIME_PREFIX": False,
    "BREAK_ONLY_BEFORE": False,
    "MUST_BREAK_AFTER": False,
    "MUST_NOT_BREAK_AFTER": False,
    "MUST_NOT_BREAK_BEFORE": False,
    "PREAMBLE_REGEX": False,
    "FIELD_HEADER_REGEX": False,
}
# Text without line breaks in which a sound LINE_BREAKER finds no empty event boundary.
EMPTY_BREAK_PROBES = ("x", "a1 b2.c-3:d_4/e\tf")
LOOKUP_KEYS = ("filename", "collection", "external_cmd", "external_type", "batch_index_query")
SEDCMD_USAGE = "expected s/<regex>/<replacement>/[g|N] or y/<a>/<b>/"


@dataclass(frozen=True, order=True)
class LintFinding:
    file: str
    line: int
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity} [{self.code}] {self.message}"


@dataclass(frozen=True)
class _At:
    """Where a finding points: a stanza (and key) of a conf file."""

    conf: ConfFile
    stanza: str | None = None
    key: str | None = None


def _unquoted_specials(search: str) -> tuple[bool, bool]:
    """Whether ``search`` has a pipe / an opening bracket outside double quotes."""
    pipe = bracket = quoted = escaped = False
    for char in search:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "|":
            pipe = True
        elif not quoted and char == "[":
            bracket = True
    return pipe, bracket


def _compile_quiet(pattern: str) -> Regex | None:
    """Compile without reporting (the transforms pass reports invalid regexes once)."""
    try:
        return compile_regex(pattern)
    except RegexError:
        return None


class _Linter:
    def __init__(self, ta: TA) -> None:
        self.ta = ta
        self.findings: list[LintFinding] = []
        self.props = ta.confs.get("props", ConfFile(path="default/props.conf"))
        self.transforms = ta.confs.get("transforms", ConfFile(path="default/transforms.conf"))

    def report(self, at: _At, code: str, message: str) -> None:
        if at.stanza is None:
            path, line = at.conf.path, 0
        else:
            path, line = at.conf.location(at.stanza, at.key)
        self.findings.append(LintFinding(path, line, RULES[code], code, message))

    def compile(self, at: _At, pattern: str) -> Regex | None:
        try:
            return compile_regex(pattern)
        except RegexError as exc:
            self.report(at, "regex-invalid", f"[{at.stanza}] {at.key}: not valid PCRE2: {exc}")
            return None

    def field_name(self, at: _At, name: str) -> None:
        where = f"[{at.stanza}] {at.key}"
        if FIELD_NAME.match(name):
            return
        if FIELD_NAME_TOLERATED.match(name):
            message = f"{where}: field name {name!r} should start with a letter and hold only "
            self.report(at, "field-name-unusual", message + "letters, digits, '_', '.', ':'")
        else:
            self.report(at, "field-name-invalid", f"{where}: {name!r} is not a valid field name")

    # -- app.conf ---------------------------------------------------------------------------
    def app(self) -> None:
        conf = self.ta.confs.get("app")
        if conf is None:
            self.report(
                _At(ConfFile(path="default/app.conf")), "app-conf-missing", "no default/app.conf"
            )
            return
        try:
            validate_app_id(self.ta.app_id)
        except InvalidTAError as exc:
            stanza = "package" if "package" in conf else None
            self.report(_At(conf, stanza, "id"), "app-id", str(exc))
        try:
            validate_version(self.ta.version)
        except InvalidTAError as exc:
            stanza = "id" if "id" in conf else None
            self.report(_At(conf, stanza, "version"), "app-version", str(exc))

    # -- props.conf -------------------------------------------------------------------------
    def props_conf(self) -> None:
        conf = self.props
        for name, stanza in conf.stanzas.items():
            at = _At(conf, name)
            if name == DEFAULT_STANZA:
                message = "props.conf [default] changes every sourcetype on the host"
                self.report(at, "props-default-stanza", message + "; AppInspect rejects it")
            elif not name.startswith(SPECIAL_STANZA):
                self.sourcetype_name(at, name)
                if name in BUILTIN_SOURCETYPES:
                    message = f"[{name}] redefines a sourcetype Splunk ships"
                    self.report(at, "sourcetype-builtin", message + "; use vendor:product")
            settings = stanza.settings
            if "sourcetype" in settings and name.startswith(("source::", "host::")):
                self.sourcetype_name(_At(conf, name, "sourcetype"), settings["sourcetype"])
            kv_mode = settings.get("KV_MODE", "").lower()
            if kv_mode == "json" and settings.get("INDEXED_EXTRACTIONS", "").lower() == "json":
                message = f"[{name}] KV_MODE=json with INDEXED_EXTRACTIONS=json extracts"
                self.report(
                    _At(conf, name, "KV_MODE"),
                    "kv-mode-double-json",
                    message + " every field twice; set KV_MODE=none",
                )
            for key, value in settings.items():
                self.props_setting(_At(conf, name, key), value)

    def empty_break(self, at: _At, regex: Regex) -> None:
        """props.conf.spec: the first capturing group is the text between events. One that
        matches nothing in plain text (``()``, ``([\\r\\n]*)``) breaks at every position."""
        for probe in EMPTY_BREAK_PROBES:
            try:
                matches = list(regex.finditer_bytes(probe.encode()))
            except RegexLimitError:
                return
            for match in matches:
                start, end = next(
                    (span for span in map(match.span, range(1, regex.groups + 1)) if span[0] >= 0),
                    (match.start(), match.start()),
                )
                if start == end:
                    message = (
                        f"[{at.stanza}] {at.key}: the event boundary can be empty (it matches "
                        f"at offset {start} of {probe!r}), so events would break at every such "
                        "position; make the first capturing group match at least one "
                        "character, e.g. ([\\r\\n]+)"
                    )
                    self.report(at, "line-breaker-empty", message)
                    return

    def sourcetype_name(self, at: _At, name: str) -> None:
        bad = sorted(SOURCETYPE_BAD_CHARS.intersection(name))
        if "::" in name:
            bad.insert(0, "::")
        if bad:
            message = f"sourcetype {name!r} contains {', '.join(bad)}"
            self.report(at, "sourcetype-name", message + " (AppInspect warns; needs quoting)")

    def props_setting(self, at: _At, value: str) -> None:
        key = at.key or ""
        kind, _, class_name = key.partition("-")
        if key in PROPS_REGEXES:
            compiled = self.compile(at, value)
            if compiled is not None and PROPS_REGEXES[key] and compiled.groups == 0:
                message = f"[{at.stanza}] {key}: needs a capturing group (the event boundary)"
                self.report(at, "regex-no-group", message)
            elif compiled is not None and PROPS_REGEXES[key]:
                self.empty_break(at, compiled)
        elif not class_name:
            return
        elif kind == "EXTRACT":
            self.extract(at, value)
        elif kind in ("REPORT", "TRANSFORMS"):
            self.transform_refs(at, value, index_time=kind == "TRANSFORMS")
        elif kind == "LOOKUP":
            self.lookup_ref(at, value)
        elif kind == "FIELDALIAS":
            self.fieldalias(at, value)
        elif kind == "EVAL":
            self.field_name(at, class_name)
        elif kind == "SEDCMD":
            self.sedcmd(at, value)

    def extract(self, at: _At, value: str) -> None:
        split = IN_FIELD.match(value)
        compiled = self.compile(at, split.group("regex") if split else value)
        if compiled is None:
            return
        if not compiled.groupindex:
            message = f"[{at.stanza}] {at.key}: EXTRACT needs a named group (?<field>...)"
            self.report(at, "regex-no-named-group", message)
        for name in compiled.groupindex:
            if not name.startswith(KV_GROUP):
                self.field_name(at, name)

    def transform_refs(self, at: _At, value: str, *, index_time: bool) -> None:
        for name in filter(None, (part.strip() for part in value.split(","))):
            target_at = _At(self.transforms, name)
            if name not in self.transforms:
                message = f"[{at.stanza}] {at.key}: transforms.conf has no [{name}] stanza"
                self.report(at, "missing-transform", message)
                continue
            target = self.transforms.get(name)
            if index_time:
                self.index_time_transform(target_at, target)
            elif "REGEX" not in target and "DELIMS" not in target:
                message = f"[{name}] used by {at.key} needs REGEX or DELIMS"
                self.report(target_at, "transform-no-regex", message)
            elif "REGEX" in target and "DELIMS" not in target:
                compiled = _compile_quiet(target["REGEX"])
                if compiled is not None and compiled.groups == 0:
                    message = f"[{name}] REGEX: a search-time extraction ({at.key}) needs a group"
                    self.report(_At(self.transforms, name, "REGEX"), "regex-no-group", message)

    def index_time_transform(self, at: _At, target: dict[str, str]) -> None:
        if "INGEST_EVAL" in target or "CLONE_SOURCETYPE" in target:
            return  # neither needs DEST_KEY nor FORMAT
        if "DEST_KEY" not in target and target.get("WRITE_META", "").lower() not in ("true", "1"):
            message = f"[{at.stanza}] used at index time needs DEST_KEY or WRITE_META = true"
            self.report(at, "transform-no-destination", message)
        elif "FORMAT" not in target:
            message = f"[{at.stanza}] used at index time needs FORMAT"
            self.report(at, "transform-no-format", message)

    def lookup_ref(self, at: _At, value: str) -> None:
        tokens = value.split()
        if not tokens:
            self.report(at, "lookup-syntax", f"[{at.stanza}] {at.key}: empty")
            return
        if tokens[0] not in self.transforms:
            message = f"[{at.stanza}] {at.key}: no lookup definition [{tokens[0]}] in transforms"
            self.report(at, "lookup-missing-definition", message)
        upper = [t.upper() for t in tokens]
        for marker in ("OUTPUT", "OUTPUTNEW"):
            if marker in upper:
                self.as_targets(at, tokens[upper.index(marker) + 1 :])

    def as_targets(self, at: _At, tokens: list[str]) -> None:
        """Field names written to events by ``a [AS b], ...`` lists (the event-side name)."""
        names = [t.strip(",") for t in tokens if t.strip(",")]
        index = 0
        while index < len(names):
            if index + 2 < len(names) and names[index + 1].upper() in ("AS", "ASNEW"):
                self.field_name(at, names[index + 2])
                index += 3
            else:
                self.field_name(at, names[index])
                index += 1

    def fieldalias(self, at: _At, value: str) -> None:
        tokens = [t for t in re.split(r"[\s,]+", value) if t]
        triples = range(0, len(tokens), 3)
        paired = len(tokens) % 3 == 0 and all(
            tokens[i + 1].upper() in ("AS", "ASNEW") for i in triples
        )
        if not tokens or not paired:
            message = f"[{at.stanza}] {at.key}: expected '<field> AS|ASNEW <alias>' pairs"
            self.report(at, "fieldalias-syntax", message)
            return
        for i in triples:
            self.field_name(at, tokens[i + 2])

    def sedcmd(self, at: _At, value: str) -> None:
        usage = f"[{at.stanza}] {at.key}: {SEDCMD_USAGE}"
        if len(value) < 2 or value[0] not in "sy":
            self.report(at, "sedcmd-syntax", usage)
            return
        parts = re.split(r"(?<!\\)" + re.escape(value[1]), value[2:])
        if len(parts) != 3 or (value[0] == "s" and not re.fullmatch(r"g|\d*", parts[2])):
            self.report(at, "sedcmd-syntax", usage)
        elif value[0] == "s":
            self.compile(at, parts[0])

    # -- transforms.conf --------------------------------------------------------------------
    def transforms_conf(self) -> None:
        conf = self.transforms
        for name, stanza in conf.stanzas.items():
            settings = stanza.settings
            regex_at = _At(conf, name, "REGEX")
            compiled = self.compile(regex_at, settings["REGEX"]) if "REGEX" in settings else None
            for group in compiled.groupindex if compiled else ():
                if not group.startswith(KV_GROUP):
                    self.field_name(regex_at, group)
            fmt = settings.get("FORMAT", "")
            if compiled is not None and "DELIMS" not in settings:
                for ref in sorted({int(n) for n in FORMAT_GROUP.findall(fmt)}):
                    if ref > compiled.groups:
                        groups = compiled.groups
                        message = f"[{name}] FORMAT uses ${ref}; REGEX has {groups} group(s)"
                        at = _At(conf, name, "FORMAT")
                        self.report(at, "format-group-out-of-range", message)
            if "DEST_KEY" not in settings:
                for field_name in FORMAT_FIELD.findall(fmt):
                    self.field_name(_At(conf, name, "FORMAT"), field_name)
            for field_name in (f.strip().strip('"') for f in settings.get("FIELDS", "").split(",")):
                if field_name:
                    self.field_name(_At(conf, name, "FIELDS"), field_name)
            filename = settings.get("filename")
            if filename is not None and filename not in self.ta.lookups:
                message = f"[{name}] filename {filename!r} is not in lookups/"
                self.report(_At(conf, name, "filename"), "lookup-file-missing", message)
        for prop_stanza in self.props.stanzas.values():
            for key, value in prop_stanza.settings.items():
                table = value.split()[0] if key.startswith("LOOKUP-") and value.split() else ""
                if table in conf and not any(k in conf.get(table) for k in LOOKUP_KEYS):
                    message = f"[{table}] used by {key} has none of {', '.join(LOOKUP_KEYS)}"
                    self.report(_At(conf, table), "lookup-not-a-definition", message)

    # -- eventtypes.conf and tags.conf ------------------------------------------------------
    def eventtypes_conf(self) -> None:
        conf = self.ta.confs.get("eventtypes")
        if conf is None:
            return
        for name, stanza in conf.stanzas.items():
            search = stanza.settings.get("search", "")
            if not search.strip():
                self.report(_At(conf, name), "eventtype-no-search", f"[{name}] has no search")
                continue
            pipe, bracket = _unquoted_specials(search)
            at = _At(conf, name, "search")
            if pipe:
                self.report(at, "eventtype-pipe", f"[{name}] search has a pipe: {quoted(search)}")
            if bracket:
                message = f"[{name}] search has a subsearch: {quoted(search)}"
                self.report(at, "eventtype-subsearch", message)

    def tags_conf(self) -> None:
        conf = self.ta.confs.get("tags")
        if conf is None:
            return
        eventtypes = self.ta.confs.get("eventtypes", ConfFile())
        for name, stanza in conf.stanzas.items():
            field_name, sep, value = name.partition("=")
            if not sep or not field_name or not value:
                message = f"[{name}] tags.conf stanzas are [<field>=<value>]"
                self.report(_At(conf, name), "tag-stanza", message)
                continue
            if field_name == "eventtype" and value not in eventtypes:
                message = f"[{name}] eventtype {quoted(value)} is not defined in this TA"
                self.report(_At(conf, name), "tag-unknown-eventtype", message)
            for tag, state in stanza.settings.items():
                if state.lower() not in ("enabled", "disabled"):
                    message = f"[{name}] {tag} = {state!r}: must be enabled or disabled"
                    self.report(_At(conf, name, tag), "tag-value", message)

    def invalid_lines(self) -> None:
        for conf in self.ta.confs.values():
            for line, text in conf.invalid_lines:
                message = f"ignored by Splunk (not a stanza, setting or comment): {text[:80]!r}"
                code = "conf-invalid-line"
                self.findings.append(LintFinding(conf.path, line, RULES[code], code, message))


def lint_ta(ta: TA) -> list[LintFinding]:
    """Every finding for ``ta``, sorted by file and line (errors first on the same line)."""
    linter = _Linter(ta)
    linter.app()
    linter.props_conf()
    linter.transforms_conf()
    linter.eventtypes_conf()
    linter.tags_conf()
    linter.invalid_lines()
    return sorted(set(linter.findings))

"""Lint a TA for the mistakes AppInspect does not catch (and the few it does, caught earlier).

Each rule reports ``file:line``, a severity (``error``: Splunk would misbehave or reject the
app; ``warning``: works but is fragile or against conventions) and a stable code. Every regex
Splunk would run is compiled with the PCRE2 wrapper, never Python's ``re``; ``re`` here only
splits conf syntax (``<regex> in <field>``, ``$n`` references, ``a AS b`` lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from engine.conf.parse import DEFAULT_STANZA, ConfFile
from engine.conf.ta import TA, InvalidTAError, validate_app_id, validate_version
from engine.regex import Regex, RegexError, compile_regex

Severity = Literal["error", "warning"]

# Field names: letters, digits, underscores, starting with a letter (Knowledge Manager Manual).
# Splunk tolerates more (dotted JSON paths, leading underscores for internal fields): warning.
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
FIELD_NAME_TOLERATED = re.compile(r"^[A-Za-z0-9_.:{}@-]+$")
SOURCETYPE_BAD_CHARS = set("<>?&#[]/")
IN_FIELD = re.compile(r"^(?P<regex>.*?)\s+in\s+(?P<field>[A-Za-z0-9_.{}:@-]+)$", re.DOTALL)
FORMAT_GROUP = re.compile(r"\$(\d+)")
FORMAT_FIELD = re.compile(r"(?:^|\s)([^\s:$]+)::")
SPECIAL_STANZA = ("source::", "host::", "rule::", "delayedrule::")
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
LOOKUP_KEYS = ("filename", "collection", "external_cmd", "external_type", "batch_index_query")


@dataclass(frozen=True, order=True)
class LintFinding:
    file: str
    line: int
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity} [{self.code}] {self.message}"


class _Linter:
    def __init__(self, ta: TA) -> None:
        self.ta = ta
        self.findings: list[LintFinding] = []
        self.props = ta.confs.get("props", ConfFile(path="default/props.conf"))
        self.transforms = ta.confs.get("transforms", ConfFile(path="default/transforms.conf"))

    def report(
        self,
        conf: ConfFile,
        stanza: str | None,
        key: str | None,
        severity: Severity,
        code: str,
        message: str,
    ) -> None:
        path, line = conf.location(stanza, key) if stanza is not None else (conf.path, 0)
        self.findings.append(LintFinding(path, line, severity, code, message))

    def compile(self, conf: ConfFile, stanza: str, key: str, pattern: str) -> Regex | None:
        try:
            return compile_regex(pattern)
        except RegexError as exc:
            self.report(
                conf,
                stanza,
                key,
                "error",
                "regex-invalid",
                f"[{stanza}] {key}: does not compile under PCRE2: {exc}",
            )
            return None

    def field_name(self, conf: ConfFile, stanza: str, key: str, name: str) -> None:
        if FIELD_NAME.match(name):
            return
        if FIELD_NAME_TOLERATED.match(name):
            self.report(
                conf,
                stanza,
                key,
                "warning",
                "field-name-unusual",
                f"[{stanza}] {key}: field name {name!r} should start with a letter and hold "
                "only letters, digits and underscores",
            )
        else:
            self.report(
                conf,
                stanza,
                key,
                "error",
                "field-name-invalid",
                f"[{stanza}] {key}: {name!r} is not a valid field name",
            )

    # -- app.conf ---------------------------------------------------------------------------
    def app(self) -> None:
        conf = self.ta.confs.get("app")
        if conf is None:
            self.findings.append(
                LintFinding(
                    "default/app.conf",
                    0,
                    "error",
                    "app-conf-missing",
                    "default/app.conf is missing",
                )
            )
            return
        for check, stanza, key, value in (
            (validate_app_id, "package", "id", self.ta.app_id),
            (validate_version, "id", "version", self.ta.version),
        ):
            try:
                check(value)
            except InvalidTAError as exc:
                code = "app-id" if key == "id" else "app-version"
                self.report(conf, stanza if stanza in conf else None, key, "error", code, str(exc))

    # -- props.conf -------------------------------------------------------------------------
    def props_conf(self) -> None:
        conf = self.props
        for name, stanza in conf.stanzas.items():
            if name == DEFAULT_STANZA:
                self.report(
                    conf,
                    name,
                    None,
                    "error",
                    "props-default-stanza",
                    "props.conf [default] changes every sourcetype on the host; "
                    "AppInspect rejects it",
                )
            elif not name.startswith(SPECIAL_STANZA):
                self.sourcetype_name(conf, name, None, name)
                if name in BUILTIN_SOURCETYPES:
                    self.report(
                        conf,
                        name,
                        None,
                        "warning",
                        "sourcetype-builtin",
                        f"[{name}] redefines a sourcetype Splunk ships; use a vendor:product name",
                    )
            settings = stanza.settings
            if "sourcetype" in settings and name.startswith(("source::", "host::")):
                self.sourcetype_name(conf, name, "sourcetype", settings["sourcetype"])
            if (
                settings.get("KV_MODE", "").lower() == "json"
                and settings.get("INDEXED_EXTRACTIONS", "").lower() == "json"
            ):
                self.report(
                    conf,
                    name,
                    "KV_MODE",
                    "error",
                    "kv-mode-double-json",
                    f"[{name}] KV_MODE=json with INDEXED_EXTRACTIONS=json extracts every "
                    "field twice; set KV_MODE=none",
                )
            for key, value in settings.items():
                self.props_setting(conf, name, key, value)

    def sourcetype_name(self, conf: ConfFile, stanza: str, key: str | None, name: str) -> None:
        bad = sorted(SOURCETYPE_BAD_CHARS.intersection(name))
        if "::" in name or bad:
            shown = ", ".join(["::", *bad] if "::" in name else bad)
            self.report(
                conf,
                stanza,
                key,
                "warning",
                "sourcetype-name",
                f"sourcetype {name!r} contains {shown} (AppInspect warns; searches need quoting)",
            )

    def props_setting(self, conf: ConfFile, stanza: str, key: str, value: str) -> None:
        kind, _, class_name = key.partition("-")
        if key in PROPS_REGEXES:
            compiled = self.compile(conf, stanza, key, value)
            if compiled is not None and PROPS_REGEXES[key] and compiled.groups == 0:
                self.report(
                    conf,
                    stanza,
                    key,
                    "error",
                    "regex-no-group",
                    f"[{stanza}] {key}: needs a capturing group (its text is the event boundary)",
                )
        elif kind == "EXTRACT" and class_name:
            self.extract(conf, stanza, key, value)
        elif kind in ("REPORT", "TRANSFORMS") and class_name:
            self.transform_refs(conf, stanza, key, value, index_time=kind == "TRANSFORMS")
        elif kind == "LOOKUP" and class_name:
            self.lookup_ref(conf, stanza, key, value)
        elif kind == "FIELDALIAS" and class_name:
            self.fieldalias(conf, stanza, key, value)
        elif kind == "EVAL" and class_name:
            self.field_name(conf, stanza, key, class_name)
        elif kind == "SEDCMD" and class_name:
            self.sedcmd(conf, stanza, key, value)

    def extract(self, conf: ConfFile, stanza: str, key: str, value: str) -> None:
        split = IN_FIELD.match(value)
        pattern = split.group("regex") if split else value
        compiled = self.compile(conf, stanza, key, pattern)
        if compiled is None:
            return
        if not compiled.groupindex:
            self.report(
                conf,
                stanza,
                key,
                "error",
                "regex-no-named-group",
                f"[{stanza}] {key}: EXTRACT needs a named group (?<field>...) to name the field",
            )
        for name in compiled.groupindex:
            if not name.startswith(("_KEY_", "_VAL_")):
                self.field_name(conf, stanza, key, name)

    def transform_refs(
        self, conf: ConfFile, stanza: str, key: str, value: str, *, index_time: bool
    ) -> None:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            target = self.transforms.get(name) if name in self.transforms else None
            if target is None:
                self.report(
                    conf,
                    stanza,
                    key,
                    "error",
                    "missing-transform",
                    f"[{stanza}] {key}: transforms.conf has no [{name}] stanza",
                )
            elif index_time:
                self.index_time_transform(name, target)
            elif "REGEX" not in target and "DELIMS" not in target:
                self.report(
                    self.transforms,
                    name,
                    None,
                    "error",
                    "transform-no-regex",
                    f"[{name}] used by {key} needs REGEX or DELIMS",
                )
            elif "REGEX" in target and "DELIMS" not in target:
                compiled = self.compile_quiet(target["REGEX"])
                if compiled is not None and compiled.groups == 0:
                    self.report(
                        self.transforms,
                        name,
                        "REGEX",
                        "error",
                        "regex-no-group",
                        f"[{name}] REGEX: a search-time extraction (used by {key}) needs a "
                        "capturing group",
                    )

    @staticmethod
    def compile_quiet(pattern: str) -> Regex | None:
        """Compile without reporting (the transforms pass reports invalid regexes once)."""
        try:
            return compile_regex(pattern)
        except RegexError:
            return None

    def index_time_transform(self, name: str, target: dict[str, str]) -> None:
        if "DEST_KEY" not in target and target.get("WRITE_META", "").lower() not in ("true", "1"):
            self.report(
                self.transforms,
                name,
                None,
                "error",
                "transform-no-destination",
                f"[{name}] used at index time needs DEST_KEY or WRITE_META = true",
            )
        elif "FORMAT" not in target:
            self.report(
                self.transforms,
                name,
                None,
                "error",
                "transform-no-format",
                f"[{name}] used at index time needs FORMAT",
            )

    def lookup_ref(self, conf: ConfFile, stanza: str, key: str, value: str) -> None:
        tokens = value.split()
        if not tokens:
            self.report(conf, stanza, key, "error", "lookup-syntax", f"[{stanza}] {key}: empty")
            return
        table = tokens[0]
        if table not in self.transforms:
            self.report(
                conf,
                stanza,
                key,
                "error",
                "lookup-missing-definition",
                f"[{stanza}] {key}: lookup definition [{table}] is not in transforms.conf",
            )
        upper = [t.upper() for t in tokens]
        for marker in ("OUTPUT", "OUTPUTNEW"):
            if marker in upper:
                outputs = tokens[upper.index(marker) + 1 :]
                self.as_targets(conf, stanza, key, outputs)

    def as_targets(self, conf: ConfFile, stanza: str, key: str, tokens: list[str]) -> None:
        """Field names written to events by ``a [AS b], ...`` lists (the event-side name)."""
        names = [t.strip(",") for t in tokens if t.strip(",")]
        index = 0
        while index < len(names):
            if index + 2 < len(names) and names[index + 1].upper() in ("AS", "ASNEW"):
                self.field_name(conf, stanza, key, names[index + 2])
                index += 3
            else:
                self.field_name(conf, stanza, key, names[index])
                index += 1

    def fieldalias(self, conf: ConfFile, stanza: str, key: str, value: str) -> None:
        tokens = [t for t in re.split(r"[\s,]+", value) if t]
        pairs_ok = len(tokens) % 3 == 0 and all(
            tokens[i + 1].upper() in ("AS", "ASNEW") for i in range(0, len(tokens), 3)
        )
        if not tokens or not pairs_ok:
            self.report(
                conf,
                stanza,
                key,
                "error",
                "fieldalias-syntax",
                f"[{stanza}] {key}: expected '<field> AS|ASNEW <alias>' pairs",
            )
            return
        for i in range(0, len(tokens), 3):
            self.field_name(conf, stanza, key, tokens[i + 2])

    def sedcmd(self, conf: ConfFile, stanza: str, key: str, value: str) -> None:
        if len(value) < 2 or value[0] not in "sy":
            self.report(
                conf,
                stanza,
                key,
                "error",
                "sedcmd-syntax",
                f"[{stanza}] {key}: expected s/<regex>/<replacement>/[g|N] or y/<a>/<b>/",
            )
            return
        parts = re.split(r"(?<!\\)" + re.escape(value[1]), value[2:])
        if len(parts) != 3 or (value[0] == "s" and not re.fullmatch(r"g|\d*", parts[2])):
            self.report(
                conf,
                stanza,
                key,
                "error",
                "sedcmd-syntax",
                f"[{stanza}] {key}: expected s/<regex>/<replacement>/[g|N] or y/<a>/<b>/",
            )
        elif value[0] == "s":
            self.compile(conf, stanza, key, parts[0])

    # -- transforms.conf --------------------------------------------------------------------
    def transforms_conf(self) -> None:
        conf = self.transforms
        for name, stanza in conf.stanzas.items():
            settings = stanza.settings
            compiled = None
            if "REGEX" in settings:
                compiled = self.compile(conf, name, "REGEX", settings["REGEX"])
            if compiled is not None:
                for group in compiled.groupindex:
                    if not group.startswith(("_KEY_", "_VAL_")):
                        self.field_name(conf, name, "REGEX", group)
            fmt = settings.get("FORMAT", "")
            if compiled is not None and "DELIMS" not in settings:
                for ref in sorted({int(n) for n in FORMAT_GROUP.findall(fmt)}):
                    if ref > compiled.groups:
                        self.report(
                            conf,
                            name,
                            "FORMAT",
                            "error",
                            "format-group-out-of-range",
                            f"[{name}] FORMAT uses ${ref} but REGEX has {compiled.groups} "
                            "capturing group(s)",
                        )
            if "DEST_KEY" not in settings:
                for field_name in FORMAT_FIELD.findall(fmt):
                    self.field_name(conf, name, "FORMAT", field_name)
            for field_name in (f.strip().strip('"') for f in settings.get("FIELDS", "").split(",")):
                if field_name:
                    self.field_name(conf, name, "FIELDS", field_name)
            filename = settings.get("filename")
            if filename is not None and filename not in self.ta.lookups:
                self.report(
                    conf,
                    name,
                    "filename",
                    "error",
                    "lookup-file-missing",
                    f"[{name}] filename {filename!r} is not in lookups/",
                )
        for prop_stanza in self.props.stanzas.values():
            for key, value in prop_stanza.settings.items():
                table = value.split()[0] if key.startswith("LOOKUP-") and value.split() else ""
                if table in conf and not any(k in conf.get(table) for k in LOOKUP_KEYS):
                    self.report(
                        conf,
                        table,
                        None,
                        "error",
                        "lookup-not-a-definition",
                        f"[{table}] used by {key} has none of {', '.join(LOOKUP_KEYS)}",
                    )

    # -- eventtypes.conf and tags.conf ------------------------------------------------------
    def eventtypes_conf(self) -> None:
        conf = self.ta.confs.get("eventtypes")
        if conf is None:
            return
        for name, stanza in conf.stanzas.items():
            search = stanza.settings.get("search", "")
            if not search.strip():
                self.report(
                    conf,
                    name,
                    None,
                    "error",
                    "eventtype-no-search",
                    f"[{name}] has no search",
                )
                continue
            pipe, bracket = _unquoted_specials(search)
            if pipe:
                self.report(
                    conf,
                    name,
                    "search",
                    "error",
                    "eventtype-pipe",
                    f"[{name}] search must not contain pipes: {search!r}",
                )
            if bracket:
                self.report(
                    conf,
                    name,
                    "search",
                    "error",
                    "eventtype-subsearch",
                    f"[{name}] search must not contain subsearches: {search!r}",
                )

    def tags_conf(self) -> None:
        conf = self.ta.confs.get("tags")
        if conf is None:
            return
        eventtypes = self.ta.confs.get("eventtypes", ConfFile())
        for name, stanza in conf.stanzas.items():
            field_name, sep, value = name.partition("=")
            if not sep or not field_name or not value:
                self.report(
                    conf,
                    name,
                    None,
                    "error",
                    "tag-stanza",
                    f"[{name}] tags.conf stanzas are [<field>=<value>]",
                )
                continue
            if field_name == "eventtype" and value not in eventtypes:
                self.report(
                    conf,
                    name,
                    None,
                    "warning",
                    "tag-unknown-eventtype",
                    f"[{name}] eventtype {value!r} is not defined in this TA's eventtypes.conf",
                )
            for tag, state in stanza.settings.items():
                if state.lower() not in ("enabled", "disabled"):
                    self.report(
                        conf,
                        name,
                        tag,
                        "error",
                        "tag-value",
                        f"[{name}] {tag} = {state!r}: must be enabled or disabled",
                    )

    def invalid_lines(self) -> None:
        for conf in self.ta.confs.values():
            for line, text in conf.invalid_lines:
                self.findings.append(
                    LintFinding(
                        conf.path,
                        line,
                        "warning",
                        "conf-invalid-line",
                        f"ignored by Splunk (not a stanza, setting or comment): {text[:80]!r}",
                    )
                )


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

"""Masking personal and secret data in what a TA ships (README examples, sample files) and in
what the LLM planner sends.

Replacements are stable within one generation (the same address always becomes the same
placeholder) so masked samples keep their structure: distinct hosts stay distinct, IPs stay
valid IPs from the documentation ranges (RFC 5737 / RFC 3849), e-mails stay e-mails, host names
(a name under a common or country top-level domain) become ``host-N.example.net``. Secrets
(``password=...``, bearer tokens, JWTs, long hex or base64 keys) become ``REDACTED``. User and
host names are known from the fields that hold them (``user``, ``src_user``, ``dest_host``...):
such a field's value becomes ``user-N`` / ``host-N``, and once learned (:meth:`Redactor.learn`,
or the mailbox of an e-mail address) so does every later occurrence of it in any text.
"""

from __future__ import annotations

import ipaddress
import re

MASK = "REDACTED"

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?![\w:])")
_SECRET_WORDS = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|session[_-]?id|authorization|cookie|credentials?)"
)
_SECRET_NAME = re.compile(rf"(?:^|[_.-]){_SECRET_WORDS}$", re.IGNORECASE)
_SECRET_KV = re.compile(
    rf"""(?P<key>\b(?:[\w.-]*[_.-])?{_SECRET_WORDS}"?\s*[=:]\s*"?)(?P<value>[^\s"',;&}}]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(?P<key>(?:bearer|basic)\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b")
_LONG_TOKEN = re.compile(
    r"(?<![\w/.-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w/.-])"
)

_DOTTED = re.compile(r"(?<![\w@.-])[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+(?![\w-]|\.\w)")
_GENERIC_TLDS = frozenset(
    "com net org edu gov mil biz io local localdomain lan internal intranet corp home arpa".split()  # noqa: SIM905 (one line of words reads better than sixteen strings)
)
_PLACEHOLDER_DOMAIN = re.compile(r"(?:^|\.)example\.(?:com|net|org)$", re.IGNORECASE)
_IDENTITY_NAME = re.compile(
    r"(?:^|[_.])(?:user(?:_?name)?|login_?name|account(?:_?name)?|logname|ruser|owner|"
    r"host(?:_?name)?|rhost|computer(?:_?name)?|workstation(?:_?name)?|fqdn|nt_host|"
    r"server_?name)$",
    re.IGNORECASE,
)
_HOST_WORDS = ("host", "computer", "workstation", "fqdn", "server")
MIN_IDENTITY_CHARS = 2
MAX_IDENTITIES = 5_000
_NOT_IDENTITY = frozenset({"-", "none", "null", "unknown", "n/a", "true", "false"})


def is_host_name(text: str) -> bool:
    """A dotted name under a common top-level domain (``db1.corp``, ``www.acme.com``) or a
    country one with at least three labels (``mail.acme.co.uk``); not ``com.acme.App`` (a
    Java class), ``app.log`` or ``sshd.service``."""
    labels = text.lower().split(".")
    tld = labels[-1]
    if tld in _GENERIC_TLDS:
        return len(labels) >= 2 and any(char.isalpha() for char in labels[-2])
    return len(labels) >= 3 and len(tld) == 2 and tld.isalpha()


def is_identity_field(name: str) -> bool:
    """Whether a field's name says it holds a user or host name (``user``, ``src_user``,
    ``dest_host``, ``ComputerName``...)."""
    return _IDENTITY_NAME.search(name) is not None


class Redactor:
    """Masks e-mails, IP addresses, tokens and secrets, consistently across calls."""

    def __init__(self, *, ip_shape: bool = True) -> None:
        """``ip_shape``: masked IPs stay valid documentation-range IPs (for samples); otherwise
        they become ``<ipv4-N>`` (README text, where AppInspect flags anything IP-shaped)."""
        self._ip_shape = ip_shape
        self._ipv4: dict[str, str] = {}
        self._ipv6: dict[str, str] = {}
        self._emails: dict[str, str] = {}
        self._identities: dict[str, str] = {}
        self._known: re.Pattern[str] | None = None

    def _v4(self, match: re.Match[str]) -> str:
        value = match.group(0)
        if value not in self._ipv4:
            n = len(self._ipv4)
            block = ("192.0.2", "198.51.100", "203.0.113")[(n // 254) % 3]
            shaped = f"{block}.{n % 254 + 1}"
            self._ipv4[value] = shaped if self._ip_shape else f"<ipv4-{n + 1}>"
        return self._ipv4[value]

    def _v6(self, match: re.Match[str]) -> str:
        value = match.group(0)
        if "::" not in value and value.count(":") < 7:
            return value  # times such as 12:34:56 share the alphabet
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return value
        n = len(self._ipv6) + 1
        return self._ipv6.setdefault(value, f"2001:db8::{n:x}" if self._ip_shape else f"<ipv6-{n}>")

    def _email(self, match: re.Match[str]) -> str:
        value = match.group(0).lower()
        # The mailbox is a user name: it is masked wherever else it occurs, too.
        self._learn_one("user", match.group(0).rsplit("@", 1)[0])
        return self._emails.setdefault(value, f"user{len(self._emails) + 1}@example.com")

    def _placeholder(self, value: str, *, host: bool) -> str:
        """A stable placeholder for a user or host name (host names keep a dotted shape)."""
        found = self._identities.get(value)
        if found is None:
            n = len(self._identities) + 1
            if not host:
                found = f"user-{n}"
            else:
                found = f"host-{n}.example.net" if "." in value else f"host-{n}"
            self._identities[value] = found
            self._known = None
        return found

    def _host(self, match: re.Match[str]) -> str:
        value = match.group(0)
        if _PLACEHOLDER_DOMAIN.search(value) or not is_host_name(value):
            return value
        return self._placeholder(value, host=True)

    def _learn_one(self, name: str, value: str) -> str | None:
        """The placeholder of an identity field's value (None: not an identity value, or one
        the plain redaction masks already, such as an IP or an e-mail address)."""
        if not _is_identity_value(name, value) or len(self._identities) >= MAX_IDENTITIES:
            return None
        if Redactor(ip_shape=self._ip_shape).redact(value) != value:
            return None
        return self._placeholder(value, host=any(word in name.lower() for word in _HOST_WORDS))

    def learn(self, name: str, value: str) -> bool:
        """Remember that field ``name`` holds the user or host name ``value``: every later
        text masks it. False when it is no such value (or is masked anyway)."""
        return self._learn_one(name, value) is not None

    def _known_names(self) -> re.Pattern[str] | None:
        if self._known is None and self._identities:
            names = sorted(self._identities, key=len, reverse=True)
            self._known = re.compile(
                r"(?<![\w.@/-])(?:" + "|".join(map(re.escape, names)) + r")(?![\w@/-]|\.\w)"
            )
        return self._known

    def redact_field(self, name: str, value: str) -> str:
        """A field's value: masked whole when the field's name says it is a secret, or a user
        or host name."""
        if _SECRET_NAME.search(name):
            return MASK
        return self._learn_one(name, value) or self.redact(value)

    def redact(self, text: str) -> str:
        """``text`` with personal data and secrets masked."""
        text = _BEARER.sub(lambda m: m.group("key") + MASK, text)
        text = _SECRET_KV.sub(
            lambda m: m.group(0) if m.group("value") == MASK else m.group("key") + MASK, text
        )
        text = _JWT.sub(MASK, text)
        text = _EMAIL.sub(self._email, text)
        text = _IPV4.sub(self._v4, text)
        text = _IPV6.sub(self._v6, text)
        text = _DOTTED.sub(self._host, text)
        known = self._known_names()
        if known is not None:
            text = known.sub(lambda m: self._identities[m.group(0)], text)
        return _LONG_TOKEN.sub(MASK, text)


def _is_identity_value(name: str, value: str) -> bool:
    stripped = value.strip()
    return (
        is_identity_field(name)
        and len(stripped) >= MIN_IDENTITY_CHARS
        and stripped.lower() not in _NOT_IDENTITY
        and not stripped.isdigit()
    )

"""Masking personal and secret data in what a TA ships (README examples, sample files).

Replacements are stable within one generation (the same address always becomes the same
placeholder) so masked samples keep their structure: distinct hosts stay distinct, IPs stay
valid IPs from the documentation ranges (RFC 5737 / RFC 3849), e-mails stay e-mails. Secrets
(``password=...``, bearer tokens, JWTs, long hex or base64 keys) become ``REDACTED``.
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


class Redactor:
    """Masks e-mails, IP addresses, tokens and secrets, consistently across calls."""

    def __init__(self, *, ip_shape: bool = True) -> None:
        """``ip_shape``: masked IPs stay valid documentation-range IPs (for samples); otherwise
        they become ``<ipv4-N>`` (README text, where AppInspect flags anything IP-shaped)."""
        self._ip_shape = ip_shape
        self._ipv4: dict[str, str] = {}
        self._ipv6: dict[str, str] = {}
        self._emails: dict[str, str] = {}

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
        return self._emails.setdefault(value, f"user{len(self._emails) + 1}@example.com")

    def redact_field(self, name: str, value: str) -> str:
        """A field's value: masked whole when the field's name says it is a secret."""
        if _SECRET_NAME.search(name):
            return MASK
        return self.redact(value)

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
        return _LONG_TOKEN.sub(MASK, text)

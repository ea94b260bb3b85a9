"""Typed tokens: the values log messages carry (addresses, names, paths, sizes...).

Each kind renders a fresh value from a random generator. A :class:`Vocabulary` holds the small
pools a real system draws from (a few dozen users and hosts, a handful of servers), so values
repeat across events the way they do in real logs, and decides whether names carry accented
letters (the Latin-1 and UTF-16 samples need text outside ASCII to mean anything).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from random import Random

FIRST = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
    "peggy",
    "trent",
    "victor",
    "walter",
    "nina",
    "omar",
    "li",
    "sven",
)
ACCENTED = (
    "josé",
    "müller",
    "françois",
    "søren",
    "zoë",
    "andrés",
    "björn",
    "inès",
    "günter",
    "renée",
    "łukasz",
    "çelik",
)
"""Names outside ASCII; the first ten are Latin-1, the rest need a Unicode encoding."""
LATIN1_ACCENTED = ACCENTED[:10]
LAST = ("smith", "jones", "brown", "garcia", "khan", "nguyen", "rossi", "tanaka", "weber", "silva")
SERVICE = ("svc_backup", "deploy", "root", "admin", "www-data", "nagios", "postgres", "jenkins")
DOMAINS = ("example.com", "example.org", "corp.example.net", "acme.test", "internal.lan")
HOST_ROLES = ("web", "db", "app", "fw", "proxy", "mail", "dns", "cache", "edge", "auth", "vpn")
WORDS = (
    "alpha",
    "bravo",
    "delta",
    "orbit",
    "quartz",
    "ember",
    "falcon",
    "harbor",
    "lumen",
    "nimbus",
    "pixel",
    "raven",
    "sierra",
    "tango",
    "vector",
    "zephyr",
    "cobalt",
    "maple",
)
PATH_DIRS = (
    "var",
    "log",
    "opt",
    "srv",
    "data",
    "etc",
    "tmp",
    "home",
    "lib",
    "cache",
    "spool",
    "www",
    "backup",
    "reports",
    "uploads",
)
EXTENSIONS = ("log", "conf", "json", "txt", "csv", "gz", "tar", "pdf", "png", "xml", "db")
WIN_DIRS = ("Program Files", "Windows", "Users", "ProgramData", "Temp", "System32", "AppData")
TLDS = ("com", "net", "org", "io", "de", "fr", "jp")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")
HTTP_STATUS = (
    "200",
    "201",
    "204",
    "301",
    "302",
    "304",
    "400",
    "401",
    "403",
    "404",
    "409",
    "429",
    "500",
    "502",
    "503",
)
ACTIONS = (
    "allowed",
    "blocked",
    "success",
    "failure",
    "deferred",
    "created",
    "deleted",
    "modified",
    "read",
    "quarantined",
)
"""Values of the CIM ``action`` vocabulary (so the expected value is the literal one)."""
SEVERITIES = ("critical", "high", "medium", "low", "informational")
TRANSPORTS = ("tcp", "udp", "icmp")
RECORD_TYPES = ("A", "AAAA", "MX", "TXT", "CNAME", "PTR", "SRV", "NS")
INTERFACES = (
    "eth0",
    "eth1",
    "ens192",
    "wlan0",
    "bond0",
    "Gi0/1",
    "ge-0/0/3",
    "outside",
    "inside",
    "dmz",
)
PHRASES = (
    "disk quota exceeded",
    "connection reset by peer",
    "permission denied",
    "no route to host",
    "certificate expired",
    "invalid credentials",
    "queue is full",
    "operation timed out",
    "resource busy",
    "upstream unavailable",
    "bad gateway",
)
ACCENTED_PHRASES = (
    "échec de connexion",
    "accès refusé",
    "übertragung abgebrochen",
    "contraseña inválida",
    "délai dépassé",
)
"""Latin-1 phrases, for the formats whose text is not plain ASCII."""
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0",
)


def _ipv4(rng: Random) -> str:
    first = rng.choice((10, 172, 192, 198, 203, 45, 81, 100, 151, 185))
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _ipv6(rng: Random) -> str:
    groups = [0x2001, 0xDB8, *(rng.choice((0, rng.randint(1, 0xFFFF))) for _ in range(6))]
    value = 0
    for group in groups:
        value = value << 16 | group
    return ipaddress.IPv6Address(value).compressed


def _port(rng: Random) -> str:
    if rng.random() < 0.4:
        return str(rng.choice((22, 25, 53, 80, 110, 123, 143, 443, 445, 993, 3306, 5432, 8080)))
    return str(rng.randint(1024, 65535))


def _mac(rng: Random) -> str:
    octets = [rng.randint(0, 255) for _ in range(6)]
    style = rng.random()
    if style < 0.6:
        return ":".join(f"{octet:02x}" for octet in octets)
    if style < 0.8:
        return "-".join(f"{octet:02X}" for octet in octets)
    pairs = [f"{octets[i]:02x}{octets[i + 1]:02x}" for i in range(0, 6, 2)]
    return ".".join(pairs)


def _hex(rng: Random) -> str:
    digits = "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice((8, 12, 16, 24))))
    return f"0x{digits}" if rng.random() < 0.3 else digits


def _uuid(rng: Random) -> str:
    digits = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _duration(rng: Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return f"{rng.randint(1, 5000)}ms"
    if style == 1:
        return f"{rng.randint(0, 59)}.{rng.randint(0, 999):03d}s"
    if style == 2:
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if style == 3:
        return f"{rng.randint(1, 59)}m{rng.randint(0, 59)}s"
    return f"{rng.randint(1, 900)}us"


def _size(rng: Random) -> str:
    unit = rng.choice(("B", "KB", "MB", "GB", "KiB", "MiB"))
    if rng.random() < 0.5:
        return f"{rng.randint(1, 1023)}{unit}"
    return f"{rng.randint(1, 999)}.{rng.randint(0, 9)}{unit}"


def _path(rng: Random) -> str:
    if rng.random() < 0.2:
        parts = [rng.choice(WIN_DIRS) for _ in range(rng.randint(1, 3))]
        name = f"{rng.choice(WORDS)}.{rng.choice(('exe', 'dll', 'log', 'ini'))}"
        return "C:\\" + "\\".join([*parts, name])
    parts = [rng.choice(PATH_DIRS) for _ in range(rng.randint(1, 4))]
    return "/" + "/".join([*parts, f"{rng.choice(WORDS)}.{rng.choice(EXTENSIONS)}"])


def _url(rng: Random) -> str:
    host = f"{rng.choice(WORDS)}.{rng.choice(WORDS)}.{rng.choice(TLDS)}"
    path = "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    query = f"?id={rng.randint(1, 99999)}&q={rng.choice(WORDS)}" if rng.random() < 0.4 else ""
    return f"{rng.choice(('http', 'https'))}://{host}/{path}{query}"


def _domain(rng: Random) -> str:
    return f"{rng.choice(WORDS)}.{rng.choice(DOMAINS)}"


def _int(rng: Random) -> str:
    return str(rng.choice((rng.randint(0, 99), rng.randint(100, 99999))))


def _float(rng: Random) -> str:
    return f"{rng.randint(0, 999)}.{rng.randint(0, 99):02d}"


Maker = Callable[[Random], str]

FRESH: dict[str, Maker] = {
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "port": _port,
    "mac": _mac,
    "hex": _hex,
    "uuid": _uuid,
    "duration": _duration,
    "size": _size,
    "path": _path,
    "url": _url,
    "domain": _domain,
    "int": _int,
    "float": _float,
    "agent": lambda rng: rng.choice(AGENTS),
    "method": lambda rng: rng.choice(HTTP_METHODS),
    "status": lambda rng: rng.choice(HTTP_STATUS),
    "action": lambda rng: rng.choice(ACTIONS),
    "severity": lambda rng: rng.choice(SEVERITIES),
    "transport": lambda rng: rng.choice(TRANSPORTS),
    "rtype": lambda rng: rng.choice(RECORD_TYPES),
    "iface": lambda rng: rng.choice(INTERFACES),
}
"""Kinds whose every value is drawn afresh (or from a small fixed vocabulary)."""

POOLED = ("user", "email", "host", "server", "word", "phrase")
"""Kinds drawn from the format's own pools: a system has a limited cast of users and hosts, and
its words and phrases carry accents when the format's text is not plain ASCII."""

KINDS = (*FRESH, *POOLED)

SPACED = frozenset({"phrase", "agent"})
"""Kinds whose values hold spaces, so delimited and key=value layouts must quote them."""


class Vocabulary:
    """The pools of one format, and the token renderer drawing from them."""

    def __init__(self, rng: Random, *, accents: str = "") -> None:
        self._rng = rng
        names = list(FIRST)
        if accents:
            names += list(LATIN1_ACCENTED if accents == "latin-1" else ACCENTED)
        self._users = [self._user(names) for _ in range(rng.randint(3, 40))]
        if accents:
            self._users += [rng.choice(names[len(FIRST) :]) for _ in range(3)]
        self._hosts = [self._host() for _ in range(rng.randint(2, 30))]
        self._servers = [_ipv4(rng) for _ in range(rng.randint(1, 8))]
        self._words = [
            *rng.sample(WORDS, 6),
            *(rng.sample(names[len(FIRST) :], 3) if accents else []),
        ]
        self._phrases = [*PHRASES, *(ACCENTED_PHRASES if accents else ())]

    def _user(self, names: list[str]) -> str:
        rng = self._rng
        style = rng.randrange(6)
        if style == 0:
            return rng.choice(SERVICE)
        if style == 1:
            return f"{rng.choice(names)}.{rng.choice(LAST)}"
        if style == 2:
            return f"{rng.choice(names)[0]}{rng.choice(LAST)}{rng.randint(1, 99)}"
        return rng.choice(names)

    def _host(self) -> str:
        rng = self._rng
        short = f"{rng.choice(HOST_ROLES)}-{rng.randint(1, 40):02d}"
        return f"{short}.{rng.choice(DOMAINS)}" if rng.random() < 0.5 else short

    def token(self, kind: str) -> str:
        rng = self._rng
        if kind == "user":
            return rng.choice(self._users)
        if kind == "email":
            user = rng.choice(self._users).replace(".", "_").replace("-", "_")
            return f"{user}@{rng.choice(DOMAINS)}"
        if kind == "host":
            return rng.choice(self._hosts)
        if kind == "server":
            return rng.choice(self._servers)
        if kind == "word":
            return f"{rng.choice(self._words)}-{rng.randint(1, 40)}"
        if kind == "phrase":
            return rng.choice(self._phrases)
        return FRESH[kind](rng)

"""Names by role: the CIM field a key, a column header, a JSON path or a context word stands for.

A Splunk user searches ``src``, ``dest_port``, ``user``, ``url``, ``http_method``, ``action``;
vendors write ``srcip``, ``sourceAddress``, ``client.port``, ``dpt``, ``userPrincipalName``.
The key is split into words (separators, camelCase, and known words run together: ``srcintf``
-> src intf, ``dport`` -> d port), the words say which side of a connection the value is on
(``from``/``src``/``client`` or ``to``/``dst``/``server``) and what it is (an address, a port,
a user...), and the values must fit the name (a port is a number below 65536). Nothing here
knows a vendor: the vocabulary is the words log writers use for these things.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from engine.generator.fields.tokens import HTTP_METHODS, RECORD_TYPES, TRANSPORTS, is_port, kinds

SRC_SIDE = frozenset(
    {
        "src",
        "source",
        "client",
        "orig",
        "remote",
        "caller",
        "initiator",
        "requester",
        "attacker",
        "from",
        "sender",
    }
)
DEST_SIDE = frozenset(
    {
        "dst",
        "dest",
        "destination",
        "server",
        "resp",
        "responder",
        "target",
        "local",
        "to",
        "victim",
        "recipient",
    }
)
_SIDE_LETTERS = {"s": "src", "d": "dest"}
"""``sport``, ``dhost``, ``smac``: a side letter run into an object word (CEF, iptables...)."""
_ADDRESS = frozenset({"ip", "addr", "address", "ipaddr", "ipv4", "ipv6", "host", "hostname"})
_HOST = frozenset({"host", "hostname", "computer", "machine", "fqdn", "node"})
_DEVICE = frozenset({"dvc", "device", "dev", "devname", "observer", "sensor", "reporter"})
_PORT = frozenset({"port", "pt", "prt"})
_NAT = frozenset({"nat", "translated", "xlate", "mapped", "natted"})
_USER = frozenset(
    {"user", "username", "usr", "uname", "login", "account", "acct", "principal", "upn"}
)
_EMAIL = frozenset({"email", "mail"})
_INWARD = frozenset(
    {"in", "rcvd", "received", "recv", "rx", "inbound", "ingress", "input", "download", "request"}
)
_OUTWARD = frozenset(
    {"out", "sent", "tx", "xmit", "transmitted", "outbound", "egress", "output", "upload"}
)
_BYTES = frozenset({"bytes", "byte", "octets"})
_PACKETS = frozenset({"packets", "packet", "pkts", "pkt"})
_INTERFACE = frozenset({"interface", "intf", "iface", "if", "ifname"})
_URL = frozenset({"url", "uri", "href"})
_SEVERITY = frozenset({"severity", "sev", "level", "loglevel", "criticality", "lvl"})
_ACTION = frozenset({"action", "act", "disposition", "verdict", "decision", "outcome"})
_RULE = frozenset({"rule", "policy", "acl", "ruleset"})
_PROCESS = frozenset({"process", "proc", "program", "prog", "comm"})
_DURATION = frozenset({"duration", "elapsed", "took", "runtime"})
_ID = frozenset({"id", "number", "num", "no", "code"})
_QUERY = frozenset({"query", "qname", "question"})
_RECORD_TYPE = frozenset({"qtype", "rrtype"})

CIM_SEVERITY = ("critical", "high", "medium", "low", "informational")

_OTHER_WORDS = frozenset(
    {
        "agent",
        "app",
        "application",
        "cat",
        "category",
        "cmd",
        "command",
        "content",
        "dir",
        "direction",
        "dns",
        "domain",
        "event",
        "exe",
        "executable",
        "file",
        "flags",
        "group",
        "hash",
        "http",
        "image",
        "log",
        "method",
        "msg",
        "name",
        "operation",
        "parent",
        "path",
        "pid",
        "ppid",
        "procid",
        "protocol",
        "proto",
        "rcode",
        "reason",
        "record",
        "referer",
        "referrer",
        "reply",
        "response",
        "role",
        "service",
        "session",
        "sid",
        "sig",
        "signature",
        "size",
        "status",
        "subject",
        "tcp",
        "time",
        "transport",
        "ttl",
        "type",
        "uid",
        "verb",
        "vlan",
        "zone",
    }
)
VOCABULARY = (
    SRC_SIDE
    | DEST_SIDE
    | _ADDRESS
    | _HOST
    | _DEVICE
    | _PORT
    | _NAT
    | _USER
    | _EMAIL
    | _INWARD
    | _OUTWARD
    | _BYTES
    | _PACKETS
    | _INTERFACE
    | _URL
    | _SEVERITY
    | _ACTION
    | _RULE
    | _PROCESS
    | _DURATION
    | _ID
    | _QUERY
    | _RECORD_TYPE
    | _OTHER_WORDS
)

_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)")


@lru_cache(maxsize=4096)
def _segment(word: str) -> tuple[str, ...]:
    """``word`` cut into vocabulary words (``srcintf`` -> src intf), or itself when it can't be.

    A single side letter may start a word only before an object word (``dport``, ``smac``).
    """
    if word in VOCABULARY or len(word) > 40:
        return (word,)
    best: list[tuple[str, ...] | None] = [None] * (len(word) + 1)
    best[0] = ()
    for end in range(1, len(word) + 1):
        for start in range(end):
            head = best[start]
            piece = word[start:end]
            if head is None or piece not in VOCABULARY:
                continue
            candidate = (*head, piece)
            current = best[end]
            if current is None or len(candidate) < len(current):
                best[end] = candidate
    found = best[len(word)]
    if found is not None:
        return found
    letter, rest = word[:1], word[1:]
    if letter in _SIDE_LETTERS and rest in (_PORT | _ADDRESS | _USER | {"mac", "zone", "intf"}):
        return (letter, rest)
    return (word,)


_ABBREVIATED = {"h": "host", "p": "port", "a": "address"}
"""One-letter object words after a side word (``orig_h``, ``resp_p``)."""


def words_of(key: str) -> list[str]:
    """The lower-case words of a key: ``sourceAddress`` -> source address, ``srcip`` -> src ip."""
    out: list[str] = []
    for part in _SPLIT.split(key):
        for piece in _CAMEL.split(part):
            if piece and not piece.isdigit():
                out.extend(_segment(piece.lower()))
    return [
        _ABBREVIATED.get(word, word) if i and out[i - 1] in SRC_SIDE | DEST_SIDE else word
        for i, word in enumerate(out)
    ]


def _side(words: Sequence[str]) -> str | None:
    """``src`` or ``dest`` from the last side word (``source.nat.ip`` -> src)."""
    side = None
    for word in words:
        if word in SRC_SIDE:
            side = "src"
        elif word in DEST_SIDE:
            side = "dest"
        elif word in _SIDE_LETTERS and len(words) > 1:
            side = _SIDE_LETTERS[word]
    return side


def _flow(words: set[str], side: str | None) -> str | None:
    """``in`` or ``out`` for byte/packet counters (ECS: source bytes are the bytes it sent)."""
    if words & _INWARD or side == "dest":
        return "in"
    if words & _OUTWARD or side == "src" or "response" in words:
        return "out"
    return None


def _by_words(words: list[str], values: Sequence[str] = ()) -> str | None:
    """The CIM name the words describe, before the values are checked."""
    s = set(words)
    if "part" in s:
        return None  # a piece of another field's value
    side = _side(words)
    if "agent" in s and (s & ({"http", "request"} | _USER) or words == ["agent"]):
        return "http_user_agent"
    if s & {"referer", "referrer"}:
        return "http_referrer"
    if s & _URL:
        if "path" in s:
            return "uri_path"
        if "query" in s:
            return "uri_query"
        if s & ({"domain"} | _HOST):
            return "url_domain"
        if s & _PORT:
            return "dest_port"
        return "url"
    if s & {"method", "verb"} and not s & {"auth", "authentication", "login"}:
        return "http_method"
    if s & _EMAIL:
        if s & {"from", "sender"}:
            return "src_user"
        if s & {"to", "recipient", "rcpt"}:
            return "recipient"
        return "user_email"
    if "sender" in s:
        return "src_user"
    if s & {"recipient", "rcpt"}:
        return "recipient"
    if s & {"proto", "protocol", "transport"}:
        return "transport"
    if s & _PORT:
        if side is None:
            return "dest_port"
        return f"{side}_translated_port" if s & _NAT else f"{side}_port"
    if "mac" in s:
        return f"{side}_mac" if side else None
    if "zone" in s:
        if side is None and s & (_INWARD | _OUTWARD):
            side = "src" if s & _INWARD else "dest"
        return f"{side}_zone" if side else None
    if s & _INTERFACE:
        if side is None and s & (_INWARD | _OUTWARD):
            side = "src" if s & _INWARD else "dest"
        return f"{side}_interface" if side else "interface"
    if s & _BYTES or s & _PACKETS:
        unit = "bytes" if s & _BYTES else "packets"
        flow = _flow(s, side)
        return f"{unit}_{flow}" if flow else unit
    if s & _USER:
        if "display" in s:
            return None  # a label for people, not the account
        if s & {"ip", "addr", "address", "ipaddr", "host", "hostname"}:
            return side or "src"
        if s & {"id", "uid"}:
            return "user_id"
        if "group" in s:
            return "user_group"
        if "role" in s:
            return "user_role"
        if s & {"domain", "type"}:
            return None
        return "src_user" if side == "src" and len(s) > 1 else "user"
    if "uid" in s:
        return "user_id"
    if s & _ADDRESS or s & _HOST or words in (["src"], ["dest"], ["dst"]):
        if side is not None:
            return f"{side}_translated_ip" if s & _NAT else side
        if s & _DEVICE or s & _HOST:
            return "dvc"
        return None
    if s & _DEVICE:
        return "dvc"
    if side is not None and s <= SRC_SIDE | DEST_SIDE | _NAT | set(_SIDE_LETTERS):
        return f"{side}_translated_ip" if s & _NAT else side
    if s & {"status"} or {"response", "code"} <= s or {"http", "code"} <= s:
        return "status"
    if s & {"app", "application", "service"} and not s & {"id", "path"}:
        return "app"
    if s & _ACTION or (s & {"result"} and len(s) == 1):
        return "action"
    if s & _SEVERITY:
        return "severity"
    if s & _RULE:
        return "rule_id" if s & _ID else "rule"
    if s & {"signature", "sig", "sid"}:
        return "signature_id" if s & _ID or "sid" in s else "signature"
    if set(words[-2:]) & {"event", "msg", "log"} and set(words[-2:]) & _ID:
        return "signature_id"
    if "operation" in s or {"event", "name"} <= s:
        return "signature"
    if s & {"category", "cat"}:
        return "category"
    if "reason" in s:
        return "reason"
    if s & _DURATION:
        return "duration"
    if "ppid" in s or ({"parent"} <= s and s & {"pid", "id"}):
        return "parent_process_id"
    if s & {"pid", "procid"} or (s & _PROCESS and "id" in s):
        return "pid"
    if s & _PROCESS or s & {"exe", "executable", "image"}:
        return "process_path" if s & {"path", "exe", "executable", "image"} else "process"
    if s & {"cmd", "command"}:
        return "command"
    if "session" in s and "id" in s:
        return "session_id"
    if "path" in s and s & {"target", "file", "dir", "folder"}:
        return "file_path"
    if "file" in s:
        if "path" in s or (len(s) == 1 and values and kinds(values) == {"path"}):
            return "file_path"
        if "size" in s:
            return "file_size"
        if "hash" in s:
            return "file_hash"
        return "file_name"
    if s & _RECORD_TYPE or ("type" in s and s & ({"record", "dns"} | _QUERY)):
        return "record_type"
    if s & _QUERY:
        return "query"
    if "rcode" in s or {"reply", "code"} <= s:
        return "reply_code"
    if s & {"direction", "dir"}:
        return "direction"
    for single in ("vlan", "subject", "ttl", "tos"):
        if single in s:
            return single
    if "flags" in s and "tcp" in s:
        return "tcp_flag"
    return None


_ADDRESS_KINDS = frozenset({"ipv4", "ipv6", "host", "word"})


def _fits(name: str, values: Sequence[str]) -> bool:
    """True when ``values`` (some examples; none: trust the words) can carry ``name``."""
    present = [v.strip() for v in values if v.strip() and v.strip() != "-"]
    if not present:
        return True
    found = kinds(present)
    if name == "dvc":
        return found <= _ADDRESS_KINDS | {"hex", "uuid", "int"}
    if name in ("src", "dest", "src_translated_ip", "dest_translated_ip"):
        return found <= _ADDRESS_KINDS and bool(found & {"ipv4", "ipv6", "host"})
    if name.endswith("_port"):
        return all(is_port(v) for v in present)
    if name.endswith("_mac"):
        return found == {"mac"}
    if name in ("user", "src_user", "recipient", "user_email"):
        return not found & {"ipv4", "ipv6", "int", "float", "path", "url"}
    if name in ("url", "uri_path"):
        return all("/" in v or v.startswith("?") for v in present)
    if name == "http_method":
        return all(v.upper() in HTTP_METHODS for v in present)
    if name == "transport":
        return all(v.lower() in TRANSPORTS for v in present)
    if name == "record_type":
        return all(v.upper() in RECORD_TYPES for v in present)
    if name.startswith(("bytes", "packets")) or name in ("pid", "parent_process_id", "vlan"):
        return found <= {"int"}
    if name == "duration":
        return found <= {"int", "float", "duration"}
    if name == "status":
        return found <= {"int", "word"}
    if name == "query":
        return found <= {"host", "word"}
    return True


def role(key: str, values: Sequence[str] = ()) -> str | None:
    """The CIM field ``key`` stands for, if its words say so and ``values`` fit; else None.

    ``severity`` becomes ``severity_id`` when the values are not CIM's severity words (the
    vendor's level goes to the vendor-specific field; an EVAL maps it to CIM's scale).
    """
    name = _by_words(words_of(key), values)
    if name == "severity":
        present = [v.strip().lower() for v in values if v.strip()]
        if not present or not all(v in CIM_SEVERITY for v in present):
            name = "severity_id"
    if name in ("src", "dest") and values and kinds(values) == {"email"}:
        name = "src_user" if name == "src" else "recipient"
    if name == "transport" and not _fits(name, values):
        name = "app" if kinds(values) <= {"word"} else None
    if name is not None and _fits(name, values):
        return name
    return None


_TOWARD_SRC = frozenset({"from", "src", "source", "client", "sender", "orig", "remote"})
_TOWARD_DEST = frozenset({"to", "dst", "dest", "destination", "server", "->", "target"})
_USER_WORDS = frozenset({"user", "username", "account", "login", "usr"})
_STRIP = "\"'()[]{}<>,;"


def _clean(token: str) -> str:
    return token.strip(_STRIP).lower()


def _key_before(before: Sequence[str]) -> str | None:
    """The key a free-text value follows: ``query:``, ``user=``, or ``user IP =`` (up to three
    words before a bare separator); None when the value does not follow key syntax."""
    last = before[-1] if before else ""
    stripped = last.rstrip(":=")
    if not last or stripped == last:
        return None
    if stripped.strip(_STRIP):
        return stripped.strip(_STRIP)
    words: list[str] = []
    for token in reversed(before[:-1]):
        if not token.strip(_STRIP).replace("-", "").replace("_", "").isalnum() or len(words) == 3:
            break
        words.insert(0, token.strip(_STRIP))
    return " ".join(words) or None


def context_role(
    before: Sequence[str], values: Sequence[str], *, side: str | None = None
) -> str | None:
    """The CIM field a free-text value gets from the tokens just before it (nearest last).

    ``from 10.0.0.1`` -> src, ``to <a@b>`` -> recipient, ``for alice`` -> user, ``for
    outside:10.0.0.1/443`` -> src, ``port 22`` -> the port of the last side named (``side``),
    ``query: x IN AAAA`` -> query and record_type, ``user IP = 10.0.0.1`` -> src.
    """
    if not before:
        return None
    found = kinds(values)
    address = bool(found) and found <= _ADDRESS_KINDS and bool(found & {"ipv4", "ipv6", "host"})
    key = _key_before(before)
    if key is not None:
        words = words_of(key)
        if len(words) == 1 and words[0] in _TOWARD_SRC | _TOWARD_DEST and not address:
            return role(key, values) if found == {"email"} else None
        return role(key, values)
    last = _clean(before[-1])
    if last in _TOWARD_SRC | _TOWARD_DEST:
        near = "src" if last in _TOWARD_SRC else "dest"
        if found == {"email"}:
            return "src_user" if near == "src" else "recipient"
        return near if address else None
    if last == "for":
        if address:
            return "src"
        return "user" if found <= {"word", "email"} and not found & {"int"} else None
    if last in _USER_WORDS:
        return "user" if _fits("user", values) else None
    if last == "port":
        return f"{side}_port" if side and _fits("src_port", values) else role("port", values)
    if last == "mac" and found == {"mac"}:
        return f"{side or 'src'}_mac"
    if before[-1] == "IN" and all(v.upper() in RECORD_TYPES for v in values if v):
        return "record_type"
    if before[-1] in HTTP_METHODS and found <= {"url", "path"}:
        return "url"
    if last in ("returned", "status") and _fits("status", values):
        return "status"
    if last.isalpha():
        named = role(last, values)
        return None if named == "dvc" else named
    return None


HTTP_STATUS = re.compile(r"[1-5][0-9][0-9]")


def column_role(values: Sequence[str], *, web: bool, previous: str, used: set[str]) -> str | None:
    """The CIM field of a value no word names (a column of a header-less line: squid, HAProxy,
    xferlog, access logs without quotes), from its kind and its neighbours: the first address
    is the client (``src``), the next the server (``dest``); a method, then its URL; in a line
    with a method, a status code and the byte count after it. ``previous``: the role of the
    column just before; ``used``: names the line already has."""
    present = [v.strip() for v in values if v.strip() and v.strip() != "-"]
    if not present:
        return None
    found = kinds(present)
    if all(v in HTTP_METHODS for v in present):
        return "http_method"
    if found <= {"url"} or (found <= {"path"} and previous == "http_method"):
        return "url"
    if found <= {"ipv4", "ipv6"}:
        return next((side for side in ("src", "dest") if side not in used), None)
    if web and found <= {"int"}:
        if all(HTTP_STATUS.fullmatch(v) for v in present) and "status" not in used:
            return "status"
        if previous == "status" and "bytes" not in used:
            return "bytes"
    return None

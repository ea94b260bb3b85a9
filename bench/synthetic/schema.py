"""Columns of structured events (key=value, delimited, JSON): their keys, kinds and CIM roles.

A key that says what its value is for (``srcip``, ``dst_port``, ``sourceAddress``, ``http.method``)
is named in the ground truth with the CIM field a Splunk user searches for; the key itself is what
a vendor wrote, drawn from the synonyms real products use. Keys without a CIM role
(``request_id``, ``queue``) give unnamed values: their names are a matter of taste, their values
are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

ROLES: dict[str, tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    # cim name: (token kind, flat keys, nested JSON paths)
    "src": (
        "ipv4",
        (
            "src",
            "src_ip",
            "srcip",
            "source_ip",
            "sourceAddress",
            "client_ip",
            "clientIP",
            "remote_addr",
        ),
        (("source", "ip"), ("client", "address")),
    ),
    "dest": (
        "ipv4",
        (
            "dest",
            "dst",
            "dst_ip",
            "dest_ip",
            "destination_ip",
            "dstip",
            "destinationAddress",
            "server_ip",
        ),
        (("destination", "ip"), ("server", "address")),
    ),
    "src_port": (
        "port",
        ("src_port", "spt", "sport", "source_port", "srcPort", "client_port"),
        (("source", "port"), ("client", "port")),
    ),
    "dest_port": (
        "port",
        ("dest_port", "dpt", "dport", "dst_port", "destination_port", "dstPort"),
        (("destination", "port"), ("server", "port")),
    ),
    "user": (
        "user",
        ("user", "username", "user_name", "usr", "account", "userName", "login"),
        (("user", "name"), ("actor", "user")),
    ),
    "src_mac": ("mac", ("src_mac", "smac", "source_mac", "srcMac"), (("source", "mac"),)),
    "url": (
        "url",
        ("url", "request_url", "full_url", "requestUrl"),
        (("http", "url"), ("request", "url")),
    ),
    "http_method": (
        "method",
        ("method", "http_method", "request_method", "verb", "httpMethod"),
        (("http", "method"), ("request", "method")),
    ),
    "status": (
        "status",
        ("status", "status_code", "http_status", "response_code", "statusCode"),
        (("http", "status"), ("response", "status")),
    ),
    "action": ("action", ("action", "act", "disposition", "verdict"), (("event", "action"),)),
    "bytes_in": (
        "int",
        ("bytes_in", "rcvd_bytes", "bytes_received", "in_bytes", "bytesIn"),
        (("network", "bytes_in"),),
    ),
    "bytes_out": (
        "int",
        ("bytes_out", "sent_bytes", "bytes_sent", "out_bytes", "bytesOut"),
        (("network", "bytes_out"),),
    ),
    "transport": (
        "transport",
        ("proto", "protocol", "transport", "ip_proto"),
        (("network", "transport"),),
    ),
    "http_user_agent": (
        "agent",
        ("user_agent", "useragent", "http_user_agent", "userAgent"),
        (("http", "user_agent"), ("request", "agent")),
    ),
    "severity": ("severity", ("severity", "sev", "severity_name"), (("event", "severity"),)),
    "query": ("domain", ("query", "qname", "dns_query", "queryName"), (("dns", "query"),)),
    "record_type": ("rtype", ("qtype", "record_type", "query_type"), (("dns", "type"),)),
    "recipient": ("email", ("recipient", "to", "rcpt", "mail_to"), (("email", "to"),)),
    "src_user": ("email", ("sender", "from", "mail_from"), (("email", "from"),)),
    "file_path": ("path", ("file_path", "filepath", "file", "target_path"), (("file", "path"),)),
}
GENERIC: dict[str, tuple[str, ...]] = {
    # token kind: keys with no CIM role
    "hex": ("request_id", "trace_id", "txn", "correlationId"),
    "uuid": ("session_id", "uuid", "eventGuid"),
    "int": ("count", "retries", "queue_depth", "seq", "shard"),
    "duration": ("elapsed", "latency", "took"),
    "size": ("payload_size", "heap_used"),
    "word": ("component", "worker", "module", "queue"),
    "phrase": ("msg", "reason", "description", "detail"),
    "float": ("load", "score", "ratio"),
    "iface": ("interface", "ifname"),
    "host": ("node", "origin_host", "reporter"),
    "ipv6": ("peer6", "addr6"),
}
NESTED_PARENTS = ("meta", "details", "context", "attrs")


@dataclass(frozen=True)
class Column:
    key: str
    """The flat key or header of the column (a dotted path for nested JSON)."""
    kind: str
    name: str | None
    """The CIM field of its role, or None."""
    path: tuple[str, ...] = ()
    """Where it sits in a nested JSON document (empty: at the top, under ``key``)."""
    optional: bool = False
    """Left out of some events."""


def make_columns(rng: Random, *, nested: bool = False) -> list[Column]:
    """3-11 columns: a few roles (connection, web, mail or DNS flavoured) and generic keys."""
    flavour = rng.choice(
        (
            (
                "src",
                "dest",
                "src_port",
                "dest_port",
                "transport",
                "action",
                "bytes_in",
                "bytes_out",
                "src_mac",
            ),
            ("src", "user", "http_method", "url", "status", "http_user_agent", "bytes_out"),
            ("src", "user", "action", "severity", "file_path", "dest"),
            ("src", "query", "record_type", "dest", "src_port"),
            ("src_user", "recipient", "action", "src", "severity"),
        )
    )
    roles = rng.sample(flavour, rng.randint(min(2, len(flavour)), min(6, len(flavour))))
    generics = rng.sample(sorted(GENERIC), rng.randint(1, 5))
    columns: list[Column] = []
    used: set[str] = set()
    for role in roles:
        kind, keys, paths = ROLES[role]
        path = rng.choice(paths) if nested and rng.random() < 0.7 else ()
        key = ".".join(path) if path else rng.choice(keys)
        if key in used:
            continue
        used.add(key)
        columns.append(Column(key, kind, role, path, optional=rng.random() < 0.15))
    for kind in generics:
        key = rng.choice(GENERIC[kind])
        path = (rng.choice(NESTED_PARENTS), key) if nested and rng.random() < 0.5 else ()
        if path:
            key = ".".join(path)
        if key in used:
            continue
        used.add(key)
        columns.append(Column(key, kind, None, path, optional=rng.random() < 0.25))
    rng.shuffle(columns)
    return columns

"""Free-text message templates built from typed tokens, and the truth each message carries.

A template is a random sentence nobody wrote by hand: an optional vendor message id, a few lead
words, then phrases that hold typed tokens. A phrase whose wording gives the token a role (``from
{src}``, ``to inside:{dest}/{dest_port}``, ``user={user}``, ``{http_method} {url}``) names it with
its CIM field; a token without a role (``in {duration}``, ``file {path}``) is an unnamed value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from random import Random

from bench.synthetic.tokens import Vocabulary

_SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")

ROLE_PHRASES = (
    "from {ipv4:src}",
    "from {ipv4:src} port {port:src_port}",
    "from {ipv4:src}:{port:src_port}",
    "from [{ipv6:src}]:{port:src_port}",
    "from {host:src}",
    "client {ipv4:src}#{port:src_port}",
    "for outside:{ipv4:src}/{port:src_port}",
    "src={ipv4:src}",
    "source {ipv6:src}",
    "to {ipv4:dest}",
    "to {ipv4:dest}:{port:dest_port}",
    "to inside:{ipv4:dest}/{port:dest_port}",
    "dst={ipv4:dest} dport={port:dest_port}",
    "server {server:dest}",
    "to {host:dest}",
    "user {user:user}",
    "for user {user:user}",
    "for {user:user}",
    "user={user:user}",
    "account: {user:user}",
    "user authentication {word} : server = {ipv4:dest} : user = {user:user}",
    "from=<{email:src_user}>",
    "to=<{email:recipient}>",
    "{method:http_method} {url:url}",
    "status {status:status}",
    "returned {status:status}",
    "{int:bytes} bytes",
    "action: {action:action}",
    "action={action:action}",
    "proto {transport:transport}",
    "mac {mac:src_mac}",
    "query: {domain:query} IN {rtype:record_type}",
    "severity={severity:severity}",
    'agent "{agent:http_user_agent}"',
)
PLAIN_PHRASES = (
    "in {duration}",
    "after {duration}",
    "took {duration}",
    "size {size}",
    "file {path}",
    "path={path}",
    "id {hex}",
    "[{hex}]",
    "session {uuid}",
    '"{phrase}"',
    "reason '{phrase}'",
    "via {ipv4}",
    "on {iface}",
    "{int} retries",
    "code {int}",
    "load {float}",
    "worker {word}",
    "(host {host})",
)
LEADS = (
    "Accepted",
    "Denied",
    "Opened",
    "Closed",
    "Started",
    "Failed",
    "Received",
    "Sent",
    "Dropped",
    "Created",
    "Deleted",
    "Updated",
    "Blocked",
    "Allowed",
    "Rejected",
    "Completed",
    "Retrying",
    "Teardown",
    "Built",
    "Queued",
    "Resolved",
    "Expired",
)
NOUNS = (
    "connection",
    "session",
    "request",
    "packet",
    "query",
    "file",
    "login",
    "transfer",
    "job",
    "message",
    "upload",
    "lease",
    "tunnel",
    "policy",
    "handshake",
    "stream",
)
ADJECTIVES = (
    "inbound",
    "outbound",
    "new",
    "TCP",
    "UDP",
    "remote",
    "local",
    "secure",
    "stale",
    "pending",
    "cached",
)
FACILITIES = ("ASA", "FTD", "SEC", "AUTH", "NET", "SYS", "FW", "VPN")


@dataclass(frozen=True)
class Slot:
    kind: str
    name: str | None
    """The CIM field the role gives the token, or None: an unnamed value."""


Part = str | Slot


@dataclass
class Truth:
    """What an event carries: named fields (CIM names) and unnamed values."""

    fields: dict[str, str] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    def add(self, name: str | None, value: str) -> None:
        """Record a value; a second value for a name already held stays unnamed (one event
        has one ``src``: the structured part's, when a message repeats the role)."""
        if not value.strip():
            return
        if name is None or self.fields.get(name, value) != value:
            if value not in self.values and value not in self.fields.values():
                self.values.append(value)
        else:
            self.fields[name] = value

    def merge(self, other: Truth) -> None:
        for name, value in other.fields.items():
            self.add(name, value)
        for value in other.values:
            self.add(None, value)


def parse_phrase(phrase: str) -> list[Part]:
    parts: list[Part] = []
    position = 0
    for match in _SLOT.finditer(phrase):
        if match.start() > position:
            parts.append(phrase[position : match.start()])
        parts.append(Slot(match.group(1), match.group(2)))
        position = match.end()
    if position < len(phrase):
        parts.append(phrase[position:])
    return parts


@dataclass(frozen=True)
class Template:
    parts: tuple[Part, ...]

    def render(self, vocabulary: Vocabulary) -> tuple[str, Truth]:
        truth = Truth()
        text: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            value = vocabulary.token(part.kind)
            truth.add(part.name, value)
            text.append(value)
        return "".join(text), truth


def make_template(rng: Random) -> Template:
    """A random template: message id, lead words, 1-4 phrases (roles never repeated)."""
    words: list[str] = []
    style = rng.random()
    if style < 0.15:
        words.append(
            f"%{rng.choice(FACILITIES)}-{rng.randint(1, 7)}-{rng.randint(100000, 999999)}:"
        )
    elif style < 0.25:
        words.append(f"[E{rng.randint(1000, 9999)}]")
    words.append(rng.choice(LEADS))
    if rng.random() < 0.6:
        words.append(rng.choice(ADJECTIVES))
    words.append(rng.choice(NOUNS))
    parts: list[Part] = [" ".join(words)]
    names: set[str] = set()
    for _ in range(rng.randint(1, 4)):
        pool = ROLE_PHRASES if rng.random() < 0.6 else PLAIN_PHRASES
        phrase = parse_phrase(rng.choice(pool))
        slot_names = {part.name for part in phrase if isinstance(part, Slot) and part.name}
        if slot_names & names:
            continue
        names |= slot_names
        parts.append(rng.choice((" ", " ", ", ", " - ")))
        parts.extend(phrase)
    if rng.random() < 0.3:
        parts.append(f" {rng.choice(('ok', 'done', '(retrying)', 'ignored', '[cached]'))}")
    return Template(tuple(parts))


class MessageBook:
    """A format's templates and how often each occurs: a few frequent ones and a long tail of
    rare ones, so some templates are seen once or twice in the training half."""

    def __init__(self, rng: Random, count: int) -> None:
        self.templates = [make_template(rng) for _ in range(count)]
        self._weights = [1 / (rank + 1) ** 1.1 for rank in range(count)]
        self._rng = rng

    def pick(self) -> Template:
        return self._rng.choices(self.templates, weights=self._weights)[0]

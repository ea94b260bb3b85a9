"""Line-oriented text (syslog, error logs, application logs): header fields plus templates.

The header comes from a known grammar (syslog, Apache/nginx error) or is learned from the
lines; the rest of each event's first line is mined for message templates. Each template with
variables becomes one anchored EXTRACT that repeats the header as a non-capturing prefix, so
Splunk can run them independently and in any order.
"""

from __future__ import annotations

from engine.generator.fields.builder import PlanBuilder, non_capturing
from engine.generator.fields.context import plan_context
from engine.generator.fields.delimited import plan_table, sniff_table
from engine.generator.fields.grammars import HEADERS, lighter, recognise
from engine.generator.fields.headers import (
    learn_bracket_header,
    learn_delimited_prefix,
    learn_header,
)
from engine.generator.fields.kv import PURE_PAIRS, pair_density, plan_kv
from engine.generator.fields.templates import mine, template_label, template_regex
from engine.generator.fields.tokens import MESSAGE_ID
from engine.regex import RegexLimitError, compile_regex

MAX_TEMPLATES = 200
PAIRS_ONLY = 0.5
"""Pair density above which events are key=value records: pairs, not templates, carry them."""


def _first_line(event: str) -> str:
    return event.split("\n", 1)[0]


def plan_text(builder: PlanBuilder) -> None:
    """Header EXTRACT, key=value handling, and one EXTRACT per message template."""
    lines = [_first_line(e) for e in builder.events if e.strip()]
    style = plan_kv(builder)
    grammar = recognise(lines, HEADERS)
    table = sniff_table(lines) if grammar is None else None
    if table is not None:
        plan_context(builder)
        plan_table(builder, table, lines)
        return
    header = grammar.pattern if grammar is not None else learn_header(lines)
    if header is None:
        header = learn_bracket_header(lines)
    if header is None and pair_density(lines, style) < PURE_PAIRS:
        header = learn_delimited_prefix(lines)
    plan_context(builder)
    taken: frozenset[str] = frozenset()
    if header is not None:
        builder.extract("a_header", header)
        taken = frozenset(compile_regex(header).groupindex)
    if builder.extract("b_message_id", MESSAGE_ID):
        taken |= frozenset(compile_regex(MESSAGE_ID).groupindex)
    messages: list[tuple[str, str]] = []
    if header is not None:
        regex = compile_regex(header)
        # atomic: the message was mined from the header's first match; retrying other ways to
        # read the header when a template fails would only cost time
        prefix = f"(?>{non_capturing(lighter(header, lines))})"
        for line in lines:
            try:
                match = regex.search(line)
            except RegexLimitError:
                match = None
            if match is not None:
                messages.append((prefix, line[match.end() :]))
            else:
                messages.append(("^\\s*", line))
    else:
        messages = [("^\\s*", line) for line in lines]
    bodies = [message for _, message in messages]
    if pair_density(bodies, style) >= PAIRS_ONLY:
        return
    if header is not None and (table := sniff_table(bodies)) is not None:
        plan_table(builder, table, bodies, prefix=non_capturing(header))
        return
    by_prefix: dict[str, list[tuple[str, str]]] = {}
    for (prefix, message), line in zip(messages, lines, strict=True):
        by_prefix.setdefault(prefix, []).append((line, message))
    clusters = [
        (prefix, cluster, [group[i][0] for i in cluster.indices])
        for prefix, group in by_prefix.items()
        for cluster in mine([message for _, message in group])
    ]
    clusters.sort(key=lambda item: -len(item[1].members))
    if len(clusters) > MAX_TEMPLATES:
        builder.caveats.append(
            f"Only the {MAX_TEMPLATES} most frequent message templates were extracted."
        )
    added = 0
    for prefix, cluster, members in clusters[:MAX_TEMPLATES]:
        body, groups = template_regex(cluster, taken=taken)
        if groups == 0:
            continue
        added += 1
        end = r"(?:\s|$)" if cluster.truncated else r"[ \t]*(?=\n|$)"
        builder.extract(
            f"t{added:03d}_{template_label(cluster)}", prefix + body + end, events=members
        )

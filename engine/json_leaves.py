"""JSON values flattened into the fields Splunk names: ``a.b`` for nesting, ``a{}`` for array
elements. KV_MODE=json, INDEXED_EXTRACTIONS=json, ``spath`` and the generator's field list all
walk documents with this one function, so the names they produce cannot drift apart."""

from __future__ import annotations

from typing import Any


def json_leaves(
    node: Any, *, array_suffix: str = "{}", nulls: bool = True
) -> list[tuple[str, str]]:
    """(name, value) of every leaf in document order. ``array_suffix`` marks array elements
    (JSON_TRIM_BRACES_IN_ARRAY_NAMES makes it empty); ``nulls`` False leaves nulls out instead
    of showing them as ``null``. Booleans are ``true``/``false``, other scalars their ``str``
    (a decoder that keeps numbers as text keeps them as written)."""
    out: list[tuple[str, str]] = []
    _collect(node, "", out, array_suffix, nulls)
    return out


def _collect(node: Any, path: str, out: list[tuple[str, str]], suffix: str, nulls: bool) -> None:
    # String children are appended here rather than in a call of their own: they are most
    # leaves, and this walk runs once per event.
    if isinstance(node, dict):
        for key, child in node.items():
            name = f"{path}.{key}" if path else str(key)
            if type(child) is str:
                out.append((name, child))
            else:
                _collect(child, name, out, suffix, nulls)
    elif isinstance(node, list):
        name = path + suffix
        for item in node:
            if type(item) is str:
                out.append((name, item))
            else:
                _collect(item, name, out, suffix, nulls)
    elif node is None:
        if nulls:
            out.append((path, "null"))
    elif isinstance(node, bool):
        out.append((path, "true" if node else "false"))
    else:
        out.append((path, str(node)))

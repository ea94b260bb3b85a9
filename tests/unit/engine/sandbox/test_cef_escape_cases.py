"""Table cases for CEF escapes in extension values (``\\=``, ``\\\\``, ``\\n``).

The CEF standard escapes ``=`` and ``\\`` in extension values with a backslash and writes a
newline as ``\\n``. Splunk does not undo that on its own: a REPORT or EXTRACT keeps the
value's text as written (transforms.conf.spec: "FORMAT ... $1::$2" takes the captured text), so
a TA that wants plain values unescapes them with eval. These cases pin both halves: the escapes
survive extraction, and the eval a TA writes for it (replace() with SPL string escapes,
urldecode("%0A") for a newline) gives the plain value.
"""

from __future__ import annotations

import pytest

from engine.sandbox.events import Event
from engine.sandbox.searchtime import SearchTimeProcessor

CEF = (
    "CEF:0|Acme|FW|1.0|100|blocked|5|src=10.0.0.1 msg=a\\=b and c\\\\d "
    "cs1=line one\\nline two act=drop"
)
EXTENSIONS = {
    "cef_ext": {
        "REGEX": r"(?:^|[\s|])([A-Za-z]\w*)=((?:[^\s=\\]|\\.|\s(?!\s*[A-Za-z]\w*=))*)",
        "FORMAT": "$1::$2",
        "CLEAN_KEYS": "false",
        "SOURCE_KEY": "_raw",
    }
}
UNESCAPE = r'replace(replace({0}, "\\\\n", urldecode("%0A")), "\\\\([=\\\\])", "\1")'

CASES = [
    (
        "the escapes survive a REPORT extraction",
        "FORMAT = $1::$2: the captured text is the value (transforms.conf.spec)",
        {"REPORT-ext": "cef_ext"},
        {"msg": "a\\=b and c\\\\d", "cs1": "line one\\nline two", "act": "drop"},
    ),
    (
        "eval replace() undoes \\= and \\\\",
        'replace(X,Y,Z): "substitutes the replacement string Z for every occurrence of the '
        'regular expression string Y in string X"; "\\\\" is one backslash in an SPL string',
        {"REPORT-ext": "cef_ext", "EVAL-msg": UNESCAPE.format("msg")},
        {"msg": "a=b and c\\d"},
    ),
    (
        "eval turns \\n into a newline",
        'urldecode(X): "Replaces URL escaped characters with the original characters"',
        {"REPORT-ext": "cef_ext", "EVAL-cs1": UNESCAPE.format("cs1")},
        {"cs1": "line one\nline two"},
    ),
    (
        "values without escapes are unchanged by the unescaping eval",
        'replace(X,Y,Z) substitutes "every occurrence" (none here)',
        {"REPORT-ext": "cef_ext", "EVAL-act": UNESCAPE.format("act")},
        {"act": "drop", "src": "10.0.0.1"},
    ),
]


@pytest.mark.parametrize(("name", "spec", "props", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cef_escape_case(name: str, spec: str, props: dict[str, str], expected: dict) -> None:
    processor = SearchTimeProcessor(transforms=EXTENSIONS, eventtypes={}, tags={}, lookup_files={})
    event = Event(raw=CEF, sourcetype="cef", source="s", host="h")
    results, errors = processor.run(event, {"KV_MODE": "none", **props})
    assert errors == [] and results == [event]
    assert {key: event.first(key) for key in expected} == expected

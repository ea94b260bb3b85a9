"""Table cases for KV_MODE = multi (props.conf.spec; Search Reference, multikv;
multikv.conf.spec), each quoting the line it follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from engine.sandbox.events import Event
from engine.sandbox.searchtime import SearchTimeProcessor

MULTI = {"KV_MODE": "multi"}
NFS = (
    "Mount          Path      r_op/s   w_op/s   r_avg_exe   w_avg_exe\n"
    "10.0.0.1:/a    /mnt/a    12.5     3.0      0.41        0.90\n"
    "10.0.0.2:/b    /mnt/b    0.0      7.25     0.00        1.10\n"
)
ROW_PER_EVENT = (
    'multikv: "creates a new event for each table row and assigns field names from the title '
    'row of the table"'
)


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    props: dict[str, str]
    raw: str
    rows: list[dict[str, list[str]]]
    raws: list[str] | None = None
    indexed: dict[str, list[str]] = field(default_factory=dict)


CASES = [
    Case(
        "each table row becomes a result with the header's fields",
        ROW_PER_EVENT,
        MULTI,
        NFS,
        [
            {
                "Mount": ["10.0.0.1:/a"],
                "Path": ["/mnt/a"],
                "r_op_s": ["12.5"],
                "w_op_s": ["3.0"],
                "r_avg_exe": ["0.41"],
                "w_avg_exe": ["0.90"],
            },
            {
                "Mount": ["10.0.0.2:/b"],
                "Path": ["/mnt/b"],
                "r_op_s": ["0.0"],
                "w_op_s": ["7.25"],
                "r_avg_exe": ["0.00"],
                "w_avg_exe": ["1.10"],
            },
        ],
        raws=[NFS.splitlines()[1], NFS.splitlines()[2]],
    ),
    Case(
        "aliases and evals run on every row (FIELDALIAS then EVAL)",
        "KV_MODE ... automatic key-value field extraction occurs after transform extractions, "
        "but before field aliasing (Configure automatic key-value field extraction)",
        {
            **MULTI,
            "FIELDALIAS-r": "r_op_s as read_ops",
            "FIELDALIAS-w": "w_op_s as write_ops",
            "EVAL-total_ops": "read_ops + write_ops",
        },
        NFS,
        [{"total_ops": ["15.5"]}, {"total_ops": ["7.25"]}],
    ),
    Case(
        "lines before the header are the pre section",
        "multikv.conf.spec: pre | optional: info/description (for example: the system summary "
        "output in top)",
        MULTI,
        "top - 10:00:01 up 3 days, load average: 0.1\nTasks: 2 total\n\n"
        "PID USER COMMAND\n1 root init\n22 www nginx\n",
        [
            {"PID": ["1"], "USER": ["root"], "COMMAND": ["init"]},
            {"PID": ["22"], "USER": ["www"], "COMMAND": ["nginx"]},
        ],
    ),
    Case(
        "a blank line after the body starts the post section",
        "multikv.conf.spec: post | optional: info/description",
        MULTI,
        "NAME STATE\napp running\n\nTotal: 1 service\n",
        [{"NAME": ["app"], "STATE": ["running"]}],
    ),
    Case(
        "a row with a missing value is read by column alignment",
        'multikv: "It works more easily with the fixed-alignment though can sometimes handle '
        'merely ordered fields"',
        MULTI,
        "Name     Age   Occupation\nJosh     42    SoftwareEngineer\nFrancine       CEO\n",
        [
            {"Name": ["Josh"], "Age": ["42"], "Occupation": ["SoftwareEngineer"]},
            {"Name": ["Francine"], "Occupation": ["CEO"]},
        ],
    ),
    Case(
        "rows keep the event's index-time fields",
        ROW_PER_EVENT,
        MULTI,
        "A B\n1 2\n",
        [{"A": ["1"], "B": ["2"], "region": ["eu"]}],
        indexed={"region": ["eu"]},
    ),
    Case(
        "multi does not also run the key=value scan",
        "KV_MODE = [none|auto|auto_escaped|multi|...] ... multi - Invokes the 'multikv' search "
        "command",
        MULTI,
        "KEY VALUE\nuser=bob ok\n",
        [{"KEY": ["user=bob"], "VALUE": ["ok"]}],
    ),
    Case(
        "an event without a table is left as it is",
        "multikv.conf.spec: body | required: the body of the table from which child events are "
        "constructed",
        MULTI,
        "1 2 3\n4 5 6\n",
        [{}],
        raws=["1 2 3\n4 5 6\n"],
    ),
]


def _run(case: Case) -> list[Event]:
    processor = SearchTimeProcessor(transforms={}, eventtypes={}, tags={}, lookup_files={})
    event = Event(
        raw=case.raw,
        sourcetype="st",
        source="/bin/nfsiostat.sh",
        host="h",
        time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for name, values in case.indexed.items():
        event.fields[name] = list(values)
        event.indexed.add(name)
    results, errors = processor.run(event, case.props)
    assert errors == []
    return results


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_multikv_case(case: Case) -> None:
    results = _run(case)
    assert len(results) == len(case.rows)
    for result, expected in zip(results, case.rows, strict=True):
        for name, values in expected.items():
            assert result.fields.get(name) == values, (name, result.fields)
        assert result.time == datetime(2024, 1, 1, tzinfo=UTC)
        assert (result.sourcetype, result.source, result.host) == ("st", "/bin/nfsiostat.sh", "h")
    if case.raws is not None:
        assert [result.raw for result in results] == case.raws

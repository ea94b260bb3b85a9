from __future__ import annotations

from pathlib import Path

import pytest

from engine.conf.ta import TA, write_ta


@pytest.fixture
def example_ta() -> TA:
    """A small but complete add-on: index-time and search-time settings, a lookup, a sample."""
    ta = TA(app_id="TA-example-fw", version="2.0.1", label="Example Firewall", author="Sec team")
    ta.props.set("example:fw", "SHOULD_LINEMERGE", "false")
    ta.props.set("example:fw", "TIME_PREFIX", "^")
    ta.props.set("example:fw", "TIME_FORMAT", "%Y-%m-%dT%H:%M:%S%z")
    ta.props.set("example:fw", "EXTRACT-action", "action=(?<action>\\w+)")
    ta.props.set("example:fw", "LOOKUP-proto", "example_proto proto_num OUTPUT proto")
    ta.transforms.set("example_proto", "filename", "example_proto.csv")
    ta.eventtypes.set("example_fw_traffic", "search", "sourcetype=example:fw action=*")
    ta.tags.set("eventtype=example_fw_traffic", "network", "enabled")
    ta.tags.set("eventtype=example_fw_traffic", "communicate", "enabled")
    ta.lookups["example_proto.csv"] = b"proto_num,proto\n6,tcp\n17,udp\n"
    ta.extra_files["samples/example_fw.log"] = b"2024-01-01T00:00:00+0000 action=allowed\n"
    return ta


@pytest.fixture
def ta_dir(tmp_path: Path, example_ta: TA) -> Path:
    return write_ta(example_ta, tmp_path / "src")

"""The CIM data models as pytest-splunk-addon ships them (vendored JSON, see data/NOTICE).

A data model is a tree of datasets; a dataset applies to an event whose tags include one of its
tag groups, narrowed by its search constraint. Fields carry a type (required, conditional,
optional, not_allowed_in_...), expected values, an SPL validity expression and, for conditional
fields, the SPL condition under which they are required.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

_DATA = "data"
_MODELS_DIR = "data_models"
_COMMON_FIELDS = "CommonFields.json"

NEGATIVE_VALUES = frozenset({"", "-", "unknown", "null", "(null)"})
"""Values pytest-splunk-addon's CIM tests reject for every field (compared stripped, lowercased)."""

TESTED_TYPES = ("required", "conditional")
"""Field types whose presence and validity the CIM tests check."""

NOT_IN_SEARCH_TYPES = frozenset({"not_allowed_in_search_and_props", "not_allowed_in_search"})
"""Field types no event may carry (Enterprise Security enriches them at search time).

``not_allowed_in_props`` fields (``tag``...) may appear in events; only extracting them in
props.conf is wrong, which is a conf check, not an event check.
"""


class CimDataError(ValueError):
    """A vendored data model file that does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class CimField:
    """One field of a dataset; ``validity``/``condition`` are SPL, empty when absent."""

    name: str
    type: str
    expected_values: tuple[str, ...] = ()
    validity: str = ""
    condition: str = ""
    multi_value: bool = False
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A node of a data model tree."""

    model: str
    name: str
    tag_groups: tuple[frozenset[str], ...]
    constraint: str
    fields: tuple[CimField, ...]
    clusters: tuple[tuple[str, ...], ...]
    children: tuple[Dataset, ...]

    def matches_tags(self, tags: frozenset[str] | set[str]) -> bool:
        """A dataset applies when all tags of one of its groups are present."""
        return any(group <= tags for group in self.tag_groups)


@dataclass(frozen=True, slots=True)
class DataModel:
    name: str
    version: str
    roots: tuple[Dataset, ...]

    def mapped_chains(self, tags: frozenset[str] | set[str]) -> Iterator[tuple[Dataset, ...]]:
        """Every root-to-node chain whose datasets all match ``tags`` (as pytest-splunk-addon)."""
        yield from _walk(self.roots, tags, ())

    def datasets(self) -> Iterator[tuple[Dataset, ...]]:
        """Every root-to-node chain of the tree, depth first."""
        yield from _walk_all(self.roots, ())


def _walk(
    datasets: tuple[Dataset, ...], tags: frozenset[str] | set[str], parents: tuple[Dataset, ...]
) -> Iterator[tuple[Dataset, ...]]:
    for dataset in datasets:
        if dataset.matches_tags(tags):
            chain = (*parents, dataset)
            yield chain
            yield from _walk(dataset.children, tags, chain)


def _walk_all(
    datasets: tuple[Dataset, ...], parents: tuple[Dataset, ...]
) -> Iterator[tuple[Dataset, ...]]:
    for dataset in datasets:
        chain = (*parents, dataset)
        yield chain
        yield from _walk_all(dataset.children, chain)


def _parse_field(raw: dict[str, Any]) -> CimField:
    try:
        name = str(raw["name"])
    except KeyError as exc:
        raise CimDataError(f"CIM field without a name: {raw!r}") from exc
    return CimField(
        name=name,
        type=str(raw.get("type") or "required"),
        expected_values=tuple(str(value) for value in raw.get("expected_values") or ()),
        validity=str(raw.get("validity") or "").strip(),
        condition=str(raw.get("condition") or "").strip(),
        multi_value=bool(raw.get("multi_value", False)),
        comment=str(raw.get("comment") or ""),
    )


def _parse_dataset(raw: dict[str, Any], model: str) -> Dataset:
    fields = tuple(_parse_field(item) for item in raw.get("fields") or ())
    names = {item.name for item in fields}
    clusters = tuple(tuple(cluster) for cluster in raw.get("fields_cluster") or ())
    for cluster in clusters:
        if not set(cluster) <= names:
            raise CimDataError(
                f"{model}.{raw.get('name')}: cluster {list(cluster)} names undeclared fields"
            )
    return Dataset(
        model=model,
        name=str(raw.get("name") or ""),
        tag_groups=tuple(frozenset(group) for group in raw.get("tags") or ()),
        constraint=str(raw.get("search_constraints") or "").strip(),
        fields=fields,
        clusters=clusters,
        children=tuple(_parse_dataset(child, model) for child in raw.get("child_dataset") or ()),
    )


def _model_from_json(text: str, stem: str) -> DataModel:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CimDataError(f"CIM data model {stem}: invalid JSON ({exc})") from exc
    # One vendored file (Interprocess Messaging) has an empty model_name: name it by its file.
    name = str(raw.get("model_name") or "").strip() or stem.replace(" ", "_")
    roots = tuple(_parse_dataset(item, name) for item in raw.get("objects") or ())
    return DataModel(name=name, version=str(raw.get("version") or ""), roots=roots)


@lru_cache(maxsize=1)
def load_data_models() -> tuple[DataModel, ...]:
    """All vendored data models, sorted by name (read once)."""
    folder = files(__package__).joinpath(_DATA, _MODELS_DIR)
    models = [
        _model_from_json(entry.read_text(encoding="utf-8"), entry.name.removesuffix(".json"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]
    return tuple(sorted(models, key=lambda model: model.name))


@lru_cache(maxsize=1)
def common_fields() -> tuple[CimField, ...]:
    """Fields the CIM tests forbid in every add-on (CommonFields.json)."""
    text = files(__package__).joinpath(_DATA, _COMMON_FIELDS).read_text(encoding="utf-8")
    return tuple(_parse_field(item) for item in json.loads(text).get("fields") or ())


@dataclass(frozen=True, slots=True)
class CimDatasetInfo:
    """What a generator needs to target one dataset: its tags and its fields by type."""

    model: str
    dataset: str
    path: str
    tags: tuple[tuple[str, ...], ...]
    required: tuple[str, ...]
    conditional: tuple[str, ...]
    optional: tuple[str, ...]
    expected_values: dict[str, tuple[str, ...]]


def cim_models() -> list[CimDatasetInfo]:
    """Every dataset of every data model with the tags it needs and its fields by type."""
    out: list[CimDatasetInfo] = []
    for model in load_data_models():
        for chain in model.datasets():
            node = chain[-1]
            out.append(
                CimDatasetInfo(
                    model=model.name,
                    dataset=node.name,
                    path=".".join(item.name for item in chain),
                    tags=tuple(tuple(sorted(group)) for group in node.tag_groups),
                    required=_names(node, "required"),
                    conditional=_names(node, "conditional"),
                    optional=_names(node, "optional"),
                    expected_values={
                        item.name: item.expected_values
                        for item in node.fields
                        if item.expected_values
                    },
                )
            )
    return out


def _names(dataset: Dataset, kind: str) -> tuple[str, ...]:
    return tuple(item.name for item in dataset.fields if item.type == kind)

"""The vendored CIM data models load completely and keep pytest-splunk-addon's structure."""

from __future__ import annotations

from importlib.resources import files

from engine.cim.models import cim_models, common_fields, load_data_models


def _model(name: str):
    return next(model for model in load_data_models() if model.name == name)


def test_every_vendored_model_loads_with_a_name() -> None:
    models = load_data_models()
    shipped = [
        entry.name
        for entry in files("engine.cim").joinpath("data", "data_models").iterdir()
        if entry.name.endswith(".json")
    ]
    assert len(models) == len(shipped) == 23
    assert all(model.name for model in models)
    # The one file with an empty model_name is named after its file.
    assert "Interprocess_Messaging" in {model.name for model in models}


def test_license_and_provenance_are_vendored() -> None:
    data = files("engine.cim").joinpath("data")
    assert "Apache License" in data.joinpath("LICENSE").read_text(encoding="utf-8")
    notice = data.joinpath("NOTICE").read_text(encoding="utf-8")
    assert "pytest-splunk-addon 6.4.0" in notice


def test_authentication_requires_its_cim_fields_and_tag() -> None:
    root = _model("Authentication").roots[0]
    assert root.tag_groups == (frozenset({"authentication"}),)
    required = {item.name for item in root.fields if item.type == "required"}
    assert {"action", "app", "dest", "src", "user"} <= required
    action = next(item for item in root.fields if item.name == "action")
    assert set(action.expected_values) == {"success", "failure", "pending", "error"}


def test_child_datasets_map_only_when_their_tags_are_present() -> None:
    change = _model("Change")
    plain = [tuple(d.name for d in chain) for chain in change.mapped_chains({"change"})]
    assert ("All_Changes",) in plain
    assert not any("Account_Management" in chain for chain in plain)
    account = [
        tuple(d.name for d in chain) for chain in change.mapped_chains({"change", "account"})
    ]
    assert ("All_Changes", "Account_Management") in account
    assert not list(change.mapped_chains({"account"}))


def test_cim_models_lists_tags_and_fields_for_the_generator() -> None:
    infos = {info.path: info for info in cim_models()}
    traffic = infos["All_Traffic"]
    assert traffic.model == "Network_Traffic"
    assert traffic.tags == (("communicate", "network"),)
    assert "transport" in traffic.required
    web = infos["Web"]
    assert "url" in web.required
    assert infos["All_Changes.Account_Management"].dataset == "Account_Management"


def test_common_fields_are_the_enrichment_fields_addons_must_not_extract() -> None:
    types = {item.name: item.type for item in common_fields()}
    assert types["dest_bunit"] == "not_allowed_in_search_and_props"
    assert types["tag"] == "not_allowed_in_props"
    assert all(kind.startswith("not_allowed") for kind in types.values())

"""The wire schema in fieldops.protocol, and the server's table of appliers that matches it."""

from __future__ import annotations

import pydantic
import pytest

from fieldops.protocol import (
    ENTITY_KINDS,
    MIN_CLIENT_VERSION,
    PROTOCOL_VERSION,
    AssetFields,
    IncidentFields,
    Mutation,
    Ownership,
    PushRequest,
    entity_kind,
)
from fieldops.server.appliers import APPLIERS


def test_every_kind_has_an_applier_and_every_applier_a_kind() -> None:
    assert set(APPLIERS) == set(ENTITY_KINDS)
    for name, applier in APPLIERS.items():
        assert applier.kind is ENTITY_KINDS[name]


def test_every_kind_maps_to_a_site() -> None:
    for kind in ENTITY_KINDS.values():
        assert (kind.site_field is not None) != bool(kind.parents), kind.name  # one way only
        for field in (*kind.parents, *kind.references, *kind.unique):
            assert field in kind.fields.model_fields, (kind.name, field)
        for parent in kind.parents:
            assert parent in kind.references, (kind.name, parent)


def test_the_first_version_carries_the_kinds_the_client_has() -> None:
    assert set(ENTITY_KINDS) == {
        "site",
        "location",
        "asset",
        "component",
        "incident",
        "note",
        "photo",
        "replacement",
        "asset_code",
        "label_print",
    }
    append_only = {k.name for k in ENTITY_KINDS.values() if k.ownership is Ownership.APPEND_ONLY}
    assert append_only == {"note", "photo", "replacement", "asset_code", "label_print"}
    assert entity_kind("gizmo") is None
    assert 1 <= MIN_CLIENT_VERSION <= PROTOCOL_VERSION


def test_identifiers_stay_text_and_uuids_are_canonical() -> None:
    fields = AssetFields.model_validate({"asset_tag": "000123", "site_code": "HQ-DC1"})
    assert fields.asset_tag == "000123"
    with pytest.raises(pydantic.ValidationError):
        AssetFields.model_validate({"asset_tag": 123, "site_code": "HQ-DC1"})
    mutation = Mutation.model_validate(
        {
            "mutation_id": "0190A000-0000-7000-8000-00000000000A",
            "seq": 1,
            "entity": "asset",
            "entity_id": "0190a000-0000-7000-8000-00000000000b",
            "op": "create",
        }
    )
    assert mutation.mutation_id == "0190a000-0000-7000-8000-00000000000a"
    with pytest.raises(pydantic.ValidationError):
        Mutation.model_validate({**mutation.model_dump(), "entity_id": "../../etc"})


def test_times_travel_as_utc_with_an_offset() -> None:
    base = {
        "site_code": "HQ-DC1",
        "category": "hardware",
        "impact": "low",
        "urgency": "low",
        "title": "PSU",
        "occurred_at": "2026-12-04T11:15:00+01:00",
        "reported_at": "2026-12-04T10:20:00Z",
    }
    dumped = IncidentFields.model_validate(base).model_dump(mode="json")
    assert dumped["occurred_at"] == "2026-12-04T10:15:00+00:00"
    assert dumped["reported_at"] == "2026-12-04T10:20:00+00:00"
    with pytest.raises(pydantic.ValidationError):
        IncidentFields.model_validate({**base, "occurred_at": "2026-12-04T10:15:00"})


def test_unknown_fields_are_refused_in_records_but_ignored_in_messages() -> None:
    with pytest.raises(pydantic.ValidationError):
        AssetFields.model_validate({"asset_tag": "A", "site_code": "HQ-DC1", "colour": "red"})
    request = PushRequest.model_validate(
        {
            "client_id": "0190a000-0000-7000-8000-00000000000c",
            "protocol_version": 1,
            "mutations": [
                {
                    "mutation_id": "0190a000-0000-7000-8000-00000000000d",
                    "seq": 1,
                    "entity": "note",
                    "entity_id": "0190a000-0000-7000-8000-00000000000e",
                    "op": "create",
                    "added_in_a_later_version": True,
                }
            ],
            "also_new": 1,
        }
    )
    assert request.mutations[0].fields == {}


def test_server_results_are_mutation_results_field_for_field() -> None:
    """The server builds results as plain dicts for speed; they must be MutationResult exactly."""
    from fieldops.protocol import MutationResult, Outcome
    from fieldops.server.apply import _result
    from fieldops.server.records import dumps

    mutation = Mutation.model_validate(
        {
            "mutation_id": "0190a000-0000-7000-8000-00000000000f",
            "seq": 3,
            "entity": "incident",
            "entity_id": "0190a000-0000-7000-8000-000000000010",
            "op": "update",
            "base_version": 1,
        }
    )
    built = _result(mutation, Outcome.CONFLICT, version=3, conflicts=["title"],
                    server_values={"title": "Fan failed"})  # fmt: skip
    assert list(built) == list(MutationResult.model_fields)
    text = dumps(built)
    assert MutationResult.model_validate_json(text).model_dump_json() == text

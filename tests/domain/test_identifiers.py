"""Identifiers: UUIDv7 ordering, matching keys that keep leading zeros, catalogue ids."""

from __future__ import annotations

import uuid

from fieldops.domain.identifiers import (
    catalogue_asset_id,
    catalogue_component_id,
    catalogue_location_id,
    code_key,
    new_id,
    uuid7,
)


def test_uuid7_version_variant_and_order() -> None:
    ids = [uuid7() for _ in range(2000)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert len(set(ids)) == len(ids)
    stamps = [u.int >> 80 for u in ids]
    assert stamps == sorted(stamps)


def test_new_id_is_text() -> None:
    assert uuid.UUID(new_id()).version == 7


def test_code_key_folds_case_and_space_but_keeps_leading_zeros() -> None:
    assert code_key("  it-000217 ") == "IT-000217"
    assert code_key("012345") != code_key("12345")
    assert code_key("012345") == "012345"
    assert code_key("ｉｔ-０００２１７") == "IT-000217"  # full-width forms fold


def test_catalogue_ids_are_stable_and_case_blind() -> None:
    assert catalogue_asset_id("IT-000217") == catalogue_asset_id("it-000217")
    assert catalogue_asset_id("012345") != catalogue_asset_id("12345")
    assert catalogue_location_id("HQ-DC1", "Room B3") != catalogue_location_id("HQ-DC1", "Room B2")
    assert catalogue_location_id("HQ-DC1", "Room B3", "R02") == catalogue_location_id(
        "hq-dc1", "room b3", "r02"
    )
    assert catalogue_component_id("IT-1", "psu", "PSU1", "") != catalogue_component_id(
        "IT-1", "psu", "PSU2", ""
    )

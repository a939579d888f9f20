"""Lookups go through the one scan normaliser: symbology prefixes, GS1, payloads, misreads."""

from __future__ import annotations

import pytest

from fieldops.services.workspace import Workspace


@pytest.mark.parametrize(
    ("raw", "tag", "matched"),
    [
        ("IT-000217\r", "IT-000217", "tag"),
        ("]C0IT-000217", "IT-000217", "tag"),  # AIM identifier of a plain Code 128
        ("]Q1it-000217\r\n", "IT-000217", "tag"),
        ("*IT-000217*", "IT-000217", "tag"),  # Code 39 start and stop characters
        ('{"tag": "IT-000217"}', "IT-000217", "tag"),
        ("J344WPWW", "IT-000217", "serial"),
        ("]d20109501101530003\x1d21J344WPWW", "IT-000217", "gs1_serial"),
        ("(01)09501101530003(21)J344WPWW", "IT-000217", "gs1_serial"),
        ("003271", "003271", "tag"),
    ],
)
def test_scans_find_the_right_asset(
    demo_workspace: Workspace, raw: str, tag: str, matched: str
) -> None:
    result = demo_workspace.lookup.lookup(raw)
    assert result.misread is None
    assert result.card is not None and result.card.asset_tag == tag
    assert result.matched_kind == matched


@pytest.mark.parametrize(
    "raw",
    [
        "3271",  # leading zeros are data: the tag is 003271
        "*000122521",  # a prefix with no scanner profile is kept, and matches nothing
        "https://assets.example.invalid/hardware/217",  # another system's record number
    ],
)
def test_near_misses_are_not_found_never_fuzzy(demo_workspace: Workspace, raw: str) -> None:
    result = demo_workspace.lookup.lookup(raw)
    assert result.card is None and result.misread is None


def test_a_wrong_check_digit_is_a_misread_not_a_miss(demo_workspace: Workspace) -> None:
    result = demo_workspace.lookup.lookup("]E04006381333932")
    assert result.card is None
    assert result.misread and "check digit" in result.misread

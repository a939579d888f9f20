"""The incident vocabulary: priority matrix, categories and subtypes, status moves."""

from __future__ import annotations

import pytest

from fieldops.domain.errors import ValidationError
from fieldops.domain.incidents import (
    Category,
    Level,
    PhysicalSubtype,
    Priority,
    Status,
    can_move,
    check_subtype,
    check_transition,
    parse_category,
    parse_level,
    parse_subtype,
    priority_for,
)

H, M, L = Level.HIGH, Level.MEDIUM, Level.LOW

# The ITIL impact-by-urgency matrix, written out in full as the service desk reads it.
MATRIX = {
    (H, H): "P1", (H, M): "P2", (H, L): "P3",
    (M, H): "P2", (M, M): "P3", (M, L): "P4",
    (L, H): "P3", (L, M): "P4", (L, L): "P4",
}  # fmt: skip


@pytest.mark.parametrize(("impact", "urgency"), list(MATRIX))
def test_priority_matrix_cell(impact: Level, urgency: Level) -> None:
    assert priority_for(impact, urgency) is Priority(MATRIX[(impact, urgency)])


def test_priority_matrix_is_symmetric_and_monotonic() -> None:
    rank = {H: 0, M: 1, L: 2}
    for (i, u), p in MATRIX.items():
        assert priority_for(u, i).value == p
        for (i2, u2), p2 in MATRIX.items():
            if rank[i2] >= rank[i] and rank[u2] >= rank[u]:
                assert p2 >= p  # lower impact and urgency never raise the priority


def test_priority_accepts_words() -> None:
    assert priority_for("high", "high") is Priority.P1  # type: ignore[arg-type]


def test_physical_needs_a_subtype() -> None:
    with pytest.raises(ValidationError, match="subtype"):
        check_subtype(Category.PHYSICAL, None)
    check_subtype(Category.PHYSICAL, PhysicalSubtype.FLOOD)


@pytest.mark.parametrize("category", [c for c in Category if c is not Category.PHYSICAL])
def test_only_physical_takes_a_subtype(category: Category) -> None:
    check_subtype(category, None)
    with pytest.raises(ValidationError, match="Only physical"):
        check_subtype(category, PhysicalSubtype.FIRE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hardware", Category.HARDWARE),
        ("Data-Loss", Category.DATA_LOSS),
        ("data loss", Category.DATA_LOSS),
        ("unauthorized_access", Category.UNAUTHORIZED_ACCESS),
        (" physical ", Category.PHYSICAL),
    ],
)
def test_category_words(text: str, expected: Category) -> None:
    assert parse_category(text) is expected


def test_unknown_words_name_the_choices() -> None:
    with pytest.raises(ValidationError, match="hardware, software"):
        parse_category("meteor")
    with pytest.raises(ValidationError, match="fire, flood"):
        parse_subtype("volcano")
    with pytest.raises(ValidationError, match="high, medium or low"):
        parse_level("extreme", "impact")


def test_subtype_and_level_words() -> None:
    assert parse_subtype("FLOOD") is PhysicalSubtype.FLOOD
    assert parse_level(" Low ") is Level.LOW


def test_status_moves() -> None:
    assert can_move(Status.NEW, Status.IN_PROGRESS)
    assert can_move(Status.RESOLVED, Status.IN_PROGRESS)
    assert not can_move(Status.CLOSED, Status.IN_PROGRESS)
    assert not can_move(Status.NEW, Status.CLOSED)
    with pytest.raises(ValidationError, match="closed cannot become in progress"):
        check_transition(Status.CLOSED, Status.IN_PROGRESS)

"""Incident vocabulary: categories, physical subtypes, levels, the priority matrix and statuses."""

from __future__ import annotations

from enum import StrEnum

from fieldops.domain.errors import ValidationError


class Category(StrEnum):
    """What kind of incident it is."""

    HARDWARE = "hardware"
    SOFTWARE = "software"
    DATA_LOSS = "data-loss"
    UNAUTHORIZED_ACCESS = "unauthorized-access"
    DENIAL_OF_SERVICE = "denial-of-service"
    SERVICE_INTERRUPTION = "service-interruption"
    MALFUNCTION = "malfunction"
    PHYSICAL = "physical"


class PhysicalSubtype(StrEnum):
    """What happened physically; only physical incidents carry one."""

    FIRE = "fire"
    FLOOD = "flood"
    IMPACT = "impact"
    POWER = "power"
    TEMPERATURE = "temperature"
    OTHER = "other"


class Level(StrEnum):
    """Impact or urgency."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(StrEnum):
    """P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Status(StrEnum):
    """Where an incident is in its life."""

    NEW = "new"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


CATEGORY_LABELS: dict[Category, str] = {
    Category.HARDWARE: "Hardware",
    Category.SOFTWARE: "Software",
    Category.DATA_LOSS: "Data loss",
    Category.UNAUTHORIZED_ACCESS: "Unauthorised access",
    Category.DENIAL_OF_SERVICE: "Denial of service",
    Category.SERVICE_INTERRUPTION: "Service interruption",
    Category.MALFUNCTION: "Malfunction",
    Category.PHYSICAL: "Physical",
}

SUBTYPE_LABELS: dict[PhysicalSubtype, str] = {
    PhysicalSubtype.FIRE: "Fire",
    PhysicalSubtype.FLOOD: "Flood or water leak",
    PhysicalSubtype.IMPACT: "Fall or impact",
    PhysicalSubtype.POWER: "Power",
    PhysicalSubtype.TEMPERATURE: "Temperature",
    PhysicalSubtype.OTHER: "Other",
}

LEVEL_LABELS: dict[Level, str] = {Level.HIGH: "High", Level.MEDIUM: "Medium", Level.LOW: "Low"}

STATUS_LABELS: dict[Status, str] = {
    Status.NEW: "New",
    Status.IN_PROGRESS: "In progress",
    Status.ON_HOLD: "On hold",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}

# ITIL impact-by-urgency matrix, three levels each, folded onto four priorities.
_PRIORITY_MATRIX: dict[tuple[Level, Level], Priority] = {
    (Level.HIGH, Level.HIGH): Priority.P1,
    (Level.HIGH, Level.MEDIUM): Priority.P2,
    (Level.MEDIUM, Level.HIGH): Priority.P2,
    (Level.HIGH, Level.LOW): Priority.P3,
    (Level.MEDIUM, Level.MEDIUM): Priority.P3,
    (Level.LOW, Level.HIGH): Priority.P3,
    (Level.MEDIUM, Level.LOW): Priority.P4,
    (Level.LOW, Level.MEDIUM): Priority.P4,
    (Level.LOW, Level.LOW): Priority.P4,
}

# Which status may follow which. Resolved can be reopened; closed is final.
_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.ON_HOLD, Status.RESOLVED}),
    Status.ON_HOLD: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def priority_for(impact: Level, urgency: Level) -> Priority:
    """The priority that an impact and an urgency give."""
    return _PRIORITY_MATRIX[(Level(impact), Level(urgency))]


def parse_category(text: str) -> Category:
    """Reads a category word such as `physical` or `data-loss`."""
    word = text.strip().lower().replace("_", "-").replace(" ", "-")
    try:
        return Category(word)
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise ValidationError(f"Unknown category '{text}'. Use one of: {allowed}.") from None


def parse_subtype(text: str) -> PhysicalSubtype:
    """Reads a physical subtype word such as `flood`."""
    word = text.strip().lower()
    try:
        return PhysicalSubtype(word)
    except ValueError:
        allowed = ", ".join(s.value for s in PhysicalSubtype)
        raise ValidationError(f"Unknown subtype '{text}'. Use one of: {allowed}.") from None


def parse_level(text: str, what: str = "level") -> Level:
    """Reads high, medium or low."""
    word = text.strip().lower()
    try:
        return Level(word)
    except ValueError:
        raise ValidationError(f"Unknown {what} '{text}'. Use high, medium or low.") from None


def check_subtype(category: Category, subtype: PhysicalSubtype | None) -> None:
    """Physical incidents need a subtype; the others must not have one."""
    if category is Category.PHYSICAL and subtype is None:
        raise ValidationError(
            "A physical incident needs a subtype: fire, flood, impact, power, temperature or other."
        )
    if category is not Category.PHYSICAL and subtype is not None:
        raise ValidationError("Only physical incidents take a subtype.")


def can_move(current: Status, target: Status) -> bool:
    """Whether an incident in `current` may move to `target`."""
    return target in _TRANSITIONS[current]


def check_transition(current: Status, target: Status) -> None:
    """Raises when the status change is not allowed."""
    if not can_move(current, target):
        raise ValidationError(
            f"An incident that is {STATUS_LABELS[current].lower()} cannot become "
            f"{STATUS_LABELS[target].lower()}."
        )


def parse_status(text: str) -> Status:
    """Reads a status word such as `in-progress` (any case)."""
    word = text.strip().lower().replace("_", "-").replace(" ", "-")
    try:
        return Status(word)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise ValidationError(f"Unknown status '{text}'. Use one of: {allowed}.") from None


def parse_priority(text: str) -> Priority:
    """Reads P1 to P4 (any case)."""
    try:
        return Priority(text.strip().upper())
    except ValueError:
        raise ValidationError(f"Unknown priority '{text}'. Use P1, P2, P3 or P4.") from None

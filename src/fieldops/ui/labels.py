"""Words and colours the window uses for domain values, all through tr()."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from fieldops.domain.incidents import Category, Level, PhysicalSubtype, Status

PRIORITY_COLOURS = {"P1": "#c62828", "P2": "#ef6c00", "P3": "#f9a825", "P4": "#607d8b"}


def _t(text: str) -> str:
    return QCoreApplication.translate("Labels", text)


def category_label(value: str) -> str:
    """The shown name of a category word."""
    names = {
        Category.HARDWARE: _t("Hardware"),
        Category.SOFTWARE: _t("Software"),
        Category.DATA_LOSS: _t("Data loss"),
        Category.UNAUTHORIZED_ACCESS: _t("Unauthorised access"),
        Category.DENIAL_OF_SERVICE: _t("Denial of service"),
        Category.SERVICE_INTERRUPTION: _t("Service interruption"),
        Category.MALFUNCTION: _t("Malfunction"),
        Category.PHYSICAL: _t("Physical"),
    }
    return names.get(Category(value), value) if value in Category._value2member_map_ else value


def subtype_label(value: str) -> str:
    """The shown name of a physical subtype word."""
    names = {
        PhysicalSubtype.FIRE: _t("Fire"),
        PhysicalSubtype.FLOOD: _t("Flood or water leak"),
        PhysicalSubtype.IMPACT: _t("Fall or impact"),
        PhysicalSubtype.POWER: _t("Power"),
        PhysicalSubtype.TEMPERATURE: _t("Temperature"),
        PhysicalSubtype.OTHER: _t("Other"),
    }
    if value in PhysicalSubtype._value2member_map_:
        return names[PhysicalSubtype(value)]
    return value


def level_label(value: str) -> str:
    """High, Medium or Low."""
    names = {Level.HIGH: _t("High"), Level.MEDIUM: _t("Medium"), Level.LOW: _t("Low")}
    return names[Level(value)] if value in Level._value2member_map_ else value


def status_label(value: str) -> str:
    """The shown name of a status word."""
    names = {
        Status.NEW: _t("New"),
        Status.IN_PROGRESS: _t("In progress"),
        Status.ON_HOLD: _t("On hold"),
        Status.RESOLVED: _t("Resolved"),
        Status.CLOSED: _t("Closed"),
    }
    return names[Status(value)] if value in Status._value2member_map_ else value


def priority_style(priority: str) -> str:
    """A style sheet for a priority badge."""
    colour = PRIORITY_COLOURS.get(priority, "#607d8b")
    text = "#000000" if priority == "P3" else "#ffffff"
    return (
        f"background:{colour}; color:{text}; border-radius:4px; padding:2px 8px; font-weight:bold;"
    )


def fate_label(value: str) -> str:
    """The shown words for what became of a replaced part."""
    from fieldops.services.replacements import OldPartFate

    names = {
        OldPartFate.RETURNED: _t("Returned to the vendor (RMA)"),
        OldPartFate.SCRAPPED: _t("Scrapped"),
        OldPartFate.SPARE: _t("Kept as a spare"),
        OldPartFate.REPAIR: _t("Sent for repair"),
        OldPartFate.OTHER: _t("Other (see the notes)"),
    }
    if value in OldPartFate._value2member_map_:
        return names[OldPartFate(value)]
    return value

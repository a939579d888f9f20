"""Label layouts as data: sheets of die-cut labels (A4, US Letter) and thermal label sizes.

Sheet geometry follows the manufacturers' published templates: the first label's top-left
corner (top and side margin) and the pitch, the distance from one label's corner to the next
one's, so a gap between labels is the pitch less the label size.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldops.domain.errors import ValidationError

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class Rect:
    """A rectangle in millimetres, from the page's (or label's) top-left corner."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """The y of the bottom edge."""
        return self.y + self.height

    def overlaps(self, other: Rect) -> bool:
        """Whether the two share any area (touching edges do not count)."""
        eps = 1e-6
        return (
            self.x < other.right - eps
            and other.x < self.right - eps
            and self.y < other.bottom - eps
            and other.y < self.bottom - eps
        )


@dataclass(frozen=True)
class SheetLayout:
    """A sheet of die-cut labels: page, label size, grid, margins and pitch, in millimetres."""

    name: str
    description: str
    page_name: str  # "A4" or "Letter"
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    columns: int
    rows: int
    top_margin: float
    side_margin: float
    pitch_x: float
    pitch_y: float

    @property
    def per_sheet(self) -> int:
        """How many labels one sheet holds."""
        return self.columns * self.rows

    @property
    def label_size(self) -> tuple[float, float]:
        """(width, height) of one label in millimetres."""
        return self.label_width, self.label_height

    def slot(self, index: int) -> Rect:
        """Where label `index` (0-based, row by row from the top left) sits on its sheet."""
        if not 0 <= index < self.per_sheet:
            raise ValueError(f"label {index} is not on a {self.name} sheet")
        row, column = divmod(index, self.columns)
        return Rect(
            self.side_margin + column * self.pitch_x,
            self.top_margin + row * self.pitch_y,
            self.label_width,
            self.label_height,
        )

    def placements(self, count: int, start: int = 1) -> list[tuple[int, Rect]]:
        """(page index, rectangle) for `count` labels, the first at label `start` (1-based)."""
        check_start(self, start)
        places = []
        for n in range(start - 1, start - 1 + count):
            page, index = divmod(n, self.per_sheet)
            places.append((page, self.slot(index)))
        return places

    def pages_for(self, count: int, start: int = 1) -> int:
        """How many sheets `count` labels need when the first goes at label `start`."""
        check_start(self, start)
        return 0 if count <= 0 else (start - 1 + count - 1) // self.per_sheet + 1


@dataclass(frozen=True)
class ThermalLayout:
    """One label per print on a thermal printer's roll, at the printer's resolution."""

    name: str
    description: str
    width_in: float
    height_in: float
    dpi: int

    @property
    def label_size(self) -> tuple[float, float]:
        """(width, height) of one label in millimetres."""
        return self.width_in * MM_PER_INCH, self.height_in * MM_PER_INCH

    @property
    def dots(self) -> tuple[int, int]:
        """(width, height) of the label in printer dots."""
        return round(self.width_in * self.dpi), round(self.height_in * self.dpi)

    @property
    def per_sheet(self) -> int:
        """A roll has no sheet: each label is its own print."""
        return 1


Layout = SheetLayout | ThermalLayout

A4 = ("A4", 210.0, 297.0)
LETTER = ("Letter", 8.5 * MM_PER_INCH, 11 * MM_PER_INCH)


def _a4(
    name: str,
    per: str,
    size: tuple[float, float],
    grid: tuple[int, int],
    top: float,
    side: float,
    pitch: tuple[float, float],
) -> SheetLayout:
    return SheetLayout(
        name, f"Avery {name}: A4, {per} per sheet, {size[0]:g} × {size[1]:g} mm", *A4,
        size[0], size[1], grid[0], grid[1], top, side, pitch[0], pitch[1],
    )  # fmt: skip


def _letter(
    name: str,
    per: str,
    size: tuple[float, float],
    grid: tuple[int, int],
    top: float,
    side: float,
    pitch: tuple[float, float],
) -> SheetLayout:
    inch = MM_PER_INCH
    return SheetLayout(
        name, f"Avery {name}: US Letter, {per} per sheet, {size[0]:g} × {size[1]:g} in",
        *LETTER, size[0] * inch, size[1] * inch, grid[0], grid[1], top * inch, side * inch,
        pitch[0] * inch, pitch[1] * inch,
    )  # fmt: skip


SHEETS: tuple[SheetLayout, ...] = (
    _a4("L7651", "65", (38.1, 21.2), (5, 13), 10.7, 4.75, (40.6, 21.2)),
    _a4("L7160", "21", (63.5, 38.1), (3, 7), 15.15, 7.25, (66.0, 38.1)),
    _a4("L7163", "14", (99.1, 38.1), (2, 7), 15.15, 4.65, (101.6, 38.1)),
    _letter("5160", "30", (2.625, 1.0), (3, 10), 0.5, 0.1875, (2.75, 1.0)),
    _letter("5163", "10", (4.0, 2.0), (2, 5), 0.5, 0.15625, (4.1875, 2.0)),
    _letter("5167", "80", (1.75, 0.5), (4, 20), 0.5, 0.28125, (2.0625, 0.5)),
)
THERMAL: tuple[ThermalLayout, ...] = (
    ThermalLayout("zpl-2x1", "ZPL thermal 2 × 1 in, 203 dpi", 2.0, 1.0, 203),
    ThermalLayout("zpl-4x2", "ZPL thermal 4 × 2 in, 203 dpi", 4.0, 2.0, 203),
    ThermalLayout("zpl-2x1-300", "ZPL thermal 2 × 1 in, 300 dpi", 2.0, 1.0, 300),
    ThermalLayout("zpl-4x2-300", "ZPL thermal 4 × 2 in, 300 dpi", 4.0, 2.0, 300),
)
ALL_LAYOUTS: tuple[Layout, ...] = (*SHEETS, *THERMAL)
LAYOUTS: dict[str, Layout] = {layout.name.casefold(): layout for layout in ALL_LAYOUTS}
DEFAULT_SHEET = "L7160"
DEFAULT_THERMAL = "zpl-2x1"


def layout_named(name: str) -> Layout:
    """The layout with this name (any case); a ValidationError lists the known ones."""
    layout = LAYOUTS.get(name.strip().casefold())
    if layout is None:
        known = ", ".join(layout.name for layout in LAYOUTS.values())
        raise ValidationError(f"There is no label layout called {name!r}. Known: {known}.")
    return layout


def check_start(layout: SheetLayout, start: int) -> None:
    """Refuses a start position that is not on the sheet."""
    if not 1 <= start <= layout.per_sheet:
        raise ValidationError(
            f"Start position {start} is not on a {layout.name} sheet: "
            f"choose 1 to {layout.per_sheet}."
        )

"""Where things go on one label: the code, its module size, and the text lines, in mm.

One arrangement serves the PDF, the preview and ZPL, so what is previewed is what prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fieldops.labels.content import LabelContent, LabelError
from fieldops.labels.layouts import MM_PER_INCH, Rect
from fieldops.labels.symbols import Symbol, encode

# Smallest module a scanner reads reliably off a printed label, and the largest worth using.
MIN_MODULE_LINEAR = 0.19
MIN_MODULE_MATRIX = 0.25
MAX_MODULE_LINEAR = 0.5
MAX_MODULE_MATRIX = 1.0
# Module sizes are whole dots of a 600 dpi printer, so every bar prints the same width.
PDF_STEP = MM_PER_INCH / 600
LINE_SPACING = 1.2
MIN_BAR_HEIGHT = 4.0
MAX_BAR_HEIGHT = 20.0


@dataclass(frozen=True)
class TextBox:
    """One line of text: its box, its font height (mm) and weight."""

    rect: Rect
    text: str
    size: float
    bold: bool = False


@dataclass(frozen=True)
class Arrangement:
    """The code and the text of one label, placed inside a label of `width` × `height` mm."""

    width: float
    height: float
    symbol: Symbol
    code: Rect  # the symbol itself, quiet zone excluded
    module: float
    texts: tuple[TextBox, ...]

    def module_rects(self) -> list[Rect]:
        """Every dark run of the code as a rectangle in mm, in the label's coordinates."""
        m = self.module
        if self.symbol.rows == 1:
            return [Rect(self.code.x + c * m, self.code.y, n * m, self.code.height)
                    for _, c, n in self.symbol.runs]  # fmt: skip
        return [Rect(self.code.x + c * m, self.code.y + r * m, n * m, m)
                for r, c, n in self.symbol.runs]  # fmt: skip


def _snap(value: float, step: float) -> float:
    return math.floor(value / step + 1e-9) * step


def _too_small(content: LabelContent, width: float, height: float, module: float) -> LabelError:
    return LabelError(
        f"The asset tag {content.tag!r} does not fit a {width:.1f} × {height:.1f} mm label "
        f"as {content.symbology.display_name}: its modules would be {module:.2f} mm. Choose a "
        "larger label, or another code."
    )


def _module(
    content: LabelContent, symbol: Symbol, room: float, step: float, width: float, height: float
) -> float:
    matrix = content.symbology.two_dimensional
    largest = MAX_MODULE_MATRIX if matrix else MAX_MODULE_LINEAR
    smallest = MIN_MODULE_MATRIX if matrix else MIN_MODULE_LINEAR
    module = _snap(min(largest, room / (symbol.columns + 2 * symbol.quiet)), step)
    if module < max(smallest - step / 2, step):
        raise _too_small(content, width, height, module)
    return module


def _sizes(inner_height: float) -> tuple[float, float]:
    tag = min(5.0, max(2.0, inner_height * 0.17))
    return tag, min(3.0, max(1.6, tag * 0.62))


def _stack(
    content: LabelContent,
    x: float,
    y: float,
    width: float,
    room: float,
    tag_size: float,
    line_size: float,
) -> list[TextBox]:
    """The tag and then as many lines as fit in `room` mm of height, from `y` down."""
    boxes = [TextBox(Rect(x, y, width, tag_size * LINE_SPACING), content.tag, tag_size, True)]
    used = tag_size * LINE_SPACING
    for line in content.lines:
        if used + line_size * LINE_SPACING > room + 1e-6:
            break
        boxes.append(TextBox(Rect(x, y + used, width, line_size * LINE_SPACING), line, line_size))
        used += line_size * LINE_SPACING
    return boxes


def _height(boxes: list[TextBox]) -> float:
    return sum(box.rect.height for box in boxes)


def _shifted(boxes: list[TextBox], dy: float) -> tuple[TextBox, ...]:
    return tuple(
        TextBox(Rect(b.rect.x, b.rect.y + dy, b.rect.width, b.rect.height), b.text, b.size, b.bold)
        for b in boxes
    )


def arrange(
    content: LabelContent, width: float, height: float, *, step: float = PDF_STEP
) -> Arrangement:
    """Places the code and text on a `width` × `height` mm label; LabelError if it cannot fit."""
    symbol = encode(content.payload, content.symbology)
    pad = min(3.0, max(1.0, min(width, height) * 0.07))
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    tag_size, line_size = _sizes(inner_h)
    if content.symbology.two_dimensional:
        return _matrix(content, symbol, width, height, pad, step, tag_size, line_size)
    module = _module(content, symbol, inner_w, step, width, height)
    text_room = inner_h - MIN_BAR_HEIGHT
    if text_room < tag_size * LINE_SPACING:
        raise _too_small(content, width, height, module)
    boxes = _stack(content, pad, 0.0, inner_w, text_room, tag_size, line_size)
    bars = min(MAX_BAR_HEIGHT, inner_h - _height(boxes))
    top = pad + (inner_h - bars - _height(boxes)) / 2
    code_w = symbol.columns * module
    code = Rect(pad + (inner_w - code_w) / 2, top, code_w, bars)
    return Arrangement(width, height, symbol, code, module, _shifted(boxes, top + bars))


def _matrix(
    content: LabelContent,
    symbol: Symbol,
    width: float,
    height: float,
    pad: float,
    step: float,
    tag_size: float,
    line_size: float,
) -> Arrangement:
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    module = _module(content, symbol, min(inner_h, inner_w * 0.5), step, width, height)
    side = symbol.columns * module
    quiet = symbol.quiet * module
    code = Rect(pad + quiet, pad + (inner_h - symbol.rows * module) / 2, side, symbol.rows * module)
    text_x = code.right + quiet + min(1.5, pad)
    text_w = width - pad - text_x
    if text_w < 4 * tag_size:
        raise _too_small(content, width, height, module)
    boxes = _stack(content, text_x, 0.0, text_w, inner_h, tag_size, line_size)
    top = pad + (inner_h - _height(boxes)) / 2
    return Arrangement(width, height, symbol, code, module, _shifted(boxes, top))

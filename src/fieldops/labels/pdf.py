"""Labels drawn with Qt: PDF sheets through QPdfWriter, and the preview image.

The code is drawn as filled rectangles (one path, so no hairline seams between modules) and
the text as vector text; the PDF stays sharp at any printer resolution. Needs a
QGuiApplication (the offscreen platform is enough) for fonts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
)

from fieldops.domain.errors import FieldOpsError
from fieldops.labels.arrange import Arrangement, TextBox, arrange
from fieldops.labels.content import LabelContent
from fieldops.labels.layouts import MM_PER_INCH, Layout, Rect, SheetLayout, ThermalLayout
from fieldops.labels.symbols import Symbol

log = logging.getLogger(__name__)

PDF_DPI = 1200
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class LabelsCancelled(FieldOpsError):
    """The person stopped the labels before they were all drawn; no file was written."""

    code = "labels-cancelled"


@lru_cache(maxsize=64)
def _font(size_px: int, bold: bool) -> QFont:
    # Cached: a label sheet asks for the same few fonts hundreds of times.
    font = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).family())
    font.setPixelSize(max(1, size_px))
    font.setBold(bold)
    return font


def _qrect(rect: Rect, x0: float, y0: float, scale: float) -> QRectF:
    return QRectF(x0 + rect.x * scale, y0 + rect.y * scale, rect.width * scale, rect.height * scale)


def symbol_image(symbol: Symbol) -> QImage:
    """The code as a one-bit image, one pixel a module (one row for Code 128)."""
    grid = np.full((symbol.rows, symbol.columns), 255, dtype=np.uint8)
    for row, column, length in symbol.runs:
        grid[row, column : column + length] = 0
    data = grid.tobytes()
    image = QImage(
        data, symbol.columns, symbol.rows, symbol.columns, QImage.Format.Format_Grayscale8
    )
    return image.convertToFormat(QImage.Format.Format_Mono)


def _draw_text(painter: QPainter, box: TextBox, rect: QRectF, scale: float, centred: bool) -> None:
    font = _font(round(box.size * scale), box.bold)
    metrics = QFontMetricsF(font, painter.device())
    text = box.text
    if box.bold:
        # The tag is never cut short: its font shrinks to fit, down to 60 %.
        advance = metrics.horizontalAdvance(text)
        if advance > rect.width():
            font = _font(round(box.size * scale * max(0.6, rect.width() / advance)), True)
    else:
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    painter.setFont(font)
    align = Qt.AlignmentFlag.AlignHCenter if centred else Qt.AlignmentFlag.AlignLeft
    painter.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), text)


def paint_label(
    painter: QPainter, arrangement: Arrangement, x0: float, y0: float, scale: float
) -> None:
    """Draws one arranged label with its top-left corner at (x0, y0), `scale` units per mm."""
    # One image a code, drawn unsmoothed: every module stays a sharp-edged square or bar.
    painter.drawImage(_qrect(arrangement.code, x0, y0, scale), symbol_image(arrangement.symbol))
    centred = arrangement.symbol.rows == 1
    for box in arrangement.texts:
        _draw_text(painter, box, _qrect(box.rect, x0, y0, scale), scale, centred)


def preview_image(content: LabelContent, layout: Layout, pixels_per_mm: float = 8.0) -> QImage:
    """The first label as it will print, on white with a thin outline of the label's edge."""
    width, height = layout.label_size
    arrangement = arrange(content, width, height)
    image = QImage(
        round(width * pixels_per_mm) + 2,
        round(height * pixels_per_mm) + 2,
        QImage.Format.Format_RGB32,
    )
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.setPen(QColor(170, 170, 170))
    painter.drawRoundedRect(QRectF(0.5, 0.5, image.width() - 1, image.height() - 1), 6, 6)
    painter.setPen(QColor(0, 0, 0))
    paint_label(painter, arrangement, 1, 1, pixels_per_mm)
    painter.end()
    return image


def _page_size(layout: Layout) -> QPageSize:
    if isinstance(layout, SheetLayout):
        kind = QPageSize.PageSizeId.A4 if layout.page_name == "A4" else QPageSize.PageSizeId.Letter
        return QPageSize(kind)
    width, height = layout.label_size
    return QPageSize(QSizeF(width, height), QPageSize.Unit.Millimeter, layout.name)


def _places(layout: Layout, count: int, start: int) -> list[tuple[int, Rect]]:
    if isinstance(layout, ThermalLayout):
        width, height = layout.label_size
        return [(n, Rect(0.0, 0.0, width, height)) for n in range(count)]
    return layout.placements(count, start)


def render_pdf(
    labels: Sequence[LabelContent],
    layout: Layout,
    path: Path,
    *,
    start: int = 1,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """Writes the labels to a PDF (one sheet a page, or one label a page); returns the pages.

    Every label is arranged first, so a tag that cannot be printed is refused before any
    file is written; the file appears whole or not at all.
    """
    width, height = layout.label_size
    arranged = [arrange(label, width, height) for label in labels]
    places = _places(layout, len(arranged), start)
    temporary = path.with_name(f".{path.name}.part")
    try:
        pages = _write(arranged, places, layout, temporary, progress, cancelled)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("wrote %d labels on %d pages (%s)", len(arranged), pages, layout.name)
    return pages


def _write(
    arranged: list[Arrangement],
    places: list[tuple[int, Rect]],
    layout: Layout,
    temporary: Path,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> int:
    writer = QPdfWriter(str(temporary))
    writer.setResolution(PDF_DPI)
    writer.setTitle("FieldOps asset labels")
    writer.setCreator("FieldOps")
    writer.setPageLayout(
        QPageLayout(_page_size(layout), QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
    )
    scale = PDF_DPI / MM_PER_INCH
    painter = QPainter()
    if not painter.begin(writer):
        raise FieldOpsError(f"A PDF file cannot be written in {temporary.parent}.")
    painter.setPen(QColor(0, 0, 0))
    page = 0
    try:
        for done, (arrangement, (on_page, rect)) in enumerate(zip(arranged, places, strict=True)):
            if cancelled is not None and cancelled():
                raise LabelsCancelled("Labels stopped; no file was written.")
            while page < on_page:
                writer.newPage()
                page += 1
            paint_label(painter, arrangement, rect.x * scale, rect.y * scale, scale)
            if progress is not None:
                progress(done + 1, len(arranged))
    finally:
        painter.end()
    return page + 1

"""Reading labels back: a PDF page rasterised with QtPdf, each label cut out and decoded."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtPdf import QPdfDocument

from fieldops.labels.layouts import MM_PER_INCH, Rect
from fieldops.media.barcodes import DecodedCode, decode_image

DPI = 300


def open_pdf(path: Path) -> QPdfDocument:
    """A loaded PDF document; fails the test when QtPdf cannot read it."""
    document = QPdfDocument()
    assert document.load(str(path)) == QPdfDocument.Error.None_, f"{path} is not a PDF"
    return document


def page_image(document: QPdfDocument, page: int, dpi: int = DPI) -> Image.Image:
    """One page as a grey PIL image at `dpi`."""
    size = document.pagePointSize(page)
    width, height = round(size.width() / 72 * dpi), round(size.height() / 72 * dpi)
    image = document.render(page, QSize(width, height)).convertToFormat(
        QImage.Format.Format_RGBA8888
    )
    raw = bytes(image.constBits())[: image.bytesPerLine() * image.height()]
    rgba = Image.frombuffer("RGBA", (width, height), raw, "raw", "RGBA", image.bytesPerLine(), 1)
    # The page comes back transparent where nothing is drawn: paper is white.
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, rgba).convert("L")


def crop(page: Image.Image, rect: Rect, dpi: int = DPI) -> Image.Image:
    """The part of a page image under a label rectangle (mm)."""
    f = dpi / MM_PER_INCH
    return page.crop(
        (round(rect.x * f), round(rect.y * f), round(rect.right * f), round(rect.bottom * f))
    )


def decode_one(image: Image.Image, zxing_format: str) -> DecodedCode:
    """The text of the single code in a label image; fails unless exactly one is there."""
    codes = decode_image(image, [zxing_format])
    assert len(codes) == 1, f"expected one {zxing_format}, found {[c.text for c in codes]}"
    return codes[0]

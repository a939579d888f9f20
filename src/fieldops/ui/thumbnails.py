"""Showing photo thumbnails: always from the prepared thumbnail bytes, never QPixmap(path).

A plain QPixmap(path) of an original ignores its EXIF orientation and decodes it at full size;
the media layer's thumbnails are already upright and small. The bytes are read in a background
lane; only the decoding of these small JPEGs happens here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap

THUMB_SIZE = QSize(150, 150)


def read_thumbnail(path: Path | None) -> bytes | None:
    """The thumbnail's bytes (call from a lane), or None when it is missing."""
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def pixmap_from_bytes(data: bytes | None, size: QSize = THUMB_SIZE) -> QPixmap | None:
    """A scaled pixmap from thumbnail bytes, or None if they are not a picture."""
    if not data:
        return None
    image = QImage()
    if not image.loadFromData(data):
        return None
    return QPixmap.fromImage(image).scaled(
        size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )

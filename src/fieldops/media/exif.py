"""Reading the few EXIF facts FieldOps cares about, and writing the little it keeps."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PIL import Image

logger = logging.getLogger(__name__)

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
GPS_VERSION_ID = 0x0000

# Capture time is the one thing a copy that leaves the device keeps (with its sub-second
# and time-zone companions). Everything else, serial numbers and maker notes included,
# is dropped by not being copied.
_KEPT_CAPTURE_TAGS = (
    0x9003,  # DateTimeOriginal
    0x9011,  # OffsetTimeOriginal
    0x9291,  # SubSecTimeOriginal
)

# How to turn stored pixels upright for each EXIF orientation value.
_UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_XMP_GPS_KEYS = (b"gpslatitude", b"gpslongitude")


@dataclass(frozen=True, slots=True)
class ExifFacts:
    """Orientation, whether a location is present, and the capture time, from one image."""

    orientation: int = 1
    has_gps: bool = False
    captured: dict[int, str] | None = None


def read_facts(raw_exif: bytes | Image.Exif | None, xmp: bytes | None) -> ExifFacts:
    """Orientation (1-8), GPS presence and capture time from EXIF (raw or parsed) and XMP."""
    xmp_gps = _xmp_has_gps(xmp)
    if not raw_exif:
        return ExifFacts(has_gps=xmp_gps)
    try:
        exif = raw_exif if isinstance(raw_exif, Image.Exif) else _parsed(raw_exif)
        orientation = exif.get(ORIENTATION, 1)
        gps_tags = set(exif.get_ifd(GPS_IFD)) - {GPS_VERSION_ID}
        captured = _capture_tags(exif)
    except Exception:  # Pillow raises many kinds of error on malformed EXIF
        # Unreadable EXIF gives no trustworthy orientation; the pixels are shown as stored.
        logger.warning("photo EXIF is malformed and was ignored", exc_info=True)
        # Other tools may still find a location in it, so any GPS directory tag id counts.
        pointer = (b"\x88\x25", b"\x25\x88")
        raw = raw_exif if isinstance(raw_exif, bytes) else b""
        return ExifFacts(has_gps=xmp_gps or any(p in raw for p in pointer))
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1
    return ExifFacts(orientation, bool(gps_tags) or xmp_gps, captured or None)


def _parsed(raw_exif: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.load(raw_exif)
    return exif


def _capture_tags(exif: Image.Exif) -> dict[int, str]:
    sub_ifd = exif.get_ifd(EXIF_IFD)
    kept: dict[int, str] = {}
    for tag in _KEPT_CAPTURE_TAGS:
        value = sub_ifd.get(tag)
        if isinstance(value, str) and 0 < len(value) <= 64:
            kept[tag] = value.strip("\x00")
    return kept


def _xmp_has_gps(xmp: bytes | None) -> bool:
    if not xmp:
        return False
    lowered = xmp.lower()
    return any(key in lowered for key in _XMP_GPS_KEYS)


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """The image with its pixels turned as the EXIF orientation says (a copy unless 1)."""
    method = _UPRIGHT.get(orientation)
    return image if method is None else image.transpose(method)


def shown_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """Width and height as displayed, for a stored size and an EXIF orientation."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def privacy_exif(facts: ExifFacts) -> bytes:
    """EXIF for a copy that leaves the device: capture time only, no orientation, no GPS."""
    if not facts.captured:
        return b""
    exif = Image.Exif()
    sub_ifd = exif.get_ifd(EXIF_IFD)
    for tag, value in facts.captured.items():
        sub_ifd[tag] = value
    return exif.tobytes()
